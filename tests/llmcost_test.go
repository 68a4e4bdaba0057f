package tests

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// Published prices, USD per million tokens (genai-prices data of 2026-08-21 and 2026-09-23 alike):
//
//	gpt-4o             input 2.50, cached input 1.25, output 10.00
//	claude-sonnet-4-5  input 3.00, cache write 3.75 (1-hour 6.00), cache read 0.30, output 15.00
//	gpt-4o-mini        input 0.15, output 0.60
const perMillion = 1e6

var (
	// 1000 input tokens of which 200 cached, 500 output.
	gpt4oCall = (800*2.50 + 200*1.25 + 500*10.00) / perMillion
	// 10000 input tokens: 6000 cache reads, 1000 cache writes, 3000 uncached; 400 output.
	sonnetCall = (3000*3.00 + 6000*0.30 + 1000*3.75 + 400*15.00) / perMillion
	// A failed call still used 300 input and 0 output tokens.
	miniCall = (300 * 0.15) / perMillion
	// One Claude call described by two spans (an instrumentation library's and the
	// SDK's own): 50 uncached input tokens, 4000 cache reads, 600 5-minute and 400
	// 1-hour cache writes, 300 output tokens, priced once.
	sonnetSplitCall = (50*3.00 + 4000*0.30 + 600*3.75 + 400*6.00 + 300*15.00) / perMillion
)

// llmRound sends one round of an agent's work: an agent span around two gpt-4o calls,
// a Claude call with prompt caching, a tool call, a call to a model without a price,
// a failed call, a stream without usage, a call with impossible usage, a gpt-4o call
// with an app-sent cost off from the table's and a tier that is no tier, and a Claude
// call described by two spans.
func llmRound(t *testing.T, tracer trace.Tracer) {
	t.Helper()
	ctx, agent := tracer.Start(context.Background(), "invoke_agent planner", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "planner"),
		// The agent span repeats its children's usage: it must not be priced again.
		attribute.Int("gen_ai.usage.input_tokens", 21300), attribute.Int("gen_ai.usage.output_tokens", 1400)))
	chat := func(model, provider string, attrs ...attribute.KeyValue) trace.Span {
		_, span := tracer.Start(ctx, "chat "+model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(append([]attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", provider),
			attribute.String("gen_ai.request.model", model), attribute.String("gen_ai.agent.name", "planner"),
		}, attrs...)...))
		time.Sleep(2 * time.Millisecond)
		return span
	}
	for i := 0; i < 2; i++ {
		chat("gpt-4o", "openai", attribute.String("gen_ai.response.model", "gpt-4o-2024-08-06"),
			attribute.Int("gen_ai.usage.input_tokens", 1000), attribute.Int("gen_ai.usage.cache_read.input_tokens", 200),
			attribute.Int("gen_ai.usage.output_tokens", 500)).End()
	}
	chat("claude-sonnet-4-5-20250929", "anthropic",
		attribute.Int("gen_ai.usage.input_tokens", 10000), attribute.Int("gen_ai.usage.cache_read.input_tokens", 6000),
		attribute.Int("gen_ai.usage.cache_creation.input_tokens", 1000), attribute.Int("gen_ai.usage.output_tokens", 400)).End()
	chat("acme-secret-model", "acme", attribute.Int("gen_ai.usage.input_tokens", 50), attribute.Int("gen_ai.usage.output_tokens", 5)).End()
	failed := chat("gpt-4o-mini", "openai", attribute.Int("gen_ai.usage.input_tokens", 300), attribute.Int("gen_ai.usage.output_tokens", 0),
		attribute.String("error.type", "timeout"))
	failed.SetStatus(codes.Error, "upstream timeout")
	failed.End()
	// A stream whose library records no token counts (no_usage: a request, no cost).
	chat("gpt-4o-mini", "openai", attribute.Bool("gen_ai.request.stream", true)).End()
	// Usage that cannot be right (invalid).
	chat("gpt-4.1", "openai", attribute.Int("gen_ai.usage.input_tokens", -5), attribute.Int("gen_ai.usage.output_tokens", 5)).End()
	// A gpt-4o call whose app sent its own cost, off from the table's (priced from the
	// table, the app's figure kept and the mismatch counted), and a service tier that is
	// no tier (priced as standard, counted).
	chat("gpt-4o", "openai", attribute.String("gen_ai.response.model", "gpt-4o-2024-08-06"),
		attribute.Int("gen_ai.usage.input_tokens", 1000), attribute.Int("gen_ai.usage.cache_read.input_tokens", 200),
		attribute.Int("gen_ai.usage.output_tokens", 500), attribute.Float64("gen_ai.usage.cost", 1.0),
		attribute.String("openai.response.service_tier", "warp-speed")).End()
	// One Claude call through two layers: the SDK's span is priced, the other is its
	// duplicate.
	sonnetSplitSpans(tracer, ctx)
	_, tool := tracer.Start(ctx, "execute_tool search", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "search")))
	tool.End()
	agent.End()
}

