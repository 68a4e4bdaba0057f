package llmcost

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

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

// testSpan is one span of a dedup scenario.
type testSpan struct {
	trace, id, parent byte // 0: none
	scope, name       string
	attrs             map[string]any
}

func spanID(b byte) pcommon.SpanID   { return pcommon.SpanID{7: b} }
func traceID(b byte) pcommon.TraceID { return pcommon.TraceID{15: b} }
func hexID(b byte) string            { id := spanID(b); return hex.EncodeToString(id[:]) }

// batchOf builds one batch of spans, each in its own scope.
func batchOf(t *testing.T, spans ...testSpan) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-app")
	for _, s := range spans {
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(s.scope)
		span := ss.Spans().AppendEmpty()
		span.SetName(s.name)
		if s.trace != 0 {
			span.SetTraceID(traceID(s.trace))
		}
		if s.id != 0 {
			span.SetSpanID(spanID(s.id))
		}
		if s.parent != 0 {
			span.SetParentSpanID(spanID(s.parent))
		}
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(sept2025))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(sept2025.Add(time.Second)))
		require.NoError(t, span.Attributes().FromRaw(s.attrs))
	}
	return td
}

// outcomes maps span id to its processed attributes, over every batch the sink got.
func outcomes(sink *consumertest.TracesSink) map[pcommon.SpanID]pcommon.Map {
	out := map[pcommon.SpanID]pcommon.Map{}
	for _, td := range sink.AllTraces() {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				spans := sss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					out[spans.At(k).SpanID()] = spans.At(k).Attributes()
				}
			}
		}
	}
	return out
}

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.AsString()
	}
	return ""
}

// The spans of one Anthropic call as OpenInference and @anthropic-ai/sdk 1.x write
// them (recorded from the real libraries, tests/node/llm): OpenInference's span is the
// parent, without a response id and without the 1-hour part of the cache writes.
func openInferenceAnthropic(trace, id, parent byte) testSpan {
	return testSpan{trace: trace, id: id, parent: parent, scope: "@arizeai/openinference-instrumentation-anthropic",
		name: "Anthropic Messages", attrs: map[string]any{
			"openinference.span.kind": "LLM", "llm.provider": "anthropic", "llm.system": "anthropic",
			"llm.model_name": "claude-sonnet-4-5-20250929", "llm.token_count.prompt": 5050, "llm.token_count.completion": 300,
			"llm.token_count.prompt_details.cache_read": 4000, "llm.token_count.prompt_details.cache_write": 1000,
		}}
}

func anthropicSDK(trace, id, parent byte, respID string) testSpan {
	return testSpan{trace: trace, id: id, parent: parent, scope: "com.anthropic.sdk.typescript",
		name: "anthropic.messages.create", attrs: map[string]any{
			"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5",
			"gen_ai.response.model": "claude-sonnet-4-5-20250929", "gen_ai.response.id": respID,
			"gen_ai.usage.input_tokens": 5050, "gen_ai.usage.cache_read.input_tokens": 4000,
			"gen_ai.usage.cache_write.input_tokens":                    1000,
			"anthropic.usage.cache_creation.ephemeral_5m_input_tokens": 600,
			"anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 400,
			"anthropic.response.service_tier":                          "standard",
			"gen_ai.usage.output_tokens":                               300,
		}}
}

// sonnetCacheCall is the call's cost from the table: 50 uncached input tokens, 4000
// cache reads, 600 5-minute and 400 1-hour cache writes, 300 output tokens.
func sonnetCacheCall(t *testing.T) float64 {
	r := tableRates(t, "anthropic", "claude-sonnet-4-5")
	return mtok(50, r.in) + mtok(4000, r.cacheRead) + mtok(600, r.cacheWrite) + mtok(400, r.cacheWrite1h) + mtok(300, r.out)
}

