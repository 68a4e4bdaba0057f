package llmcost

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadatatest"
)

func chatAttrs(model string, in, out int) map[string]any {
	return map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
		"gen_ai.request.model": model, "gen_ai.usage.input_tokens": in, "gen_ai.usage.output_tokens": out}
}

func process(t *testing.T, cfg *Config, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	sink := new(consumertest.TracesSink)
	require.NoError(t, newTracesProcessor(t, cfg, sink).ConsumeTraces(context.Background(), td))
	return sink.AllTraces()[0]
}

func TestNonLLMSpansAreLeftAlone(t *testing.T) {
	td := oneSpan("GET /api/orders", sept2025, map[string]any{"http.request.method": "GET", "http.route": "/api/orders",
		"gen_ai.tool.name": "search"})
	want := ptrace.NewTraces()
	td.CopyTo(want)
	got := process(t, createDefaultConfig().(*Config), td)
	assert.Equal(t, want, got)

	// A tool execution is a GenAI span but not an LLM call.
	td = oneSpan("execute_tool search", sept2025, map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"})
	got = process(t, createDefaultConfig().(*Config), td)
	assert.Equal(t, 2, firstSpanAttrs(got).Len())
}

func TestAlreadyPricedUpstreamIsUntouched(t *testing.T) {
	attrs := chatAttrs("gpt-4o", 1000, 100)
	attrs[attrStatus] = "unpriced"
	td := oneSpan("chat", sept2025, attrs)
	want := ptrace.NewTraces()
	td.CopyTo(want)
	assert.Equal(t, want, process(t, createDefaultConfig().(*Config), td),
		"an agent collector and a gateway both running llm_cost must not price twice")
}

func TestProvidedCostSwitchedOff(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ProvidedCost = "ignore"
	attrs := chatAttrs("gpt-4o", 1000, 100)
	attrs[attrCost] = 1.23
	attrs["operation.cost"] = 4.56
	a := firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, attrs)))
	st, _ := a.Get(attrStatus)
	assert.Equal(t, "priced", st.Str())
	c, _ := a.Get(attrCost)
	assert.InDelta(t, mtok(1000, 2.5)+mtok(100, 10), c.Double(), 1e-12)
	prev, _ := a.Get(attrProvidedCost)
	assert.InDelta(t, 1.23, prev.Double(), 0, "the app's figure is kept beside ours")
	op, _ := a.Get("operation.cost")
	assert.InDelta(t, 4.56, op.Double(), 0)
}

func TestBadProvidedCostIsInvalid(t *testing.T) {
	attrs := chatAttrs("gpt-4o", 1000, 100)
	attrs["operation.cost"] = "NaN"
	a := firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025, attrs)))
	st, _ := a.Get(attrStatus)
	assert.Equal(t, "invalid", st.Str())
	e, _ := a.Get(attrError)
	assert.Equal(t, `operation.cost: not a valid amount ("NaN")`, e.Str())
	_, has := a.Get(attrCost)
	assert.False(t, has)
}

// An app's cost that is not an amount: gen_ai.usage.cost is taken off the invalid call
// (consumers sum it), also when it is a number out of range; and with provided_cost:
// ignore (the runbook's fix for such an app) it is not looked at: the call is priced,
// and llm_cost.note says what was ignored.
func TestBadProvidedCost(t *testing.T) {
	attrs := chatAttrs("gpt-4o", 1000, 100)
	attrs[attrCost] = 1500.0
	a := firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025, attrs)))
	assert.Equal(t, statusInvalid, str(a, attrStatus))
	assert.Equal(t, `gen_ai.usage.cost: over 1000 USD for one call, not a plausible amount ("1500")`, str(a, attrError))
	_, has := a.Get(attrCost)
	assert.False(t, has, "an invalid call carries no gen_ai.usage.cost")

	for _, bad := range []map[string]any{{attrCost: 1500.0}, {attrCost: "abc"}, {"operation.cost": "NaN"}} {
		cfg := createDefaultConfig().(*Config)
		cfg.ProvidedCost = "ignore"
		attrs := chatAttrs("gpt-4o", 1000, 100)
		for k, v := range bad {
			attrs[k] = v
		}
		a := firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, attrs)))
		assert.Equal(t, statusPriced, str(a, attrStatus), "%v", bad)
		c, _ := a.Get(attrCost)
		assert.InDelta(t, mtok(1000, 2.5)+mtok(100, 10), c.Double(), 1e-12, "%v", bad)
		assert.Contains(t, str(a, attrNote), "ignored", "%v", bad)
		_, kept := a.Get(attrProvidedCost)
		assert.False(t, kept, "%v: not an amount to keep", bad)
	}
}