// sonnetSplitSpans records one Claude call (sonnetSplitCall) through two layers under
// ctx: OpenInference's span over the Anthropic SDK's own, which tells the 1-hour cache
// writes apart. llm_cost prices the SDK's span and marks the other duplicate.
func sonnetSplitSpans(tracer trace.Tracer, ctx context.Context) {
	octx, outer := tracer.Start(ctx, "Anthropic Messages", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("openinference.span.kind", "LLM"), attribute.String("llm.provider", "anthropic"),
		attribute.String("llm.model_name", "claude-sonnet-4-5-20250929"), attribute.Int("llm.token_count.prompt", 5050),
		attribute.Int("llm.token_count.completion", 300), attribute.Int("llm.token_count.prompt_details.cache_read", 4000),
		attribute.Int("llm.token_count.prompt_details.cache_write", 1000)))
	_, inner := tracer.Start(octx, "anthropic.messages.create", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "anthropic"),
		attribute.String("gen_ai.request.model", "claude-sonnet-4-5"), attribute.String("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
		attribute.Int("gen_ai.usage.input_tokens", 5050), attribute.Int("gen_ai.usage.cache_read.input_tokens", 4000),
		attribute.Int("gen_ai.usage.cache_write.input_tokens", 1000),
		attribute.Int("anthropic.usage.cache_creation.ephemeral_5m_input_tokens", 600),
		attribute.Int("anthropic.usage.cache_creation.ephemeral_1h_input_tokens", 400),
		attribute.Int("gen_ai.usage.output_tokens", 300)))
	inner.End()
	outer.End()
}

// The spans of one call that reach llm_cost in different batches (flushed further
// apart than the harness's BATCH_TIMEOUT) count once on /metrics: the SDK's span and
// an instrumentation's span without usage over it in one batch, a framework's span over
// both, with the call's usage, in a later one. Then a gpt-4o-mini call of another trace,
// whose count shows that the framework's span went through.
func TestLLMCostOneCallAcrossBatches(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	tp := harness.TracerProvider(t, c, "e2e-llm-batches")
	tracer := tp.Tracer("e2e-llm-batches")
	ctx := context.Background()
	svc := map[string]string{"service_name": "e2e-llm-batches"}
	waitRequests := func(want float64) {
		t.Helper()
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			if got, _ := fams.Sum("llm_requests_total", svc); got != want {
				return fmt.Sprintf("llm_requests_total %v, want %v\n%s", got, want, fams.Series("llm_requests_total"))
			}
			return ""
		})
	}
	call := []attribute.KeyValue{attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "anthropic"),
		attribute.String("gen_ai.request.model", "claude-sonnet-4-5"), attribute.String("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
		attribute.Int("gen_ai.usage.input_tokens", 5050), attribute.Int("gen_ai.usage.cache_read.input_tokens", 4000),
		attribute.Int("gen_ai.usage.cache_write.input_tokens", 1000), attribute.Int("gen_ai.usage.output_tokens", 300)}
	fctx, framework := tracer.Start(ctx, "chat claude-sonnet-4-5", trace.WithAttributes(call...))
	ictx, instr := tracer.Start(fctx, "anthropic.chat", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "anthropic"),
		attribute.String("gen_ai.request.model", "claude-sonnet-4-5")))
	_, sdk := tracer.Start(ictx, "anthropic.messages.create", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(append(call,
		attribute.Int("anthropic.usage.cache_creation.ephemeral_5m_input_tokens", 600),
		attribute.Int("anthropic.usage.cache_creation.ephemeral_1h_input_tokens", 400))...))
	sdk.End()
	instr.End()
	require.NoError(t, tp.ForceFlush(ctx))
	waitRequests(1)

	framework.End()
	require.NoError(t, tp.ForceFlush(ctx))
	time.Sleep(500 * time.Millisecond) // past BATCH_TIMEOUT: the marker comes in a later batch
	_, mini := tracer.Start(ctx, "chat gpt-4o-mini", trace.WithAttributes(attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.request.model", "gpt-4o-mini"),
		attribute.Int("gen_ai.usage.input_tokens", 300), attribute.Int("gen_ai.usage.output_tokens", 0)))
	mini.End()
	require.NoError(t, tp.ForceFlush(ctx))
	waitRequests(2)
	fams := harness.MustScrape(t, c.MetricsURL())
	cost, _ := fams.Sum("llm_cost_usd_total", svc)
	assert.InDelta(t, sonnetSplitCall+miniCall, cost, 1e-9, "the Claude call is priced once, at the SDK span's price\n%s", fams.Series("llm_cost_usd_total"))
}