// Within one batch, whatever the order of its spans, the span with the most detail
// (the SDK's, with the 1-hour writes) is priced and the other names it.
func TestDuplicateWithinBatchEitherOrder(t *testing.T) {
	want := sonnetCacheCall(t)
	for _, order := range []string{"parent first", "child first"} {
		t.Run(order, func(t *testing.T) {
			parent, child := openInferenceAnthropic(1, 10, 1), anthropicSDK(1, 11, 10, "msg_1")
			spans := []testSpan{parent, child}
			if order == "child first" {
				spans = []testSpan{child, parent}
			}
			sink := new(consumertest.TracesSink)
			require.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(), batchOf(t, spans...)))
			got := outcomes(sink)
			sdk, oi := got[spanID(11)], got[spanID(10)]
			assert.Equal(t, statusPriced, str(sdk, attrStatus))
			cost, _ := sdk.Get(attrCost)
			assert.InDelta(t, want, cost.Double(), 1e-12)
			assert.Equal(t, statusDup, str(oi, attrStatus))
			assert.Equal(t, hexID(11), str(oi, attrDuplicateOf))
			_, hasCost := oi.Get(attrCost)
			assert.False(t, hasCost, "a duplicate carries no cost")
			_, hasBreakdown := oi.Get(attrBreakInput)
			assert.False(t, hasBreakdown)
			in, _ := oi.Get("gen_ai.usage.input_tokens")
			assert.Equal(t, int64(5050), in.Int(), "a duplicate keeps its usage")
		})
	}
}

// Across batches the first span seen is priced: its decision left with it. Either way
// exactly one span of the call is priced.
func TestDuplicateAcrossBatchesEitherOrder(t *testing.T) {
	want := sonnetCacheCall(t)
	for _, order := range []string{"parent first", "child first"} {
		t.Run(order, func(t *testing.T) {
			parent, child := openInferenceAnthropic(2, 20, 1), anthropicSDK(2, 21, 20, "msg_2")
			first, second := parent, child
			if order == "child first" {
				first, second = child, parent
			}
			sink := new(consumertest.TracesSink)
			p := newTracesProcessor(t, createDefaultConfig().(*Config), sink)
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, first)))
			// Other traffic in between.
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, anthropicSDK(3, 30, 0, "msg_3"))))
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, second)))
			got := outcomes(sink)
			a, b := got[spanID(first.id)], got[spanID(second.id)]
			assert.Equal(t, statusPriced, str(a, attrStatus), "the first seen is priced")
			assert.Equal(t, statusDup, str(b, attrStatus))
			assert.Equal(t, hexID(first.id), str(b, attrDuplicateOf))
			if order == "child first" {
				cost, _ := a.Get(attrCost)
				assert.InDelta(t, want, cost.Double(), 1e-12)
			}
		})
	}
}

// Three layers of one call across two batches: the SDK's span (usage) and the
// instrumentation's span over it (no usage, a duplicate of it) in one batch, the
// framework's span over both (usage) in the next. The framework's span matches the
// remembered span without usage, which was a duplicate, not counted on its own: the
// call is the SDK span's, already priced, and the framework's span its duplicate.
func TestAcrossBatchesDuplicateWithoutUsageNamesItsWinner(t *testing.T) {
	sdk := anthropicSDK(9, 92, 91, "")
	delete(sdk.attrs, "gen_ai.response.id")
	instr := testSpan{trace: 9, id: 91, parent: 90, scope: "@traceloop/instrumentation-anthropic", name: "anthropic.chat",
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.request.model": "claude-sonnet-4-5"}}
	framework := anthropicSDK(9, 90, 0, "")
	framework.scope, framework.name = "app-framework", "chat claude-sonnet-4-5"
	delete(framework.attrs, "gen_ai.response.id")
	sink := new(consumertest.TracesSink)
	p := newTracesProcessor(t, createDefaultConfig().(*Config), sink)
	require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, sdk, instr)))
	require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, framework)))
	got := outcomes(sink)
	assert.Equal(t, statusPriced, str(got[spanID(92)], attrStatus))
	assert.Equal(t, hexID(92), str(got[spanID(91)], attrDuplicateOf))
	assert.Equal(t, statusDup, str(got[spanID(90)], attrStatus), "the call is priced once")
	assert.Equal(t, hexID(92), str(got[spanID(90)], attrDuplicateOf))
}