// A call without token counts (a stream whose library records none) is no_usage: not
// priced, not an error. A call without a model name cannot be priced: invalid.
func TestNoUsageIsNotInvalid(t *testing.T) {
	a := firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025,
		map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"})))
	st, _ := a.Get(attrStatus)
	assert.Equal(t, statusNoUsage, st.Str())
	_, hasErr := a.Get(attrError)
	assert.False(t, hasErr, "no usage is no error")
	_, hasCost := a.Get(attrCost)
	assert.False(t, hasCost)
	m, _ := a.Get(attrModel)
	assert.Equal(t, "gpt-4o", m.Str(), "the model is still resolved, for the request count's label")

	a = firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025,
		map[string]any{"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 5})))
	e, _ := a.Get(attrError)
	assert.Equal(t, "no model name reported", e.Str())
}

func TestErrorIsBounded(t *testing.T) {
	attrs := chatAttrs("gpt-4o", 1, 1)
	attrs["gen_ai.usage.input_tokens"] = "x" + string(make([]byte, 5000))
	a := firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025, attrs)))
	e, _ := a.Get(attrError)
	assert.LessOrEqual(t, len(e.Str()), maxErrorLen)
	assert.Contains(t, e.Str(), "gen_ai.usage.input_tokens: not a number")
}

func TestUnpricedModelLabelsAreBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.UnpricedModelLimit = 2
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 4; i++ {
		s := spans.AppendEmpty()
		s.SetName("chat")
		require.NoError(t, s.Attributes().FromRaw(chatAttrs(fmt.Sprintf("private-model-%d", i), 10, 1)))
	}
	long := spans.AppendEmpty()
	require.NoError(t, long.Attributes().FromRaw(chatAttrs("private-model-0", 10, 1)))
	got := process(t, cfg, td).ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	var labels []string
	for i := 0; i < got.Len(); i++ {
		m, _ := got.At(i).Attributes().Get(attrModel)
		labels = append(labels, m.Str())
	}
	assert.Equal(t, []string{"private-model-0", "private-model-1", "_other", "_other", "private-model-0"}, labels)

	cfg = createDefaultConfig().(*Config)
	a := firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, chatAttrs(strings.Repeat("é", 80), 1, 1))))
	m, _ := a.Get(attrModel)
	assert.LessOrEqual(t, len(m.Str()), maxLabelLen)
	assert.True(t, utf8.ValidString(m.Str()), "labels are cut on a rune boundary")
}

func TestResolutionCacheIsBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CacheSize = 3
	table, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, signalSpans)
	require.NoError(t, err)
	e := table.eng
	var rec record
	models := []string{"gpt-4o", "gpt-4o-mini", "o3", "gpt-4.1", "gpt-5", "gpt-4o"}
	for _, m := range models {
		attrs := pcommon.NewMap()
		require.NoError(t, attrs.FromRaw(chatAttrs(m, 10, 10)))
		require.Equal(t, idxPriced, e.process(&rec, attrs, "chat", "test", sept2025.UnixNano()), m)
		got, _ := attrs.Get(attrModel)
		assert.Equal(t, m, got.Str())
		assert.LessOrEqual(t, len(e.snap.Load().cache), 3)
	}
}