// TestLLMCostOneCallNoUsageFirstAcrossBatches: the span of a call without usage (an
// instrumentation library's stream span, exported before the SDK's, as OpenInference's
// is) reaches the collector in one export and is counted as the call's request; the
// SDK's span with the usage comes in a later export. llm_cost prices the later span and
// marks it (llm_cost.request_counted_by), so /metrics counts the call once, with the SDK
// span's tokens and price.
func TestLLMCostOneCallNoUsageFirstAcrossBatches(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	tp := harness.TracerProvider(t, c, "e2e-llm-nousage-first")
	tracer := tp.Tracer("e2e-llm-nousage-first")
	ctx := context.Background()
	svc := map[string]string{"service_name": "e2e-llm-nousage-first"}
	ictx, instr := tracer.Start(ctx, "anthropic.chat", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "anthropic"),
		attribute.String("gen_ai.request.model", "claude-sonnet-4-5")))
	_, sdk := tracer.Start(ictx, "anthropic.messages.create", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "anthropic"),
		attribute.String("gen_ai.request.model", "claude-sonnet-4-5"), attribute.String("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
		attribute.Int("gen_ai.usage.input_tokens", 5050), attribute.Int("gen_ai.usage.cache_read.input_tokens", 4000),
		attribute.Int("gen_ai.usage.cache_write.input_tokens", 1000), attribute.Int("gen_ai.usage.output_tokens", 300),
		attribute.Int("anthropic.usage.cache_creation.ephemeral_5m_input_tokens", 600),
		attribute.Int("anthropic.usage.cache_creation.ephemeral_1h_input_tokens", 400)))
	instr.End()
	require.NoError(t, tp.ForceFlush(ctx))
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if got, _ := fams.Sum("llm_requests_total", svc); got != 1 {
			return fmt.Sprintf("llm_requests_total %v, want the no_usage span's request\n%s", got, fams.Series("llm_requests_total"))
		}
		return ""
	})
	time.Sleep(500 * time.Millisecond) // past BATCH_TIMEOUT: the SDK span comes in a later batch

	sdk.End()
	_, mini := tracer.Start(ctx, "chat gpt-4o-mini", trace.WithAttributes(attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.request.model", "gpt-4o-mini"),
		attribute.Int("gen_ai.usage.input_tokens", 300), attribute.Int("gen_ai.usage.output_tokens", 0)))
	mini.End()
	require.NoError(t, tp.ForceFlush(ctx))
	// Both later spans are in once the cost is.
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if cost, _ := fams.Sum("llm_cost_usd_total", svc); math.Abs(cost-(sonnetSplitCall+miniCall)) > 1e-9 {
			return fmt.Sprintf("llm_cost_usd_total %v, want %v\n%s", cost, sonnetSplitCall+miniCall, fams.Series("llm_cost_usd_total"))
		}
		return ""
	})
	fams := harness.MustScrape(t, c.MetricsURL())
	requests, _ := fams.Sum("llm_requests_total", svc)
	assert.Equal(t, 2.0, requests, "the Claude call and the gpt-4o-mini call, each once\n%s", fams.Series("llm_requests_total"))
	claude := map[string]string{"service_name": "e2e-llm-nousage-first", "llm_cost_model": "claude-sonnet-4-5"}
	claudeRequests, _ := fams.Sum("llm_requests_total", claude)
	assert.Equal(t, 1.0, claudeRequests, "%s", fams.Series("llm_requests_total"))
	in, _ := fams.Sum("llm_tokens_total", map[string]string{"service_name": "e2e-llm-nousage-first", "llm_cost_model": "claude-sonnet-4-5", "gen_ai_token_type": "input"})
	assert.Equal(t, 5050.0, in, "the SDK span's tokens\n%s", fams.Series("llm_tokens_total"))
}

