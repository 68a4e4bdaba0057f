package sentryerrors

import (
	"net"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"

	"go.opentelemetry.io/otel/attribute"
)

func attributeKey(k string) attribute.Key { return attribute.Key(k) }

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func mustTelemetryBuilder(t *testing.T) *metadata.TelemetryBuilder {
	t.Helper()
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tb.Shutdown)
	return tb
}

func srvClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

// encodeEvent encodes a mapped event as the exporter sends it.
func encodeEvent(me mappedEvent) ([]byte, int, error) {
	return sentryevent.Encode(me.event)
}
