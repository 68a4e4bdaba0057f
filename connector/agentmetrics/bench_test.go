package agentmetrics

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/procode-ai/otelcol-procode/internal/agenttraces"
	"github.com/procode-ai/otelcol-procode/processor/llmcost"
)

// pricedBatch is about 1,000 spans of realistic agent traces as llm_cost leaves them.
func pricedBatch(b *testing.B) ptrace.Traces {
	td := ptrace.NewTraces()
	agenttraces.New(agenttraces.DefaultOptions()).Batch(td, 1000)
	f := llmcost.NewFactory()
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		b.Fatal(err)
	}
	return sink.AllTraces()[0]
}

// BenchmarkConsumeTraces is the connector's cost per span on a warm set of series.
func BenchmarkConsumeTraces(b *testing.B) {
	td := pricedBatch(b)
	c, _ := newTestConnector(&testing.T{})
	if err := c.ConsumeTraces(context.Background(), td); err != nil {
		b.Fatal(err)
	}
	n := td.SpanCount()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.ConsumeTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/span")
}