func TestLLMCostMetricsEndToEnd(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	tp := harness.TracerProvider(t, c, "e2e-llm")
	tracer := tp.Tracer("e2e-llm")

	svc := map[string]string{"service_name": "e2e-llm"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"service_name": "e2e-llm"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	gpt4o := with("gen_ai_provider_name", "openai", "llm_cost_model", "gpt-4o", "gen_ai_agent_name", "planner")
	sonnet := with("gen_ai_provider_name", "anthropic", "llm_cost_model", "claude-sonnet-4-5", "gen_ai_agent_name", "planner")

	const rounds = 6
	var lastCost, lastRequests float64
	for r := 1; r <= rounds; r++ {
		llmRound(t, tracer)
		require.NoError(t, tp.ForceFlush(context.Background()))
		// Every round is its own batch (BATCH_TIMEOUT is 200ms in the harness), so the
		// exposition has to add up deltas from many batches.
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			cost, _ := fams.Sum("llm_cost_usd_total", svc)
			want := float64(r) * (3*gpt4oCall + sonnetCall + sonnetSplitCall + miniCall)
			if math.Abs(cost-want) > 1e-9 {
				return fmt.Sprintf("round %d: llm_cost_usd_total %v, want %v\n%s", r, cost, want, fams.Series("llm_cost_usd_total"))
			}
			// Nine calls a round: the duplicate span of the Claude call is no request.
			req, _ := fams.Sum("llm_requests_total", svc)
			if req != float64(9*r) {
				return fmt.Sprintf("round %d: llm_requests_total %v, want %d\n%s", r, req, 9*r, fams.Series("llm_requests_total"))
			}
			if cost < lastCost || req < lastRequests {
				t.Errorf("round %d: counters went down: cost %v -> %v, requests %v -> %v", r, lastCost, cost, lastRequests, req)
			}
			lastCost, lastRequests = cost, req
			return ""
		})
	}

	fams := harness.MustScrape(t, c.MetricsURL())
	expect := func(name string, labels map[string]string, want float64) {
		t.Helper()
		got, found := fams.Sum(name, labels)
		assert.True(t, found, "%s%v absent; have %v", name, labels, fams.Names())
		assert.InDelta(t, want, got, 1e-9, "%s%v\n%s", name, labels, fams.Series(name))
	}
	for _, name := range []string{"llm_cost_usd_total", "llm_requests_total", "llm_tokens_total", "agent_invocations_total", "agent_tool_calls_total", "llm_unpriced_requests_total"} {
		require.NotNil(t, fams[name], "%s missing", name)
		assert.Equal(t, "COUNTER", fams[name].GetType().String(), "%s must be a counter", name)
	}

	// Cost in USD by provider, model, service and agent, exactly as computed above.
	expect("llm_cost_usd_total", gpt4o, rounds*3*gpt4oCall)
	expect("llm_cost_usd_total", sonnet, rounds*sonnetCall)
	// The call through two layers: its agent is not on the span or its parent (the
	// library's span), so it is "none".
	expect("llm_cost_usd_total", with("llm_cost_model", "claude-sonnet-4-5", "gen_ai_agent_name", "none"), rounds*sonnetSplitCall)
	// A failed call that reported usage is billed for it.
	expect("llm_cost_usd_total", with("llm_cost_model", "gpt-4o-mini"), rounds*miniCall)
	_, found := fams.Sum("llm_cost_usd_total", with("llm_cost_model", "acme-secret-model"))
	assert.False(t, found, "an unpriced model never costs a silent zero")

	// Requests by provider, model, operation and outcome; the failed call is an error.
	expect("llm_requests_total", with("llm_cost_model", "gpt-4o", "gen_ai_operation_name", "chat", "outcome", "ok"), rounds*3)
	expect("llm_requests_total", with("llm_cost_model", "claude-sonnet-4-5"), rounds*2)
	expect("llm_requests_total", with("llm_cost_model", "gpt-4o-mini", "outcome", "ok"), rounds) // no_usage
	expect("llm_requests_total", with("llm_cost_model", "gpt-4.1"), rounds)                      // invalid
	expect("llm_requests_total", with("llm_cost_model", "gpt-4o-mini", "gen_ai_provider_name", "openai", "outcome", "error"), rounds)
	expect("llm_requests_total", with("outcome", "error"), rounds)
	// The agent span repeats its children's usage: it is no request of its own.
	_, found = fams.Sum("llm_requests_total", with("gen_ai_operation_name", "invoke_agent"))
	assert.False(t, found)
	expect("llm_unpriced_requests_total", with("llm_cost_model", "acme-secret-model", "gen_ai_provider_name", "acme"), rounds)

	// Duration histogram on the OTel GenAI boundaries.
	expect("llm_request_duration_seconds", with("llm_cost_model", "gpt-4o"), rounds*3)
	var bounds []float64
	for _, m := range fams["llm_request_duration_seconds"].GetMetric() {
		for _, b := range m.GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		break
	}
	assert.Equal(t, []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, math.Inf(1)}, bounds)

	// Tokens by type.
	expect("llm_tokens_total", with("llm_cost_model", "gpt-4o", "gen_ai_token_type", "input"), rounds*3*1000)
	expect("llm_tokens_total", with("llm_cost_model", "gpt-4o", "gen_ai_token_type", "cache_read"), rounds*3*200)
	expect("llm_tokens_total", with("llm_cost_model", "gpt-4o", "gen_ai_token_type", "output"), rounds*3*500)
	// The Claude call's tokens once, not twice.
	expect("llm_tokens_total", with("llm_cost_model", "claude-sonnet-4-5", "gen_ai_token_type", "cache_write"), rounds*(1000+1000))
	expect("llm_tokens_total", with("llm_cost_model", "claude-sonnet-4-5", "gen_ai_token_type", "input"), rounds*(10000+5050))

	// Agent executions, duration and tool calls.
	expect("agent_invocations_total", with("gen_ai_agent_name", "planner", "outcome", "ok"), rounds)
	expect("agent_duration_seconds", with("gen_ai_agent_name", "planner"), rounds)
	expect("agent_tool_calls_total", with("gen_ai_tool_name", "search", "outcome", "ok"), rounds)

	// The processor's own telemetry counts spans by status.
	own := harness.MustScrape(t, c.TelemetryURL())
	for status, want := range map[string]float64{"priced": rounds * 6, "unpriced": rounds, "skipped": rounds, "no_usage": rounds,
		"invalid": rounds, "duplicate": rounds} {
		got, _ := own.Sum("otelcol_processor_llm_cost_spans", map[string]string{"status": status})
		assert.Equal(t, want, got, "otelcol_processor_llm_cost_spans{status=%q}\n%s", status, own.Series("otelcol_processor_llm_cost_spans"))
	}
	for _, name := range []string{"otelcol_processor_llm_cost_provided_cost_mismatches", "otelcol_processor_llm_cost_unknown_service_tiers"} {
		got, _ := own.Sum(name, nil)
		assert.Equal(t, float64(rounds), got, "%s\n%s", name, own.Series(name))
	}
	c.Stop(30 * time.Second)
}