// Spans naming the same response id are one call even when their usage differs
// (OpenLIT counts message_start's output token of an Anthropic stream twice): the
// span with more detail is priced, the other is its duplicate.
func TestSameResponseIDIsOneCall(t *testing.T) {
	sdk := anthropicSDK(4, 41, 40, "msg_stream")
	openlit := testSpan{trace: 4, id: 40, scope: "@openlit/instrumentation-anthropic", name: "chat claude-sonnet-4-5",
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.response.id": "msg_stream", "telemetry.sdk.name": "openlit",
			"gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 301, "gen_ai.usage.cache_read.input_tokens": 4000}}
	sink := new(consumertest.TracesSink)
	require.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(), batchOf(t, openlit, sdk)))
	got := outcomes(sink)
	assert.Equal(t, statusPriced, str(got[spanID(41)], attrStatus))
	assert.Equal(t, statusDup, str(got[spanID(40)], attrStatus))
	assert.Equal(t, hexID(41), str(got[spanID(40)], attrDuplicateOf))
}

// Two nested spans that claim one call but report different usage are both priced:
// which one is right is not guessed. Spans whose response ids differ are different
// calls whatever else they share.
func TestDifferentUsageOrResponseIsNotADuplicate(t *testing.T) {
	parent, child := openInferenceAnthropic(5, 50, 0), anthropicSDK(5, 51, 50, "msg_5")
	child.attrs["gen_ai.usage.output_tokens"] = 299
	a, b := anthropicSDK(6, 60, 0, "msg_6a"), anthropicSDK(6, 61, 60, "msg_6b")
	sink := new(consumertest.TracesSink)
	require.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(),
		batchOf(t, parent, child, a, b)))
	for id, o := range outcomes(sink) {
		assert.Equal(t, statusPriced, str(o, attrStatus), "span %v", id)
	}
}

// Siblings are separate calls even with identical usage (two embeddings of texts of one
// length): only a span's ancestors and descendants can be the same call.
func TestSiblingsWithEqualUsageAreSeparateCalls(t *testing.T) {
	embed := func(id byte) testSpan {
		return testSpan{trace: 7, id: id, parent: 1, scope: "@opentelemetry/instrumentation-openai", name: "embeddings",
			attrs: map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 120}}
	}
	agent := testSpan{trace: 7, id: 1, name: "invoke_agent", scope: "app", attrs: map[string]any{"gen_ai.operation.name": "invoke_agent"}}
	sink := new(consumertest.TracesSink)
	require.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(),
		batchOf(t, agent, embed(70), embed(71))))
	got := outcomes(sink)
	assert.Equal(t, statusPriced, str(got[spanID(70)], attrStatus))
	assert.Equal(t, statusPriced, str(got[spanID(71)], attrStatus))
}

// A span of the call without usage (an instrumentation that records none for streams)
// over the SDK's span with usage is its duplicate: the call is counted once, priced.
// A span in between (an HTTP client span) does not hide the relation within a batch.
func TestNoUsageSpanOverPricedSpanIsDuplicate(t *testing.T) {
	outer := testSpan{trace: 8, id: 80, scope: "@traceloop/instrumentation-anthropic", name: "anthropic.chat",
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.request.model": "claude-sonnet-4-5"}}
	http := testSpan{trace: 8, id: 81, parent: 80, scope: "undici", name: "POST", attrs: map[string]any{"http.request.method": "POST"}}
	sdk := anthropicSDK(8, 82, 81, "msg_8")
	sink := new(consumertest.TracesSink)
	require.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(),
		batchOf(t, sdk, http, outer)))
	got := outcomes(sink)
	assert.Equal(t, statusPriced, str(got[spanID(82)], attrStatus))
	assert.Equal(t, statusDup, str(got[spanID(80)], attrStatus))
	assert.Equal(t, hexID(82), str(got[spanID(80)], attrDuplicateOf))
}

// Cycles and self-parents in span ids end the walk up the parents; nothing loops and
// the unrelated calls are priced.
func TestParentCyclesDoNotLoop(t *testing.T) {
	call := func(id, parent byte, in int) testSpan {
		return testSpan{trace: 9, id: id, parent: parent, scope: "x", name: "chat",
			attrs: chatAttrs("gpt-4o", in, 10)}
	}
	spans := []testSpan{
		call(90, 90, 100), // its own parent
		{trace: 9, id: 91, parent: 92, scope: "x", name: "a", attrs: map[string]any{"k": "v"}}, // 91 <-> 92
		{trace: 9, id: 92, parent: 91, scope: "x", name: "b", attrs: map[string]any{"k": "v"}},
		call(93, 91, 100), // below the cycle, same usage as 94
		call(94, 92, 100),
	}
	sink := new(consumertest.TracesSink)
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(), batchOf(t, spans...)))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("dedup looped on a parent cycle")
	}
	got := outcomes(sink)
	for _, id := range []byte{90, 93, 94} {
		assert.Equal(t, statusPriced, str(got[spanID(id)], attrStatus), "span %d", id)
	}
}

