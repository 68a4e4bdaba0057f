package llmcost

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// mtok is a price in USD per million tokens applied to n tokens: tests compute
// expected costs from the published prices with it.
func mtok(n, usdPerMillion float64) float64 { return n * usdPerMillion / 1e6 }

// newTracesProcessor starts a traces processor with cfg that forwards to sink.
func newTracesProcessor(t *testing.T, cfg *Config, sink *consumertest.TracesSink) processor.Traces {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func newLogsProcessor(t *testing.T, cfg *Config, sink *consumertest.LogsSink) processor.Logs {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	p, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

// oneSpan builds a trace with a single span carrying attrs.
func oneSpan(name string, start time.Time, attrs map[string]any) ptrace.Traces {
	return oneSpanIn("test", name, start, attrs)
}

// oneSpanIn builds a trace with a single span of an instrumentation scope.
func oneSpanIn(scope, name string, start time.Time, attrs map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-app")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(scope)
	span := ss.Spans().AppendEmpty()
	span.SetName(name)
	span.SetKind(ptrace.SpanKindClient)
	span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(1500 * time.Millisecond)))
	if err := span.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return td
}

func oneLog(ts time.Time, attrs map[string]any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "agent-app")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.SetEventName("gen_ai.client.inference.operation.details")
	if err := lr.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return ld
}

func firstSpanAttrs(td ptrace.Traces) pcommon.Map {
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
}

// rates are a model's prices in the built-in table (USD per million tokens), for
// expected costs that follow the price data when it is regenerated. Token types
// without a price of their own carry the price they fall back to (pricing.Cost).
type rates struct{ in, out, cacheRead, cacheWrite, cacheWrite1h, reasoning float64 }

// tableRatesAt returns a model's rates for a call of totalInput input tokens (long
// context tiers) at the golden tests' date.
func tableRatesAt(tb testing.TB, provider, model string, totalInput int64) rates {
	tb.Helper()
	t, err := pricing.Builtin()
	require.NoError(tb, err)
	m, _ := t.Resolve(provider, model, nil)
	require.NotNil(tb, m, "%s/%s is not in the built-in table", provider, model)
	ps := m.PricesAt(sept2025.UnixNano())
	at := func(r *pricing.Rate, fallback float64) float64 {
		if r == nil {
			return fallback
		}
		return r.At(totalInput)
	}
	var r rates
	r.in, r.out = at(ps.Input, 0), at(ps.Output, 0)
	r.cacheRead, r.cacheWrite = at(ps.CacheRead, r.in), at(ps.CacheWrite, r.in)
	r.cacheWrite1h, r.reasoning = at(ps.CacheWrite1h, r.cacheWrite), at(ps.Reasoning, r.out)
	return r
}

func tableRates(tb testing.TB, provider, model string) rates {
	return tableRatesAt(tb, provider, model, 0)
}

func newNopSettings() processor.Settings { return processortest.NewNopSettings(metadata.Type) }

// panicTB lets package-level test tables (the golden cases) read the table's rates.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                           {}
func (panicTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (panicTB) FailNow()                          { panic("tableRates failed") }

// ratesOf is tableRatesAt for package-level tables.
func ratesOf(provider, model string, totalInput int64) rates {
	return tableRatesAt(panicTB{}, provider, model, totalInput)
}
