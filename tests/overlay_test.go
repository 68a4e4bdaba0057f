package tests

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"gopkg.in/yaml.v3"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// traceSink is an OTLP gRPC trace backend that records the span names it receives.
type traceSink struct {
	ptraceotlp.UnimplementedGRPCServer
	spans chan string
}

func (s *traceSink) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s.spans <- spans.At(k).Name()
			}
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func startTraceSink(t *testing.T) (*traceSink, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	sink := &traceSink{spans: make(chan string, 1000)}
	ptraceotlp.RegisterGRPCServer(srv, sink)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return sink, l.Addr().String()
}

func TestTracesBackendOverlayForwardsSpans(t *testing.T) {
	sink, addr := startTraceSink(t)
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), harness.RepoRoot() + "/config/overlays/traces-backend.yaml"},
		// Keep every trace, decide quickly: sampling itself is tests/sampling_test.go's job.
		Env: map[string]string{"OTLP_TRACES_ENDPOINT": addr, "OTLP_TRACES_INSECURE": "true",
			"TRACES_SAMPLE_PERCENTAGE": "100", "TRACES_DECISION_WAIT": "1s"},
	})
	tp := harness.TracerProvider(t, c, "e2e-app")
	_, span := tp.Tracer("e2e").Start(context.Background(), "forward me")
	span.End()
	require.NoError(t, tp.ForceFlush(context.Background()))

	select {
	case name := <-sink.spans:
		assert.Equal(t, "forward me", name)
	case <-time.After(20 * time.Second):
		t.Fatalf("the backend received no span:\n%s", c.Logs())
	}
	c.Stop(30 * time.Second)
}

// TestTracesBackendOverlayLeavesDefaultPipelines guards what the overlay must not do:
// lists are replaced when configs merge, so an overlay that named the default traces
// pipeline (or any other default pipeline) would silently drop its exporters, and with
// them span metrics, LLM metrics or error reports. The overlay adds its own pipeline.
func TestTracesBackendOverlayLeavesDefaultPipelines(t *testing.T) {
	pipelines := func(path string) map[string]any {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var doc struct {
			Service struct {
				Pipelines map[string]any `yaml:"pipelines"`
			} `yaml:"service"`
		}
		require.NoError(t, yaml.Unmarshal(b, &doc))
		return doc.Service.Pipelines
	}
	def := pipelines(harness.DefaultConfig())
	require.NotEmpty(t, def)
	for file, own := range map[string]string{"traces-backend.yaml": "traces/backend", "sentry.yaml": "traces/sentry"} {
		overlay := pipelines(harness.RepoRoot() + "/config/overlays/" + file)
		require.Contains(t, overlay, own)
		for name := range overlay {
			assert.NotContains(t, def, name, "config/overlays/%s must not redefine the default pipeline %q", file, name)
		}
	}
}