// Log records that describe an LLM call (the GenAI inference event) are priced in the
// logs pipeline too.
func TestLLMCostPricesLogRecords(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	lp := harness.LoggerProvider(t, c, "e2e-llm-logs")
	var rec otellog.Record
	rec.SetEventName("gen_ai.client.inference.operation.details")
	rec.SetTimestamp(time.Now())
	rec.AddAttributes(attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o"), attribute.Int("gen_ai.usage.input_tokens", 100), attribute.Int("gen_ai.usage.output_tokens", 10))
	lp.Logger("e2e").Emit(context.Background(), rec)
	require.NoError(t, lp.ForceFlush(context.Background()))
	harness.Eventually(t, 30*time.Second, func() string {
		own, err := harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		if v, _ := own.Sum("otelcol_processor_llm_cost_log_records", map[string]string{"status": "priced"}); v != 1 {
			return fmt.Sprintf("priced log records = %v\n%s", v, own.Series("otelcol_processor_llm_cost_log_records"))
		}
		return ""
	})
	c.Stop(30 * time.Second)
}

// A price file is re-read when it changes: a bad version keeps the previous prices and
// shows as a degraded pipeline on /health, a good one takes over, all without a restart.
func TestLLMCostPriceFileHotReload(t *testing.T) {
	prices := writeFile(t, "prices.yaml", "prices:\n  - id: acme-large\n    provider: acme\n    input_mtok: 2\n    output_mtok: 8\n")
	overlay := writeFile(t, "overlay.yaml", fmt.Sprintf(`
processors:
  llm_cost:
    price_files:
      - path: %s
    reload_interval: 1s
`, prices))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})
	tp := harness.TracerProvider(t, c, "e2e-reload")
	send := func() {
		_, span := tp.Tracer("e2e").Start(context.Background(), "chat acme-large", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "acme"),
			attribute.String("gen_ai.request.model", "acme-large"),
			attribute.Int("gen_ai.usage.input_tokens", 1000), attribute.Int("gen_ai.usage.output_tokens", 100)))
		span.End()
		require.NoError(t, tp.ForceFlush(context.Background()))
	}
	acme := map[string]string{"service_name": "e2e-reload", "llm_cost_model": "acme-large"}
	costIs := func(want float64) {
		t.Helper()
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			if got, _ := fams.Sum("llm_cost_usd_total", acme); math.Abs(got-want) > 1e-12 {
				return fmt.Sprintf("llm_cost_usd_total %v, want %v\n%s", got, want, fams.Series("llm_cost_usd_total"))
			}
			return ""
		})
	}
	loads := func(result string, want float64) {
		t.Helper()
		harness.Eventually(t, 30*time.Second, func() string {
			own, err := harness.Scrape(c.TelemetryURL())
			if err != nil {
				return err.Error()
			}
			// The traces and the logs instance of llm_cost share one engine: the file is
			// read once.
			if got, _ := own.Sum("otelcol_processor_llm_cost_price_file_loads", map[string]string{"result": result}); got != want {
				return fmt.Sprintf("price file loads{result=%q} = %v, want %v", result, got, want)
			}
			return ""
		})
	}

	first := (1000*2.0 + 100*8.0) / perMillion
	send()
	costIs(first)

	// A broken file: the previous prices stay, the pipeline reports degraded.
	require.NoError(t, os.WriteFile(prices, []byte("prices:\n  - id: acme-large\n    input_mtok: [oops\n"), 0o600))
	loads("error", 1)
	send()
	costIs(2 * first)
	code, body, err := c.Get(c.ReadinessURL("/health"))
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"degraded"`, body)

	// A good file again: its prices apply from the next span on.
	require.NoError(t, os.WriteFile(prices, []byte("prices:\n  - id: acme-large\n    provider: acme\n    input_mtok: 4\n    output_mtok: 16\n"), 0o600))
	loads("ok", 2)
	send()
	costIs(2*first + (1000*4.0+100*16.0)/perMillion)
	assert.Equal(t, 1, strings.Count(c.Logs(), "price file rejected"), "one log line for the one bad version")
	c.Stop(30 * time.Second)
}
