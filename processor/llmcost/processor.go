package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
)

type signal int

const (
	signalSpans signal = iota
	signalLogs
)

type llmCostProcessor struct {
	eng      *engine
	reloader *reloader
	shared   *pricer // the engine and reloader of the configured component (shared.go)
	released bool    // shut down already: the shared pricer is released once
	tb       *metadata.TelemetryBuilder
	counter  metric.Int64Counter
	// One prebuilt option per status, so counting allocates nothing.
	statusOpts [numStatus]metric.AddOption
}

func newProcessor(set processor.Settings, cfg *Config, sig signal) (*llmCostProcessor, error) {
	shared, err := acquirePricer(set, cfg)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		_ = shared.release(context.Background())
		return nil, err
	}
	p := &llmCostProcessor{eng: shared.eng, reloader: shared.reloader, shared: shared, tb: tb}
	p.counter = tb.ProcessorLlmCostSpans
	if sig == signalLogs {
		p.counter = tb.ProcessorLlmCostLogRecords
	}
	for i, s := range statusNames {
		p.statusOpts[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("status", s)))
	}
	return p, nil
}

func (s signal) String() string {
	if s == signalLogs {
		return "logs"
	}
	return "traces"
}

func (p *llmCostProcessor) start(ctx context.Context, host component.Host) error {
	return p.shared.start(ctx, host)
}

func (p *llmCostProcessor) shutdown(ctx context.Context) error {
	if p.released {
		return nil
	}
	p.released = true
	err := p.shared.release(ctx)
	p.tb.Shutdown()
	return err
}

func (p *llmCostProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var counts [numStatus]int64
	var rec record
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				if st := p.eng.process(&rec, span.Attributes(), span.Name(), int64(span.StartTimestamp())); st >= 0 {
					counts[st]++
				}
			}
		}
	}
	p.count(ctx, &counts)
	return td, nil
}

func (p *llmCostProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var counts [numStatus]int64
	var rec record
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			logs := sls.At(j).LogRecords()
			for k := 0; k < logs.Len(); k++ {
				lr := logs.At(k)
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				if st := p.eng.process(&rec, lr.Attributes(), "", int64(ts)); st >= 0 {
					counts[st]++
				}
			}
		}
	}
	p.count(ctx, &counts)
	return ld, nil
}

func (p *llmCostProcessor) count(ctx context.Context, counts *[numStatus]int64) {
	for i, n := range counts {
		if n > 0 {
			p.counter.Add(ctx, n, p.statusOpts[i])
		}
	}
}
