package tests

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// A URL price source that is down keeps llm_cost pricing (last good copy or embedded
// table), and every replica fetching the same URL sees it down at once: it must not take
// the collector out of rotation. recovery_duration is shortened from its 5m default.
func TestPriceSourceDownKeepsTheCollectorReady(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + closed.Addr().String() + "/data.json"
	require.NoError(t, closed.Close())
	sink := newSpanSink(t)
	short := writeFile(t, "short-recovery.yaml", "extensions:\n  readiness:\n    recovery_duration: 2s\n")
	c := harness.Start(t, harness.Options{Configs: []string{writeFile(t, "base.yaml", ownTelemetryOnly),
		priceSourceConfig(t, url, filepath.Join(t.TempDir(), "store"), sink.srv.URL, time.Hour), short}})
	time.Sleep(5 * time.Second) // past recovery_duration
	code, body, err := c.Get(c.ReadinessURL("/ready?verbose"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "a price source down takes the collector out of rotation: %s", body)
	_, health, _ := c.Get(c.ReadinessURL("/health?verbose"))
	assert.Contains(t, health, "price_files[0]", "/health still says which source fails")
}