// TestOverlongNamesAreUnpricedUncached: a model or provider name longer than any price
// entry could match is unpriced without being resolved or cached (resolving a 1 MiB
// name took half a second, and caching thousands of them gigabytes); a provider value
// of thousands of '.'-segments is looked up by its first bytes only.
func TestOverlongNamesAreUnpricedUncached(t *testing.T) {
	p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), createDefaultConfig().(*Config), signalSpans)
	require.NoError(t, err)
	e := p.eng
	var rec record
	for _, tc := range []struct{ provider, model string }{
		{"openai", "gpt-4o-" + strings.Repeat("x", maxNameLen)},
		{strings.Repeat("openai.", 100_000), "gpt-4o-" + strings.Repeat("x", maxNameLen)},
		{"openai", strings.Repeat("gpt-4o/", 150_000)},
	} {
		attrs := pcommon.NewMap()
		raw := chatAttrs(tc.model, 10, 10)
		raw["gen_ai.provider.name"] = tc.provider
		require.NoError(t, attrs.FromRaw(raw))
		require.Equal(t, idxUnpriced, e.process(&rec, attrs, "chat", "test", sept2025.UnixNano()))
		_, hasCost := attrs.Get(attrCost)
		assert.False(t, hasCost)
		label, _ := attrs.Get(attrModel)
		assert.LessOrEqual(t, len(label.Str()), maxLabelLen)
		assert.Empty(t, e.snap.Load().cache, "not cached")
	}
	// The same provider value, short enough to resolve: still found by its first segment.
	assert.Equal(t, "openai", canonicalProvider(0, "openai."+strings.Repeat("a.", 100_000)))
	assert.Equal(t, "aws.bedrock", canonicalProvider(0, "AWS.Bedrock."+strings.Repeat("x", 1<<20)))
	assert.Equal(t, strings.Repeat("a", maxLabelLen), canonicalProvider(0, strings.Repeat("a", 1<<20)))

	// A label kept in the bounded set of unpriced names is its own copy, not a window
	// onto (and so a reference keeping alive) the whole attribute value.
	long := strings.Repeat("m", 1<<20)
	label := e.labels.label(long)
	start := uintptr(unsafe.Pointer(unsafe.StringData(long)))
	at := uintptr(unsafe.Pointer(unsafe.StringData(label)))
	assert.False(t, at >= start && at < start+uintptr(len(long)), "the label shares the attribute's memory")
}

func TestSpansCountedByStatus(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), set, createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	add := func(name string, attrs map[string]any) {
		s := spans.AppendEmpty()
		s.SetName(name)
		require.NoError(t, s.Attributes().FromRaw(attrs))
	}
	add("chat", chatAttrs("gpt-4o", 10, 1))
	add("chat", chatAttrs("gpt-4o", 10, 1))
	add("chat", chatAttrs("nope-model", 10, 1))
	add("chat", chatAttrs("gpt-4o", -1, 1))
	add("invoke_agent a", map[string]any{"gen_ai.operation.name": "invoke_agent"})
	add("GET /", map[string]any{"http.request.method": "GET"})
	require.NoError(t, p.ConsumeTraces(context.Background(), td))

	dp := func(status string, n int64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: n, Attributes: attribute.NewSet(attribute.String("status", status))}
	}
	metadatatest.AssertEqualProcessorLlmCostSpans(t, tel, []metricdata.DataPoint[int64]{
		dp("priced", 2), dp("unpriced", 1), dp("invalid", 1), dp("skipped", 1),
	}, metricdatatest.IgnoreTimestamp())
}

func TestLogRecordsCountedByStatus(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(tel), createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	attrs := chatAttrs("in-house-model", 10, 1) // not in the table: the app's cost is used
	attrs[attrCost] = 0.5
	require.NoError(t, p.ConsumeLogs(context.Background(), oneLog(sept2025, attrs)))
	metadatatest.AssertEqualProcessorLlmCostLogRecords(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("status", "provided"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestStartTimeZeroUsesNow(t *testing.T) {
	td := oneSpan("chat", time.Unix(0, 0), chatAttrs("gpt-4o", 1000, 0))
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetStartTimestamp(0)
	a := firstSpanAttrs(process(t, createDefaultConfig().(*Config), td))
	c, _ := a.Get(attrCost)
	assert.InDelta(t, mtok(1000, 2.5), c.Double(), 1e-12)
}

// TestImplausibleCostsAreInvalid: one call is never priced, nor its own cost kept, above
// 1000 USD: a client claiming 1e15 USD or 1e11 tokens would otherwise add that to
// every cost total and alert.
func TestImplausibleCostsAreInvalid(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	spoofed := chatAttrs("gpt-4o", 10, 10)
	spoofed["gen_ai.usage.cost"] = "5e14"
	a := firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, spoofed)))
	status, _ := a.Get(attrStatus)
	reason, _ := a.Get(attrError)
	assert.Equal(t, statusInvalid, status.Str())
	assert.Contains(t, reason.Str(), "over 1000 USD for one call")

	a = firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, chatAttrs("gpt-4o", 100_000_000_000, 10))))
	status, _ = a.Get(attrStatus)
	reason, _ = a.Get(attrError)
	assert.Equal(t, statusInvalid, status.Str())
	assert.Contains(t, reason.Str(), "prices at over 1000 USD")
	_, hasCost := a.Get(attrCost)
	assert.False(t, hasCost)

	a = firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, chatAttrs("gpt-4o", 2_000_000, 100_000))))
	status, _ = a.Get(attrStatus)
	assert.Equal(t, statusPriced, status.Str(), "a very large but possible call is priced")
}
