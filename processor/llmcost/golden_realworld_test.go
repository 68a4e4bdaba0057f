package llmcost

// Golden cases for the instrumentation libraries' real shapes (recorded from the npm
// packages in tests/node/llm, and read from the Python libraries' sources): their
// token semantics, conventions, service tiers, scoping and statuses. Expected costs
// come from the built-in table's rates (ratesOf), so they follow the price data when it
// is regenerated; the formulas are the pricing rules of README.md.

func init() { goldenCases = append(goldenCases, realWorldCases...) }

var (
	sonnet     = ratesOf("anthropic", "claude-sonnet-4-5", 0)
	sonnetLong = ratesOf("anthropic", "claude-sonnet-4-5", 250_000)
	haiku      = ratesOf("anthropic", "claude-haiku-4-5", 0)
	gpt4o      = ratesOf("openai", "gpt-4o", 0)
	o4mini     = ratesOf("openai", "o4-mini", 0)
	gpt41      = ratesOf("openai", "gpt-4.1", 0)
	flash      = ratesOf("google", "gemini-2.5-flash", 0)
)

// anthropicCache is 50 uncached input tokens, 4000 cache reads, 600 5-minute and 400
// 1-hour cache writes and 300 output tokens on Claude Sonnet 4.5.
var anthropicCache = mtok(50, sonnet.in) + mtok(4000, sonnet.cacheRead) + mtok(600, sonnet.cacheWrite) +
	mtok(400, sonnet.cacheWrite1h) + mtok(300, sonnet.out)

// anthropicCache5m is the same call when the source does not tell the 1-hour writes apart.
var anthropicCache5m = mtok(50, sonnet.in) + mtok(4000, sonnet.cacheRead) + mtok(1000, sonnet.cacheWrite) + mtok(300, sonnet.out)

