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
		Env:     map[string]string{"OTLP_TRACES_ENDPOINT": addr, "OTLP_TRACES_INSECURE": "true"},
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

// TestTracesBackendOverlayKeepsDefaultExporters guards the overlay's restated exporters
// list: whatever the default traces pipeline exports to, the overlay must keep.
func TestTracesBackendOverlayKeepsDefaultExporters(t *testing.T) {
	exporters := func(path string) []string {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var doc struct {
			Service struct {
				Pipelines map[string]struct {
					Exporters []string `yaml:"exporters"`
				} `yaml:"pipelines"`
			} `yaml:"service"`
		}
		require.NoError(t, yaml.Unmarshal(b, &doc))
		return doc.Service.Pipelines["traces"].Exporters
	}
	def := exporters(harness.DefaultConfig())
	overlay := exporters(harness.RepoRoot() + "/config/overlays/traces-backend.yaml")
	require.NotEmpty(t, def)
	assert.Subset(t, overlay, def, "config/overlays/traces-backend.yaml must restate every exporter of the default traces pipeline")
}