// The same span seen twice (an exporter's retry, or llm_cost in two pipelines of one
// collector) keeps its decision: it is no duplicate of itself.
func TestSameSpanAgainKeepsItsDecision(t *testing.T) {
	sink := new(consumertest.TracesSink)
	p := newTracesProcessor(t, createDefaultConfig().(*Config), sink)
	for range 2 {
		require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, openInferenceAnthropic(10, 100, 0), anthropicSDK(10, 101, 100, "msg_10"))))
	}
	for i, td := range sink.AllTraces() {
		spans := td.ResourceSpans().At(0).ScopeSpans()
		statuses := map[string]string{}
		for j := 0; j < spans.Len(); j++ {
			s := spans.At(j).Spans().At(0)
			statuses[s.SpanID().String()] = str(s.Attributes(), attrStatus)
		}
		assert.Equal(t, map[string]string{spanID(100).String(): statusDup, spanID(101).String(): statusPriced}, statuses, "batch %d", i)
	}
}

// The memory of earlier batches keeps max_calls calls, the oldest forgotten first: a
// span of a forgotten call is priced again (the bound's documented cost); one of a call
// still remembered is a duplicate.
func TestMemoryIsBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Deduplication.MaxCalls = 3
	sink := new(consumertest.TracesSink)
	p := newTracesProcessor(t, cfg, sink)
	for i := byte(1); i <= 5; i++ {
		require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, anthropicSDK(20+i, 200+i, 190+i, fmt.Sprint("msg_", i)))))
	}
	// Calls 1 and 2 are forgotten; 3, 4 and 5 remembered.
	var later []testSpan
	for i := byte(1); i <= 5; i++ {
		later = append(later, openInferenceAnthropic(20+i, 190+i, 0))
	}
	require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, later...)))
	got := outcomes(sink)
	for i := byte(1); i <= 5; i++ {
		want := statusDup
		if i <= 2 {
			want = statusPriced
		}
		assert.Equal(t, want, str(got[spanID(190+i)], attrStatus), "call %d", i)
	}
}

// An app's cost on a span that becomes a duplicate moves to llm_cost.provided_cost: a
// consumer summing gen_ai.usage.cost counts the call once.
func TestDuplicateLosesAppCost(t *testing.T) {
	outer := testSpan{trace: 11, id: 110, scope: "openlit", name: "chat", attrs: map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme", "gen_ai.request.model": "acme-large",
		"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10, "gen_ai.usage.cost": 0.5}}
	inner := testSpan{trace: 11, id: 111, parent: 110, scope: "acme-sdk", name: "chat", attrs: map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme", "gen_ai.request.model": "acme-large",
		"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10, "gen_ai.usage.cost": 0.5,
		"gen_ai.usage.cache_read.input_tokens": 0}}
	sink := new(consumertest.TracesSink)
	require.NoError(t, newTracesProcessor(t, createDefaultConfig().(*Config), sink).ConsumeTraces(context.Background(), batchOf(t, outer, inner)))
	got := outcomes(sink)
	assert.Equal(t, statusProvided, str(got[spanID(111)], attrStatus))
	dup := got[spanID(110)]
	assert.Equal(t, statusDup, str(dup, attrStatus))
	_, hasCost := dup.Get(attrCost)
	assert.False(t, hasCost)
	pc, _ := dup.Get(attrProvidedCost)
	assert.InDelta(t, 0.5, pc.Double(), 0)
}

// The processor's own counter counts duplicates under their status, not as priced.
func TestDuplicatesCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), metadatatest.NewSettings(tel), createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, openInferenceAnthropic(12, 120, 0), anthropicSDK(12, 121, 120, "msg_12"))))
	metadatatest.AssertEqualProcessorLlmCostSpans(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("status", "priced"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("status", "duplicate"))},
	}, metricdatatest.IgnoreTimestamp())
}

