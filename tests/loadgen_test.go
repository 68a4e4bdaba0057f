package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/internal/loadgen"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestLoadGeneratorDeliversEverySpan runs the load generator against the default
// config over gRPC and over HTTP and checks that what it reports as sent is exactly
// what the collector accepted, and that LLM series appear from its traffic.
func TestLoadGeneratorDeliversEverySpan(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	var sent int64
	for _, proto := range []string{"grpc", "http"} {
		cfg := loadgen.DefaultConfig()
		cfg.Protocol = proto
		cfg.Endpoint = c.OTLPGRPCEndpoint()
		if proto == "http" {
			cfg.Endpoint = c.OTLPHTTPEndpoint()
		}
		cfg.Rate, cfg.Duration, cfg.Batch, cfg.Conns = 3000, 3*time.Second, 200, 2
		rep, err := loadgen.Run(context.Background(), cfg)
		require.NoError(t, err)
		assert.Zero(t, rep.Failed, "%s: %s", proto, rep.LastError)
		assert.Zero(t, rep.Refused, proto)
		assert.InDelta(t, 3000, rep.SpansPerSecond, 600, "%s: paced near the target rate", proto)
		assert.Greater(t, rep.LatencyP99Ms, 0.0)
		sent += rep.SpansSent
	}
	harness.Eventually(t, 30*time.Second, func() string {
		own, err := harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		accepted, _ := own.Sum("otelcol_receiver_accepted_spans", nil)
		if int64(accepted) != sent {
			return fmt.Sprintf("collector accepted %v spans, load generator sent %d", accepted, sent)
		}
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if v, _ := fams.Sum("llm_cost_usd_total", nil); v <= 0 {
			return "no LLM cost from the generated traffic yet"
		}
		return ""
	})
	c.Stop(30 * time.Second)
}
