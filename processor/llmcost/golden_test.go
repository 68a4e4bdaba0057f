package llmcost

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the cases in golden_test.go")

var (
	may2025  = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	sept2025 = time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
)

// goldenCase is one span (or log record) per convention and provider usage shape.
// Each states the cost expected from the published prices (USD per million tokens, in
// the formula), so the golden file is not the only thing that says what is right.
type goldenCase struct {
	name     string
	spanName string
	start    time.Time
	attrs    map[string]any
	log      bool

	status string
	cost   float64 // checked when status is priced or provided
	model  string
	match  string
	errMsg string // llm_cost.error, for invalid
}

var goldenCases = []goldenCase{
	{
		name: "otel_openai_chat", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
			"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.cache_read.input_tokens": 200, "gen_ai.usage.output_tokens": 500},
		// gpt-4o: input 2.50, cached input 1.25, output 10.00; cached tokens are part of the 1000.
		status: "priced", cost: mtok(800, 2.50) + mtok(200, 1.25) + mtok(500, 10.00), model: "gpt-4o", match: "rule",
	},
	{
		name: "otel_anthropic_cache", spanName: "chat claude-sonnet-4-5", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.request.model":      "claude-sonnet-4-5-20250929",
			"gen_ai.usage.input_tokens": 12000, "gen_ai.usage.cache_read.input_tokens": 8000,
			"gen_ai.usage.cache_creation.input_tokens": 2000, "gen_ai.usage.output_tokens": 700},
		// claude-sonnet-4-5: input 3.00, cache read 0.30, cache write (5m) 3.75, output 15.00.
		status: "priced", cost: mtok(2000, 3.00) + mtok(8000, 0.30) + mtok(2000, 3.75) + mtok(700, 15.00),
		model: "claude-sonnet-4-5", match: "rule",
	},
	{
		name: "otel_anthropic_cache_1h", spanName: "chat claude-sonnet-4-5", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.request.model":      "claude-sonnet-4-5",
			"gen_ai.usage.input_tokens": 10000, "gen_ai.usage.cache_creation.ephemeral_5m_input_tokens": 3000,
			"gen_ai.usage.cache_creation.ephemeral_1h_input_tokens": 5000, "gen_ai.usage.output_tokens": 100},
		// 5-minute writes 3.75, one-hour writes 6.00 (2x input).
		status: "priced", cost: mtok(2000, 3.00) + mtok(3000, 3.75) + mtok(5000, 6.00) + mtok(100, 15.00),
		model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "otel_anthropic_long_context", spanName: "chat claude-sonnet-4-5", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 250000,
			"gen_ai.usage.cache_read.input_tokens": 50000, "gen_ai.usage.output_tokens": 1000},
		// Above 200k input tokens every token is repriced: input 6.00, cache read 0.60, output 22.50.
		status: "priced", cost: mtok(200000, 6.00) + mtok(50000, 0.60) + mtok(1000, 22.50), model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "otel_gemini_long_context_reasoning", spanName: "generate_content gemini-2.5-pro", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini",
			"gen_ai.request.model": "gemini-2.5-pro", "gen_ai.usage.input_tokens": 300000,
			"gen_ai.usage.output_tokens": 2000, "gen_ai.usage.reasoning.output_tokens": 500},
		// gemini-2.5-pro above 200k: input 2.50, output 15.00; reasoning is billed as output, once.
		status: "priced", cost: mtok(300000, 2.50) + mtok(2000, 15.00), model: "gemini-2.5-pro", match: "exact",
	},
	{
		name: "otel_bedrock_region_prefix", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "aws.bedrock",
			"gen_ai.request.model":      "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		// Bedrock regional Claude 3.5 Sonnet v2: input 3.00, output 15.00.
		status: "priced", cost: mtok(1000, 3.00) + mtok(100, 15.00), model: "regional.anthropic.claude-3-5-sonnet-20241022-v2:0", match: "rule",
	},
	{
		name: "otel_azure_alias", spanName: "chat my-gpt4o-deployment", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "azure.ai.openai",
			"gen_ai.request.model": "my-gpt4o-deployment", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		// Aliased to gpt-4o (Azure serves OpenAI's models at OpenAI's prices).
		status: "priced", cost: mtok(1000, 2.50) + mtok(100, 10.00), model: "gpt-4o", match: "alias",
	},
	{
		name: "otel_embeddings", spanName: "embeddings text-embedding-3-small", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
			"gen_ai.request.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 10000},
		status: "priced", cost: mtok(10000, 0.02), model: "text-embedding-3-small", match: "exact",
	},
	{
		name: "otel_date_priced_before", spanName: "chat o3", start: may2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "o3",
			"gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 3000},
		// o3 before 2025-06-10: input 10.00, output 40.00.
		status: "priced", cost: mtok(2000, 10.00) + mtok(3000, 40.00), model: "o3", match: "exact",
	},
	{
		name: "otel_date_priced_after", spanName: "chat o3", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "o3",
			"gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 3000},
		// o3 from 2025-06-10: input 2.00, output 8.00.
		status: "priced", cost: mtok(2000, 2.00) + mtok(3000, 8.00), model: "o3", match: "exact",
	},
	{
		name: "otel_deprecated", spanName: "chat gpt-4o-mini", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
			"gen_ai.usage.prompt_tokens": 1000, "gen_ai.usage.completion_tokens": 200},
		status: "priced", cost: mtok(1000, 0.15) + mtok(200, 0.60), model: "gpt-4o-mini", match: "exact",
	},
	{
		name: "openllmetry_anthropic_cache", spanName: "anthropic.chat", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "Anthropic", "llm.request.type": "completion",
			"gen_ai.request.model": "claude-3-5-haiku-20241022", "gen_ai.response.model": "claude-3-5-haiku-20241022",
			"gen_ai.usage.input_tokens": 5000, "gen_ai.usage.cache_read_input_tokens": 3000,
			"gen_ai.usage.cache_creation_input_tokens": 1000, "gen_ai.usage.output_tokens": 300, "llm.usage.total_tokens": 5300},
		// OpenLLMetry adds Anthropic's cache tokens into input. claude-3-5-haiku: 0.80 / read 0.08 / write 1.00 / out 4.00.
		status: "priced", cost: mtok(1000, 0.80) + mtok(3000, 0.08) + mtok(1000, 1.00) + mtok(300, 4.00),
		model: "claude-3-5-haiku-latest", match: "rule",
	},
	{
		name: "openinference_openai_reasoning", spanName: "ChatCompletion", start: sept2025,
		attrs: map[string]any{"openinference.span.kind": "LLM", "llm.provider": "openai", "llm.system": "openai",
			"llm.model_name": "o3", "llm.token_count.prompt": 2000, "llm.token_count.completion": 3000,
			"llm.token_count.prompt_details.cache_read": 1000, "llm.token_count.completion_details.reasoning": 2500,
			"llm.token_count.total": 5000},
		// o3 (current): input 2.00, cached 0.50, output 8.00 (reasoning billed as output).
		status: "priced", cost: mtok(1000, 2.00) + mtok(1000, 0.50) + mtok(3000, 8.00), model: "o3", match: "exact",
	},
	{
		name: "openinference_embedding", spanName: "CreateEmbeddings", start: sept2025,
		attrs: map[string]any{"openinference.span.kind": "EMBEDDING", "llm.provider": "openai",
			"embedding.model_name": "text-embedding-3-small", "llm.token_count.prompt": "10000", "llm.token_count.total": "10000"},
		// Token counts as numeric strings.
		status: "priced", cost: mtok(10000, 0.02), model: "text-embedding-3-small", match: "exact",
	},
	{
		name: "openinference_provided_cost", spanName: "ChatCompletion", start: sept2025,
		attrs: map[string]any{"openinference.span.kind": "LLM", "llm.provider": "openai", "llm.model_name": "gpt-4o",
			"llm.token_count.prompt": 100, "llm.token_count.completion": 10, "llm.cost.total": 0.00042},
		// The app's own cost wins and is copied to gen_ai.usage.cost.
		status: "provided", cost: 0.00042, model: "gpt-4o", match: "exact",
	},
	{
		name: "openinference_chain_skipped", spanName: "RunnableSequence", start: sept2025,
		attrs:  map[string]any{"openinference.span.kind": "CHAIN", "llm.token_count.prompt": 5000, "llm.token_count.completion": 100},
		status: "skipped",
	},
	{
		name: "openlit_silent_zero", spanName: "openai.chat.completions", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4.1",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100, "gen_ai.usage.total_tokens": 1100,
			"gen_ai.usage.cost": 0.0, "gen_ai.sdk.version": "1.34.0", "gen_ai.application_name": "default"},
		// OpenLIT sends 0 for a model it cannot price: a call that used tokens is priced
		// here, and the app's 0 is kept in llm_cost.provided_cost.
		status: "priced", cost: mtok(1000, 2.00) + mtok(100, 8.00), model: "gpt-4.1", match: "exact",
	},
	{
		name: "openlit_provided", spanName: "openai.chat.completions", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4.1",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100, "gen_ai.usage.cost": 0.0028,
			"gen_ai.usage.reasoning_tokens": 0},
		status: "provided", cost: 0.0028, model: "gpt-4.1", match: "exact",
	},
	{
		name: "vercel_anthropic_cache", spanName: "ai.generateText.doGenerate", start: sept2025,
		attrs: map[string]any{"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "anthropic.messages",
			"ai.model.id": "claude-sonnet-4-5", "ai.usage.inputTokens": 2000, "ai.usage.cachedInputTokens": 6000,
			"ai.usage.outputTokens": 400, "ai.usage.totalTokens": 2400,
			"gen_ai.system": "anthropic.messages", "gen_ai.request.model": "claude-sonnet-4-5",
			"gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 400},
		// AI SDK 5 passes Anthropic's input count through: cached tokens come on top.
		status: "priced", cost: mtok(2000, 3.00) + mtok(6000, 0.30) + mtok(400, 15.00), model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "vercel_openai_v4", spanName: "ai.streamText.doStream", start: sept2025,
		attrs: map[string]any{"ai.operationId": "ai.streamText.doStream", "ai.model.provider": "openai.chat",
			"ai.model.id": "gpt-4o-mini", "ai.response.model": "gpt-4o-mini-2024-07-18",
			"ai.usage.promptTokens": 1200, "ai.usage.completionTokens": 300},
		status: "priced", cost: mtok(1200, 0.15) + mtok(300, 0.60), model: "gpt-4o-mini", match: "rule",
	},
	{
		name: "vercel_outer_skipped", spanName: "ai.generateText", start: sept2025,
		attrs: map[string]any{"ai.operationId": "ai.generateText", "ai.model.provider": "openai.chat", "ai.model.id": "gpt-4o",
			"ai.usage.promptTokens": 1200, "ai.usage.completionTokens": 300},
		status: "skipped",
	},
	{
		name: "logfire_pydantic_ai", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.usage.input_tokens": 3000, "gen_ai.usage.output_tokens": 200,
			"gen_ai.usage.details.cache_read_tokens": 1000, "gen_ai.usage.details.reasoning_tokens": 0,
			"logfire.span_type": "span", "logfire.msg": "chat gpt-4o"},
		status: "priced", cost: mtok(2000, 2.50) + mtok(1000, 1.25) + mtok(200, 10.00), model: "gpt-4o", match: "rule",
	},
	{
		name: "logfire_agent_run_skipped", spanName: "agent run", start: sept2025,
		attrs: map[string]any{"gen_ai.agent.name": "support", "gen_ai.usage.input_tokens": 3000, "gen_ai.usage.output_tokens": 200,
			"logfire.span_type": "span"},
		status: "skipped",
	},
	{
		name: "otel_invoke_agent_skipped", spanName: "invoke_agent planner", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
			"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 9000, "gen_ai.usage.output_tokens": 900},
		status: "skipped",
	},
	{
		name: "unknown_model_unpriced", spanName: "chat acme-secret-model", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme",
			"gen_ai.request.model": "Acme-Secret-Model-7B", "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10},
		status: "unpriced", model: "acme-secret-model-7b",
	},
	{
		name: "invalid_negative", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": -5, "gen_ai.usage.output_tokens": 10},
		status: "invalid", model: "gpt-4o", match: "exact", errMsg: `gen_ai.usage.input_tokens: negative ("-5")`,
	},
	{
		name: "invalid_cache_exceeds_input", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 100, "gen_ai.usage.cache_read.input_tokens": 500, "gen_ai.usage.output_tokens": 10},
		status: "invalid", model: "gpt-4o", match: "exact", errMsg: "cached tokens (500) exceed input tokens (100)",
	},
	{
		name: "invalid_reasoning_exceeds_output", spanName: "chat o3", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "o3",
			"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10, "gen_ai.usage.reasoning.output_tokens": 50},
		status: "invalid", model: "o3", match: "exact", errMsg: "reasoning tokens (50) exceed output tokens (10)",
	},
	{
		name: "invalid_non_numeric", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": "lots", "gen_ai.usage.output_tokens": 12.5},
		status: "invalid", model: "gpt-4o", match: "exact", errMsg: `gen_ai.usage.input_tokens: not a number ("lots")`,
	},
	{
		name: "log_inference_event", log: true, start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "mistral_ai",
			"gen_ai.request.model": "mistral-small-latest", "gen_ai.usage.input_tokens": 4000, "gen_ai.usage.output_tokens": 1000},
		status: "priced", cost: mtok(4000, 0.10) + mtok(1000, 0.30), model: "mistral-small-latest", match: "exact",
	},
}

func goldenConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Aliases = map[string]string{"my-gpt4o-deployment": "gpt-4o"}
	return cfg
}

func TestGolden(t *testing.T) {
	ctx := context.Background()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", tc.name)
			in, out := filepath.Join(dir, "input.yaml"), filepath.Join(dir, "expected.yaml")
			var attrs pcommon.Map
			if tc.log {
				if *update {
					require.NoError(t, os.MkdirAll(dir, 0o755))
					require.NoError(t, golden.WriteLogs(t, in, oneLog(tc.start, tc.attrs)))
				}
				input, err := golden.ReadLogs(in)
				require.NoError(t, err)
				sink := new(consumertest.LogsSink)
				require.NoError(t, newLogsProcessor(t, goldenConfig(), sink).ConsumeLogs(ctx, input))
				got := sink.AllLogs()[0]
				if *update {
					require.NoError(t, golden.WriteLogs(t, out, got))
				}
				want, err := golden.ReadLogs(out)
				require.NoError(t, err)
				require.NoError(t, plogtest.CompareLogs(want, got))
				attrs = got.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
			} else {
				if *update {
					require.NoError(t, os.MkdirAll(dir, 0o755))
					require.NoError(t, golden.WriteTraces(t, in, oneSpan(tc.spanName, tc.start, tc.attrs)))
				}
				input, err := golden.ReadTraces(in)
				require.NoError(t, err)
				sink := new(consumertest.TracesSink)
				require.NoError(t, newTracesProcessor(t, goldenConfig(), sink).ConsumeTraces(ctx, input))
				got := sink.AllTraces()[0]
				if *update {
					require.NoError(t, golden.WriteTraces(t, out, got))
				}
				want, err := golden.ReadTraces(out)
				require.NoError(t, err)
				require.NoError(t, ptracetest.CompareTraces(want, got))
				attrs = firstSpanAttrs(got)
			}
			checkOutcome(t, tc, attrs)
		})
	}
}