// Random batches of nested calls, with parent cycles, self-parents, shared and distinct
// response ids and usage drawn from a few values, split at random into batches: nothing
// panics or loops, every duplicate names a span that was counted (priced or otherwise
// not a duplicate itself), and the processor's counts match the spans' statuses.
func TestDedupRandomBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 14))
	for round := 0; round < 400; round++ {
		var spans []testSpan
		n := 2 + rng.IntN(12)
		for i := 0; i < n; i++ {
			id := byte(i + 1)
			parent := byte(rng.IntN(n + 1)) // 0: root; may be itself or form cycles
			attrs := chatAttrs([]string{"gpt-4o", "gpt-4o-mini"}[rng.IntN(2)], 100*(1+rng.IntN(2)), 10)
			if rng.IntN(3) == 0 {
				attrs["gen_ai.response.id"] = fmt.Sprint("r", rng.IntN(3))
			}
			if rng.IntN(5) == 0 {
				delete(attrs, "gen_ai.usage.input_tokens")
				delete(attrs, "gen_ai.usage.output_tokens")
			}
			spans = append(spans, testSpan{trace: byte(1 + rng.IntN(2)), id: id, parent: parent, scope: "x", name: "chat", attrs: attrs})
		}
		rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
		tel := componenttest.NewTelemetry()
		sink := new(consumertest.TracesSink)
		cfg := createDefaultConfig().(*Config)
		cfg.Deduplication.MaxCalls = 1 + rng.IntN(8)
		p, err := NewFactory().CreateTraces(context.Background(), metadatatest.NewSettings(tel), cfg, sink)
		require.NoError(t, err)
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		for start := 0; start < len(spans); {
			end := start + 1 + rng.IntN(len(spans)-start)
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, spans[start:end]...)))
			start = end
		}
		statusOf := map[string]string{}
		counts := map[string]int64{}
		var dups [][2]string
		for _, td := range sink.AllTraces() {
			for i := 0; i < td.ResourceSpans().At(0).ScopeSpans().Len(); i++ {
				s := td.ResourceSpans().At(0).ScopeSpans().At(i).Spans().At(0)
				key := s.TraceID().String() + "/" + s.SpanID().String()
				st := str(s.Attributes(), attrStatus)
				statusOf[key] = st
				counts[st]++
				if st == statusDup {
					dups = append(dups, [2]string{key, s.TraceID().String() + "/" + str(s.Attributes(), attrDuplicateOf)})
				}
			}
		}
		for _, d := range dups {
			winner, ok := statusOf[d[1]]
			require.True(t, ok, "round %d: %s names %s, no span of this trace", round, d[0], d[1])
			assert.NotEqual(t, statusDup, winner, "round %d: %s names a duplicate", round, d[0])
			assert.NotEqual(t, d[0], d[1], "round %d: a span is no duplicate of itself", round)
		}
		var points []metricdata.DataPoint[int64]
		for st, c := range counts {
			points = append(points, metricdata.DataPoint[int64]{Value: c, Attributes: attribute.NewSet(attribute.String("status", st))})
		}
		metadatatest.AssertEqualProcessorLlmCostSpans(t, tel, points, metricdatatest.IgnoreTimestamp())
		require.NoError(t, p.Shutdown(context.Background()))
		require.NoError(t, tel.Shutdown(context.Background()))
	}
}

// The memory finds a trace's newest remembered call exactly when the ring still holds
// it, whatever the ring's size, the traces' interleaving and the bucket collisions
// (with 1 to 40 entries, 30 traces share at most 64 buckets): checked against a plain
// record of what was written last per trace.
func TestMemoryFindsNewestEntryOfTrace(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	for size := 1; size <= 40; size++ {
		m := newCallMemory(size)
		lastSeq := map[pcommon.TraceID]uint32{}
		for step := 0; step < 500; step++ {
			trace := pcommon.TraceID{0: byte(rng.IntN(30)), 15: 1}
			c := candidate{trace: trace, id: pcommon.SpanID{0: byte(step), 1: byte(step >> 8), 7: 1}, winner: 0, next: -1}
			m.resolve([]candidate{c}, []int{0})
			lastSeq[trace] = m.seq
			for tr, seq := range lastSeq {
				ref := m.newest(tr)
				if m.seq-seq < uint32(size) {
					require.Equal(t, seq, ref.seq, "size %d step %d: trace %d", size, step, tr[0])
					require.Equal(t, tr, m.entries[ref.idx].trace)
				} else {
					require.Zero(t, ref.seq, "size %d step %d: trace %d was overwritten", size, step, tr[0])
				}
			}
		}
	}
}

