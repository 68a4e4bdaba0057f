package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import "strings"

// Per-source token semantics: whether a span's input count includes the cached tokens.
//
// The OTel GenAI conventions count every input token in gen_ai.usage.input_tokens,
// cache reads and writes included, and every output token, reasoning included. Most
// libraries follow them. Anthropic's API (and Bedrock's Converse API) reports
// input_tokens without the cached ones, and some libraries pass that number through.
// The table below names those sources by their instrumentation scope (or OpenLIT's
// telemetry.sdk.name); README.md "Token semantics" lists every library checked and
// the source or test each row comes from.

// inputSemantics says how a source counts input tokens.
type inputSemantics uint8

const (
	inputUnknown       inputSemantics = iota // not in the table: OTel meaning, unless the counts prove otherwise
	inputIncludesCache                       // a known source that follows the OTel meaning
	inputExcludesCache                       // a known source that reports Anthropic's own input_tokens
)

// sourceRule is one row of the table: spans whose scope starts with scopePrefix (or
// whose telemetry.sdk.name is sdkName) and whose provider serves Anthropic models.
type sourceRule struct {
	scopePrefix, sdkName string
	input                inputSemantics
	name                 string // for the note written when input is read as exclusive
}

var sourceRules = []sourceRule{
	// @anthropic-ai/sdk traces its own calls with the OTel meaning (input_tokens is
	// the sum of input, cache read and cache creation tokens).
	{scopePrefix: "com.anthropic.sdk", input: inputIncludesCache},
	// OpenLLMetry JS (@traceloop/instrumentation-anthropic 0.27) passes input_tokens
	// through; OpenLLMetry Python adds the cache tokens in.
	{scopePrefix: "@traceloop/instrumentation-anthropic", input: inputExcludesCache, name: "OpenLLMetry JS"},
	{scopePrefix: "opentelemetry.instrumentation.anthropic", input: inputIncludesCache},
	// OpenInference (JS and Python) adds the cache tokens into llm.token_count.prompt.
	{scopePrefix: "@arizeai/openinference-instrumentation-anthropic", input: inputIncludesCache},
	{scopePrefix: "openinference.instrumentation.anthropic", input: inputIncludesCache},
	// OpenLIT (JS and Python) reports Anthropic's input_tokens as they are.
	{sdkName: "openlit", input: inputExcludesCache, name: "OpenLIT"},
	{scopePrefix: "@openlit/", input: inputExcludesCache, name: "OpenLIT"},
	{scopePrefix: "openlit", input: inputExcludesCache, name: "OpenLIT"},
	// Logfire (Python, instrument_anthropic) and Pydantic AI add the cache tokens in.
	{scopePrefix: "logfire", input: inputIncludesCache},
	{scopePrefix: "pydantic-ai", input: inputIncludesCache},
	{scopePrefix: "pydantic_ai", input: inputIncludesCache},
	// Sentry's SDKs add the cache tokens in.
	{scopePrefix: "sentry", input: inputIncludesCache},
}

// sourceOf looks the span's source up in the table. Only Anthropic-style providers
// report input without the cache, so every other provider follows the conventions.
// provider is the canonical gen_ai.provider.name ("" when none was sent).
func sourceOf(scope string, f *fields, provider string) sourceRule {
	if !cacheExclusiveProvider(provider) {
		return sourceRule{input: inputIncludesCache}
	}
	if f.has(kSDKName) {
		sdk := f.str(kSDKName)
		for _, r := range sourceRules {
			if r.sdkName != "" && strings.EqualFold(sdk, r.sdkName) {
				return r
			}
		}
	}
	for _, r := range sourceRules {
		if r.scopePrefix != "" && strings.HasPrefix(scope, r.scopePrefix) {
			return r
		}
	}
	return sourceRule{input: inputUnknown}
}

// cacheExclusiveProvider reports whether a provider (canonical gen_ai.provider.name)
// may report input tokens without the cached ones on its own API: Anthropic, and
// Anthropic's models on Bedrock and Vertex AI. An unknown provider may be one of them;
// the providers of the OTel conventions that report input with the cache are not.
func cacheExclusiveProvider(provider string) bool {
	switch provider {
	case "openai", "azure.ai.openai", "azure.ai.inference", "gcp.gemini", "gcp.gen_ai", "cohere", "deepseek",
		"groq", "mistral_ai", "perplexity", "x_ai", "ibm.watsonx.ai":
		return false
	}
	return true
}
