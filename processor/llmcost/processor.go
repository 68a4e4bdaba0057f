package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"context"
	"sync"

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
	dedup      *dedup // traces only
	// cands is the scratch list of a batch's inference spans, pooled.
	cands sync.Pool
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
	if sig == signalSpans {
		p.dedup = newDedup(cfg.Deduplication.MaxCalls)
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

// batchCounts are what one call of the processor counts.
type batchCounts struct {
	status                  [numStatus]int64
	mismatches, unknownTier int64
}

func (b *batchCounts) add(rec *record, st int) {
	b.status[st]++
	if rec.mismatch {
		b.mismatches++
	}
	if rec.unknownTier {
		b.unknownTier++
	}
}

// isCall reports whether a status is given to a span that describes one LLM call
// (counted as a request), which may be a duplicate of another span of the call.
func isCall(st int) bool { return st >= 0 && st != idxSkipped && st != idxDuplicate }

func (p *llmCostProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	var counts batchCounts
	var rec record
	cands, _ := p.cands.Get().(*[]candidate)
	if cands == nil {
		cands = new([]candidate)
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := ss.Scope().Name()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				st := p.eng.process(&rec, span.Attributes(), span.Name(), scope, int64(span.StartTimestamp()))
				if st < 0 {
					continue
				}
				counts.add(&rec, st)
				// A span without ids (invalid OTLP) cannot be told from another: it is
				// priced on its own.
				if isCall(st) && !span.TraceID().IsEmpty() && !span.SpanID().IsEmpty() {
					*cands = append(*cands, candidate{span: span, trace: span.TraceID(), id: span.SpanID(),
						parent: span.ParentSpanID(), status: st, call: rec.call, mismatch: rec.mismatch})
				}
			}
		}
	}
	p.dedup.resolve(td, *cands, &counts)
	clear(*cands) // the candidates point into the batch
	*cands = (*cands)[:0]
	p.cands.Put(cands)
	p.count(ctx, &counts)
	return td, nil
}

func (p *llmCostProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var counts batchCounts
	var rec record
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			scope := sls.At(j).Scope().Name()
			logs := sls.At(j).LogRecords()
			for k := 0; k < logs.Len(); k++ {
				lr := logs.At(k)
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				if st := p.eng.process(&rec, lr.Attributes(), "", scope, int64(ts)); st >= 0 {
					counts.add(&rec, st)
				}
			}
		}
	}
	p.count(ctx, &counts)
	return ld, nil
}

func (p *llmCostProcessor) count(ctx context.Context, counts *batchCounts) {
	for i, n := range counts.status {
		if n > 0 {
			p.counter.Add(ctx, n, p.statusOpts[i])
		}
	}
	if counts.mismatches > 0 {
		p.tb.ProcessorLlmCostProvidedCostMismatches.Add(ctx, counts.mismatches)
	}
	if counts.unknownTier > 0 {
		p.tb.ProcessorLlmCostUnknownServiceTiers.Add(ctx, counts.unknownTier)
	}
}