var realWorldCases = []goldenCase{
	// --- Token semantics per source ---
	{
		name: "openllmetry_js_anthropic_exclusive", scope: "@traceloop/instrumentation-anthropic", spanName: "chat claude-sonnet-4-5",
		start: sept2025,
		attrs: map[string]any{"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.response.model": "claude-sonnet-4-5-20250929",
			"gen_ai.usage.input_tokens": 50, "gen_ai.usage.cache_read.input_tokens": 4000,
			"gen_ai.usage.cache_creation.input_tokens": 1000, "gen_ai.usage.output_tokens": 300},
		// @traceloop/instrumentation-anthropic 0.27 passes Anthropic's input_tokens
		// (without the cache) through; the table knows it.
		status: "priced", cost: anthropicCache5m, model: "claude-sonnet-4-5", match: "rule",
		note: "input tokens as OpenLLMetry JS reports them exclude cached tokens: added",
	},
	{
		name: "openllmetry_python_anthropic_inclusive", scope: "opentelemetry.instrumentation.anthropic", spanName: "anthropic.chat",
		start: sept2025,
		attrs: map[string]any{"gen_ai.system": "Anthropic", "llm.request.type": "completion",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 5050,
			"gen_ai.usage.cache_read.input_tokens": 4000, "gen_ai.usage.cache_creation.input_tokens": 1000,
			"gen_ai.usage.output_tokens": 300},
		status: "priced", cost: anthropicCache5m, model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "openlit_anthropic_exclusive", scope: "@openlit/instrumentation-anthropic", spanName: "chat claude-sonnet-4-5",
		start: sept2025,
		attrs: map[string]any{"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "claude-sonnet-4-5", "telemetry.sdk.name": "openlit",
			"gen_ai.usage.input_tokens": 250000, "gen_ai.usage.output_tokens": 1000,
			"gen_ai.usage.cost": 0.765},
		// OpenLIT's own figure ignores the long-context prices: the table's is used, and
		// OpenLIT's kept and marked.
		status: "priced", cost: mtok(250000, sonnetLong.in) + mtok(1000, sonnetLong.out), model: "claude-sonnet-4-5", match: "exact",
		providedCost: 0.765, mismatch: true,
	},
	{
		name: "openlit_python_anthropic_cache", scope: "openlit.otel.tracing", spanName: "chat claude-sonnet-4-5", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "anthropic", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "claude-sonnet-4-5", "telemetry.sdk.name": "openlit",
			"gen_ai.usage.input_tokens": 50, "gen_ai.usage.cache_read.input_tokens": 4000,
			"gen_ai.usage.cache_creation.input_tokens": 1000, "gen_ai.usage.output_tokens": 300},
		status: "priced", cost: anthropicCache5m, model: "claude-sonnet-4-5", match: "exact",
		note: "input tokens as OpenLIT reports them exclude cached tokens: added",
	},
	{
		name: "unknown_source_cache_exceeds_input", scope: "my-own-wrapper", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 50,
			"gen_ai.usage.cache_read.input_tokens": 4000, "gen_ai.usage.cache_creation.input_tokens": 1000,
			"gen_ai.usage.output_tokens": 300},
		// A source the table does not know whose cache cannot fit in its input count.
		status: "priced", cost: anthropicCache5m, model: "claude-sonnet-4-5", match: "exact",
		note: "cached tokens exceed input tokens: input read as excluding them",
	},
	{
		name: "known_inclusive_source_cache_exceeds_input", scope: "@arizeai/openinference-instrumentation-anthropic",
		spanName: "Anthropic Messages", start: sept2025,
		attrs: map[string]any{"openinference.span.kind": "LLM", "llm.provider": "anthropic", "llm.model_name": "claude-sonnet-4-5",
			"llm.token_count.prompt": 50, "llm.token_count.completion": 300, "llm.token_count.prompt_details.cache_read": 4000},
		// OpenInference counts the cache in its prompt tokens: counts that contradict that
		// are bad data, not another meaning.
		status: "invalid", model: "claude-sonnet-4-5", match: "exact", errMsg: "cached tokens (4000) exceed input tokens (50)",
	},
	// --- Conventions ---
	{
		name: "anthropic_sdk_cache_split", scope: "com.anthropic.sdk.typescript", spanName: "anthropic.messages.create", start: sept2025,
		attrs: map[string]any{"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.response.model": "claude-sonnet-4-5-20250929",
			"gen_ai.usage.input_tokens": 5050, "gen_ai.usage.cache_read.input_tokens": 4000,
			"gen_ai.usage.cache_write.input_tokens":                    1000,
			"anthropic.usage.cache_creation.ephemeral_5m_input_tokens": 600,
			"anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 400,
			"anthropic.response.service_tier":                          "standard", "gen_ai.usage.output_tokens": 300},
		status: "priced", cost: anthropicCache, model: "claude-sonnet-4-5", match: "rule", tier: "standard",
	},
	{
		name: "sentry_names", scope: "sentry.python", spanName: "chat claude-sonnet-4-5", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5",
			"gen_ai.usage.input_tokens": 5050, "gen_ai.usage.input_tokens.cached": 4000,
			"gen_ai.usage.input_tokens.cache_write": 1000, "gen_ai.usage.output_tokens": 300,
			"gen_ai.usage.output_tokens.reasoning": 100},
		status: "priced", cost: anthropicCache5m - mtok(100, sonnet.out) + mtok(100, sonnet.reasoning),
		model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "logfire_python_usage_raw", scope: "logfire", spanName: "Message with 'claude-sonnet-4-5'", start: sept2025,
		attrs: map[string]any{"gen_ai.system": "anthropic", "gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat",
			"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.response.model": "claude-sonnet-4-5-20250929",
			"gen_ai.usage.input_tokens": 5050, "gen_ai.usage.output_tokens": 300,
			"gen_ai.usage.raw": `{"input_tokens":50,"cache_creation_input_tokens":1000,"cache_read_input_tokens":4000,` +
				`"cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400},"output_tokens":300,"service_tier":"standard"}`,
			"operation.cost": anthropicCache, "logfire.span_type": "span"},
		// Logfire puts the cache only in gen_ai.usage.raw; its operation.cost (from
		// genai-prices) agrees with the table's.
		status: "priced", cost: anthropicCache, model: "claude-sonnet-4-5", match: "rule", tier: "standard",
		providedCost: anthropicCache,
	},
	{
		name: "pydantic_ai_thinking_details", scope: "pydantic-ai", spanName: "chat claude-sonnet-4-5", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.system": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5",
			"gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 900,
			"gen_ai.usage.details.thinking_tokens": 600},
		status: "priced", cost: mtok(2000, sonnet.in) + mtok(300, sonnet.out) + mtok(600, sonnet.reasoning),
		model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "vercel_v6_anthropic_metadata", scope: "ai", spanName: "ai.generateText.doGenerate", start: sept2025,
		attrs: map[string]any{"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "anthropic.messages",
			"ai.model.id": "claude-sonnet-4-5", "ai.response.model": "claude-sonnet-4-5-20250929",
			"ai.usage.inputTokens": 5050, "ai.usage.inputTokenDetails.noCacheTokens": 50,
			"ai.usage.inputTokenDetails.cacheReadTokens": 4000, "ai.usage.inputTokenDetails.cacheWriteTokens": 1000,
			"ai.usage.outputTokens": 300,
			"ai.response.providerMetadata": `{"anthropic":{"usage":{"input_tokens":50,"output_tokens":300,"cache_creation_input_tokens":1000,` +
				`"cache_read_input_tokens":4000,"cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400},` +
				`"service_tier":"standard"}}}`},
		// The 1-hour writes are only in the provider metadata.
		status: "priced", cost: anthropicCache, model: "claude-sonnet-4-5", match: "rule", tier: "standard",
	},
	// --- Statuses ---
	{
		name: "logfire_pending_span_skipped", scope: "@opentelemetry/instrumentation-openai", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai",
			"logfire.pending_parent_id": "b50a76677570c355", "logfire.span_type": "pending_span"},
		status: "skipped",
	},
	{
		name: "vercel_embed_outer_skipped", scope: "ai", spanName: "ai.embed", start: sept2025,
		attrs: map[string]any{"ai.operationId": "ai.embed", "ai.model.provider": "openai.embedding",
			"ai.model.id": "text-embedding-3-small", "ai.usage.tokens": 120},
		status: "skipped",
	},
	{
		name: "openinference_stream_no_usage", scope: "@arizeai/openinference-instrumentation-openai",
		spanName: "OpenAI Chat Completions", start: sept2025,
		attrs: map[string]any{"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.system": "openai",
			"llm.invocation_parameters": `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`},
		status: "no_usage", model: "gpt-4o-mini", match: "exact",
	},
	{
		name: "invalid_moves_app_cost", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": -5, "gen_ai.usage.output_tokens": 10, "gen_ai.usage.cost": 0.25},
		status: "invalid", model: "gpt-4o", match: "exact", errMsg: `gen_ai.usage.input_tokens: negative ("-5")`, providedCost: 0.25,
	},
	// --- Service tiers ---
	{
		name: "tier_openai_flex", scope: "@opentelemetry/instrumentation-openai", spanName: "chat o4-mini", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "o4-mini",
			"gen_ai.response.model": "o4-mini-2025-04-16", "openai.request.service_tier": "flex",
			"openai.response.service_tier": "flex", "gen_ai.usage.input_tokens": 2000,
			"gen_ai.usage.cache_read.input_tokens": 1024, "gen_ai.usage.output_tokens": 1500,
			"gen_ai.usage.reasoning.output_tokens": 1000},
		// Flex: half the standard price (servicetiers.yaml, OpenAI's flex processing page).
		status: "priced", cost: 0.5 * (mtok(976, o4mini.in) + mtok(1024, o4mini.cacheRead) + mtok(1500, o4mini.out)),
		model: "o4-mini", match: "rule", tier: "flex",
	},
	{
		name: "tier_openai_priority", scope: "openlit", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"openai.response.service_tier": "priority", "gen_ai.usage.input_tokens": 5000,
			"gen_ai.usage.cache_read.input_tokens": 1000, "gen_ai.usage.output_tokens": 200},
		// Priority: gpt-4o's own prices on OpenAI's priority processing page.
		status: "priced", cost: mtok(4000, 4.25) + mtok(1000, 2.125) + mtok(200, 17.00), model: "gpt-4o", match: "exact", tier: "priority",
	},
	{
		name: "tier_openai_priority_long_context", spanName: "chat gpt-4.1", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4.1",
			"gen_ai.openai.response.service_tier": "priority", "gen_ai.usage.input_tokens": 150000, "gen_ai.usage.output_tokens": 100},
		status: "priced", cost: mtok(150000, gpt41.in) + mtok(100, gpt41.out), model: "gpt-4.1", match: "exact", tier: "priority",
		note: "calls above 128000 input tokens are not eligible for the priority tier: priced as standard",
	},
	{
		name: "tier_anthropic_batch", scope: "com.anthropic.sdk.typescript", spanName: "anthropic.messages.create", start: sept2025,
		attrs: map[string]any{"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-haiku-4-5",
			"anthropic.response.service_tier": "batch", "gen_ai.usage.input_tokens": 10000, "gen_ai.usage.output_tokens": 500},
		status: "priced", cost: 0.5 * (mtok(10000, haiku.in) + mtok(500, haiku.out)), model: "claude-haiku-4-5", match: "exact", tier: "batch",
	},
	{
		name: "tier_anthropic_priority_unpriced", scope: "com.anthropic.sdk.typescript", spanName: "anthropic.messages.create",
		start: sept2025,
		attrs: map[string]any{"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-haiku-4-5",
			"anthropic.response.service_tier": "priority", "gen_ai.usage.input_tokens": 10000, "gen_ai.usage.output_tokens": 500},
		status: "priced", cost: mtok(10000, haiku.in) + mtok(500, haiku.out), model: "claude-haiku-4-5", match: "exact", tier: "priority",
		note: "no published per-token price for the priority tier of anthropic: priced as standard",
	},
	{
		name: "tier_not_a_tier", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"openai.response.service_tier": "ludicrous", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		status: "priced", cost: mtok(1000, gpt4o.in) + mtok(100, gpt4o.out), model: "gpt-4o", match: "exact",
		note: `service tier "ludicrous" is not a tier: priced as standard`,
	},
	{
		name: "tier_openinference_request", scope: "@arizeai/openinference-instrumentation-openai", spanName: "OpenAI Chat Completions",
		start: sept2025,
		attrs: map[string]any{"openinference.span.kind": "LLM", "llm.model_name": "o4-mini-2025-04-16", "llm.system": "openai",
			"llm.invocation_parameters": `{"model":"o4-mini","service_tier":"flex"}`,
			"llm.token_count.prompt":    2000, "llm.token_count.completion": 1500},
		status: "priced", cost: 0.5 * (mtok(2000, o4mini.in) + mtok(1500, o4mini.out)), model: "o4-mini", match: "rule", tier: "flex",
	},
	{
		name: "tier_request_auto", spanName: "chat gpt-4o", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
			"openai.request.service_tier": "auto", "openai.response.service_tier": "default",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		status: "priced", cost: mtok(1000, gpt4o.in) + mtok(100, gpt4o.out), model: "gpt-4o", match: "exact", tier: "standard",
	},
	{
		name: "tier_gemini_flex_vercel", scope: "ai", spanName: "ai.generateText.doGenerate", start: sept2025,
		attrs: map[string]any{"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": "google.generative-ai",
			"ai.model.id": "gemini-2.5-flash", "ai.usage.inputTokens": 3000, "ai.usage.inputTokenDetails.noCacheTokens": 2000,
			"ai.usage.inputTokenDetails.cacheReadTokens": 1000, "ai.usage.outputTokens": 600,
			"ai.usage.outputTokenDetails.reasoningTokens": 200,
			"ai.response.providerMetadata":                `{"google":{"usageMetadata":{"promptTokenCount":3000},"serviceTier":"flex"}}`},
		status: "priced", cost: 0.5 * (mtok(2000, flash.in) + mtok(1000, flash.cacheRead) + mtok(400, flash.out) + mtok(200, flash.reasoning)),
		model: "gemini-2.5-flash", match: "exact", tier: "flex",
	},
	// --- Scoping ---
	{
		name: "scope_provider_prefix_long_context", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "anthropic/claude-sonnet-4-5",
			"gen_ai.usage.input_tokens": 250000, "gen_ai.usage.output_tokens": 1000},
		// The prefix names Anthropic, whose entry has the long-context prices (another
		// provider's rule also matches claude-sonnet-4-5, without them).
		status: "priced", cost: mtok(250000, sonnetLong.in) + mtok(1000, sonnetLong.out), model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "scope_provider_prefix_through_openai_client", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
			"gen_ai.request.model": "anthropic/claude-sonnet-4-5", "server.address": "openrouter.ai",
			"gen_ai.usage.input_tokens": 250000, "gen_ai.usage.output_tokens": 1000},
		// A gateway (OpenRouter, a LiteLLM proxy) called with the openai client, whose
		// instrumentation names openai whatever the base URL: OpenAI sells no such
		// model, the name's own prefix names the provider that does.
		status: "priced", cost: mtok(250000, sonnetLong.in) + mtok(1000, sonnetLong.out), model: "claude-sonnet-4-5", match: "exact",
	},
	{
		name: "scope_provider_without_the_model", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "aws.bedrock", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		// Bedrock sells no gpt-4o: never OpenAI's list price.
		status: "unpriced", model: "gpt-4o",
	},
	{
		name: "scope_unknown_provider", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme-gateway", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		status: "unpriced", model: "gpt-4o",
	},
	{
		name: "scope_azure_falls_back_to_openai", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "azure.ai.openai", "gen_ai.request.model": "gpt-4o",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		status: "priced", cost: mtok(1000, gpt4o.in) + mtok(100, gpt4o.out), model: "gpt-4o", match: "exact",
	},
	{
		name: "scope_no_provider_any_provider", spanName: "chat", start: sept2025,
		attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "llama-3.3-70b-versatile",
			"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
		// No provider, no provider's rule claims the name: found by searching every
		// provider, and marked.
		status: "priced", cost: mtok(1000, ratesOf("groq", "llama-3.3-70b-versatile", 0).in) + mtok(100, ratesOf("groq", "llama-3.3-70b-versatile", 0).out),
		model: "llama-3.3-70b-versatile", match: "any_provider",
	},
}