// An agent's successive calls are siblings: telling them apart needs no index of the
// batch's parent links (built only when a call may be nested deeper in another).
func TestSiblingsNeedNoParentIndex(t *testing.T) {
	td := batchOf(t,
		testSpan{trace: 1, id: 1, scope: "x", name: "invoke_agent"},
		testSpan{trace: 1, id: 2, parent: 1, scope: "x", name: "chat"},
		testSpan{trace: 1, id: 3, parent: 1, scope: "x", name: "chat"},
		testSpan{trace: 1, id: 4, parent: 3, scope: "x", name: "chat"})
	d := newDedup(0)
	a := candidate{trace: traceID(1), id: spanID(2), parent: spanID(1)}
	b := candidate{trace: traceID(1), id: spanID(3), parent: spanID(1)}
	c := candidate{trace: traceID(1), id: spanID(4), parent: spanID(3)}
	assert.Equal(t, unrelated, d.relation(td, &a, &b))
	assert.Empty(t, d.parents)
	assert.Equal(t, unrelated, d.relation(td, &a, &c))
	assert.Len(t, d.parents, 4)
	assert.Equal(t, aAncestor, d.relation(td, &b, &c))
}

// A call whose span without usage (OpenLLMetry's stream span, status no_usage) is
// exported in one batch and whose SDK span with the usage arrives in a later one: the
// first was already counted as the call's request and cannot be recalled, so the later
// span is priced and names it in llm_cost.request_counted_by (agent_metrics then counts
// its tokens and cost but no second request). In the other order the later span without
// usage is a duplicate of the priced one and nothing is marked. A retry of the priced
// span keeps the mark.
func TestAcrossBatchesNoUsageFirstMarksRequestCounted(t *testing.T) {
	want := sonnetCacheCall(t)
	for _, order := range []string{"no usage first", "usage first"} {
		t.Run(order, func(t *testing.T) {
			noUsage := testSpan{trace: 11, id: 110, scope: "@traceloop/instrumentation-anthropic", name: "anthropic.chat",
				attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
					"gen_ai.request.model": "claude-sonnet-4-5"}}
			sdk := anthropicSDK(11, 111, 110, "")
			delete(sdk.attrs, "gen_ai.response.id")
			first, second := noUsage, sdk
			if order == "usage first" {
				first, second = sdk, noUsage
			}
			sink := new(consumertest.TracesSink)
			p := newTracesProcessor(t, createDefaultConfig().(*Config), sink)
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, first)))
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, anthropicSDK(3, 30, 0, "msg_3"))))
			require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, second)))
			got := outcomes(sink)
			priced, bare := got[spanID(111)], got[spanID(110)]
			assert.Equal(t, statusPriced, str(priced, attrStatus))
			cost, ok := priced.Get(attrCost)
			require.True(t, ok)
			assert.InDelta(t, want, cost.Double(), 1e-12)
			_, marked := got[spanID(30)].Get(attrRequestCountedBy)
			assert.False(t, marked, "an unrelated call is not marked")
			if order == "no usage first" {
				assert.Equal(t, statusNoUsage, str(bare, attrStatus), "its decision left with it")
				assert.Equal(t, hexID(110), str(priced, attrRequestCountedBy))
				// The priced span again (an exporter's retry) keeps its decision and its mark.
				again := new(consumertest.TracesSink)
				p2 := newTracesProcessor(t, createDefaultConfig().(*Config), again)
				require.NoError(t, p2.ConsumeTraces(context.Background(), batchOf(t, noUsage)))
				require.NoError(t, p2.ConsumeTraces(context.Background(), batchOf(t, sdk)))
				require.NoError(t, p2.ConsumeTraces(context.Background(), batchOf(t, sdk)))
				last := again.AllTraces()[2].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
				assert.Equal(t, statusPriced, str(last, attrStatus))
				assert.Equal(t, hexID(110), str(last, attrRequestCountedBy))
				return
			}
			assert.Equal(t, statusDup, str(bare, attrStatus))
			assert.Equal(t, hexID(111), str(bare, attrDuplicateOf))
			_, marked = priced.Get(attrRequestCountedBy)
			assert.False(t, marked, "the priced span was counted as the request")
			_, marked = bare.Get(attrRequestCountedBy)
			assert.False(t, marked)
		})
	}
}