// checkOutcome asserts the hand-computed result on the processed attributes.
func checkOutcome(t *testing.T, tc goldenCase, attrs pcommon.Map) {
	t.Helper()
	status, ok := attrs.Get(attrStatus)
	require.True(t, ok, "llm_cost.status missing")
	assert.Equal(t, tc.status, status.Str())
	cost, hasCost := attrs.Get(attrCost)
	switch tc.status {
	case "priced", "provided":
		require.True(t, hasCost, "gen_ai.usage.cost missing")
		assert.InDelta(t, tc.cost, cost.Double(), 1e-12, "cost")
		version, _ := attrs.Get(attrVersion)
		assert.Equal(t, "embedded 2026-09-23", version.Str())
	case "unpriced", "invalid", "skipped":
		if _, appSent := tc.attrs[attrCost]; !appSent {
			assert.False(t, hasCost, "no cost may be written for status %s", tc.status)
		}
	}
	if tc.status == "priced" {
		var sum float64
		attrs.Range(func(k string, v pcommon.Value) bool {
			if len(k) > len("llm_cost.breakdown.") && k[:len("llm_cost.breakdown.")] == "llm_cost.breakdown." {
				sum += v.Double()
			}
			return true
		})
		assert.InDelta(t, cost.Double(), sum, 1e-12, "the breakdown adds up to the cost")
	}
	if tc.model != "" {
		m, _ := attrs.Get(attrModel)
		assert.Equal(t, tc.model, m.Str(), "llm_cost.model")
	}
	if tc.match != "" {
		m, _ := attrs.Get(attrMatch)
		assert.Equal(t, tc.match, m.Str(), "llm_cost.match")
	}
	if tc.errMsg != "" {
		e, _ := attrs.Get(attrError)
		assert.Equal(t, tc.errMsg, e.Str(), "llm_cost.error")
	}
	// What the app sent is never changed (except a zero cost kept in provided_cost).
	for k, v := range tc.attrs {
		got, ok := attrs.Get(k)
		require.True(t, ok, "app attribute %s removed", k)
		if k == attrCost && tc.status == "priced" {
			prev, _ := attrs.Get(attrProvidedCost)
			assert.Equal(t, v, prev.AsRaw(), "the app's cost is kept in llm_cost.provided_cost")
			continue
		}
		want := pcommon.NewValueEmpty()
		require.NoError(t, want.FromRaw(v))
		assert.True(t, want.Equal(got), "app attribute %s changed: %v -> %v", k, v, got.AsRaw())
	}
}
