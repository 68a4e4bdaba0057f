package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import "go.opentelemetry.io/collector/pdata/pcommon"

// Attributes the processor writes (see README "Attributes written").
const (
	attrCost             = "gen_ai.usage.cost"
	attrStatus           = "llm_cost.status"
	attrModel            = "llm_cost.model"
	attrMatch            = "llm_cost.match"
	attrVersion          = "llm_cost.pricing_version"
	attrError            = "llm_cost.error"
	attrProvidedCost     = "llm_cost.provided_cost"
	attrBreakInput       = "llm_cost.breakdown.input"
	attrBreakOutput      = "llm_cost.breakdown.output"
	attrBreakCacheRead   = "llm_cost.breakdown.cache_read"
	attrBreakCacheWr     = "llm_cost.breakdown.cache_write"
	attrBreakReasoning   = "llm_cost.breakdown.reasoning"
	attrBreakRequest     = "llm_cost.breakdown.request"
	attrNote             = "llm_cost.note"
	attrDuplicateOf      = "llm_cost.duplicate_of"
	attrRequestCountedBy = "llm_cost.request_counted_by"
	attrServiceTier      = "llm_cost.service_tier"
	attrCostMismatch     = "llm_cost.provided_cost_mismatch"
)

// Statuses written as llm_cost.status.
const (
	statusPriced   = "priced"
	statusProvided = "provided"
	statusUnpriced = "unpriced"
	statusInvalid  = "invalid"
	statusSkipped  = "skipped"
	statusNoUsage  = "no_usage"
	statusDup      = "duplicate"
)

// key identifies an attribute the processor reads. The scan records each one's value
// in one pass over the attributes (see scan), so no attribute is looked up twice.
type key uint8

const (
	kOperation key = iota // gen_ai.operation.name
	kProviderName
	kSystem
	kRequestModel
	kResponseModel
	kAgentName
	// OTel GenAI usage, current and deprecated names, and the other conventions that
	// share the gen_ai.usage prefix (OpenLLMetry, OpenLIT, Logfire/Pydantic AI).
	kInputTokens
	kPromptTokens
	kOutputTokens
	kCompletionTokens
	kCacheRead
	kCacheReadOLL
	kCacheReadDetails
	kCacheCreation
	kCacheWrite
	kCacheCreationOLL
	kCacheWriteDetails
	kCacheWrite5m
	kCacheWrite1h
	kReasoning
	kReasoningOLIT
	kReasoningDetails
	kReasoningThinking // Pydantic AI's Anthropic detail
	kReasoningThoughts // Pydantic AI's Google detail
	kReasoningOLL      // OpenLLMetry
	// Sentry's names.
	kCacheReadSentry
	kCacheWriteSentry
	kReasoningSentry
	// The Anthropic SDK's own spans: the 5-minute and 1-hour parts of the cache writes.
	kAnthropicWrite5m
	kAnthropicWrite1h
	// Logfire (Python): the provider's usage object as JSON.
	kUsageRaw
	// OpenLLMetry / Traceloop.
	kRequestType
	kTraceloopKind
	// OpenInference.
	kOIKind
	kOIProvider
	kOISystem
	kOIModel
	kOIEmbeddingModel
	kOIPrompt
	kOICompletion
	kOICacheRead
	kOICacheWrite
	kOIReasoning
	// Vercel AI SDK.
	kAIOperation
	kAIProvider
	kAIModel
	kAIResponseModel
	kAIInput
	kAIPrompt
	kAIOutput
	kAICompletion
	kAITokens
	kAICached
	kAIReasoning
	kAINoCache
	kAICacheRead
	kAICacheWrite
	kAIOutReasoning
	kAIProviderMetadata // JSON: the provider's usage and service tier
	// Service tiers, response (the tier used) before request (the tier asked for).
	kTierOpenAIResp
	kTierOpenAIRespOld
	kTierAnthropicResp
	kTierOpenAIReq
	kTierOpenAIReqOld
	kTierAnthropicReq
	kOIInvocationParams // OpenInference: the request's parameters as JSON
	// What identifies a call and its source.
	kResponseID
	kSpanType // Logfire: pending_span marks the start of a span still running
	kSDKName  // OpenLIT writes telemetry.sdk.name on every span
	// Costs the app sent, in order of preference.
	kCostGenAI
	kCostOI
	kCostOperation
	kCostAmount
	kCostTotal
	// Our own marker: a record that already carries it was processed upstream.
	kStatus
	numKeys
)

var keyNames = [numKeys]string{
	kOperation: "gen_ai.operation.name", kProviderName: "gen_ai.provider.name", kSystem: "gen_ai.system",
	kRequestModel: "gen_ai.request.model", kResponseModel: "gen_ai.response.model", kAgentName: "gen_ai.agent.name",
	kInputTokens: "gen_ai.usage.input_tokens", kPromptTokens: "gen_ai.usage.prompt_tokens",
	kOutputTokens: "gen_ai.usage.output_tokens", kCompletionTokens: "gen_ai.usage.completion_tokens",
	kCacheRead: "gen_ai.usage.cache_read.input_tokens", kCacheReadOLL: "gen_ai.usage.cache_read_input_tokens",
	kCacheReadDetails: "gen_ai.usage.details.cache_read_tokens",
	kCacheCreation:    "gen_ai.usage.cache_creation.input_tokens", kCacheWrite: "gen_ai.usage.cache_write.input_tokens",
	kCacheCreationOLL: "gen_ai.usage.cache_creation_input_tokens", kCacheWriteDetails: "gen_ai.usage.details.cache_write_tokens",
	kCacheWrite5m: "gen_ai.usage.cache_creation.ephemeral_5m_input_tokens",
	kCacheWrite1h: "gen_ai.usage.cache_creation.ephemeral_1h_input_tokens",
	kReasoning:    "gen_ai.usage.reasoning.output_tokens", kReasoningOLIT: "gen_ai.usage.reasoning_tokens",
	kReasoningDetails:  "gen_ai.usage.details.reasoning_tokens",
	kReasoningThinking: "gen_ai.usage.details.thinking_tokens", kReasoningThoughts: "gen_ai.usage.details.thoughts_tokens",
	kReasoningOLL:    "llm.usage.reasoning_tokens",
	kCacheReadSentry: "gen_ai.usage.input_tokens.cached", kCacheWriteSentry: "gen_ai.usage.input_tokens.cache_write",
	kReasoningSentry:  "gen_ai.usage.output_tokens.reasoning",
	kAnthropicWrite5m: "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
	kAnthropicWrite1h: "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
	kUsageRaw:         "gen_ai.usage.raw",
	kRequestType:      "llm.request.type", kTraceloopKind: "traceloop.span.kind",
	kOIKind: "openinference.span.kind", kOIProvider: "llm.provider", kOISystem: "llm.system",
	kOIModel: "llm.model_name", kOIEmbeddingModel: "embedding.model_name",
	kOIPrompt: "llm.token_count.prompt", kOICompletion: "llm.token_count.completion",
	kOICacheRead: "llm.token_count.prompt_details.cache_read", kOICacheWrite: "llm.token_count.prompt_details.cache_write",
	kOIReasoning: "llm.token_count.completion_details.reasoning",
	kAIOperation: "ai.operationId", kAIProvider: "ai.model.provider", kAIModel: "ai.model.id",
	kAIResponseModel: "ai.response.model", kAIInput: "ai.usage.inputTokens", kAIPrompt: "ai.usage.promptTokens",
	kAIOutput: "ai.usage.outputTokens", kAICompletion: "ai.usage.completionTokens", kAITokens: "ai.usage.tokens",
	kAICached: "ai.usage.cachedInputTokens", kAIReasoning: "ai.usage.reasoningTokens",
	kAINoCache: "ai.usage.inputTokenDetails.noCacheTokens", kAICacheRead: "ai.usage.inputTokenDetails.cacheReadTokens",
	kAICacheWrite: "ai.usage.inputTokenDetails.cacheWriteTokens", kAIOutReasoning: "ai.usage.outputTokenDetails.reasoningTokens",
	kAIProviderMetadata: "ai.response.providerMetadata",
	kTierOpenAIResp:     "openai.response.service_tier", kTierOpenAIRespOld: "gen_ai.openai.response.service_tier",
	kTierAnthropicResp: "anthropic.response.service_tier", kTierOpenAIReq: "openai.request.service_tier",
	kTierOpenAIReqOld: "gen_ai.openai.request.service_tier", kTierAnthropicReq: "anthropic.request.service_tier",
	kOIInvocationParams: "llm.invocation_parameters",
	kResponseID:         "gen_ai.response.id", kSpanType: "logfire.span_type", kSDKName: "telemetry.sdk.name",
	kCostGenAI: "gen_ai.usage.cost", kCostOI: "llm.cost.total", kCostOperation: "operation.cost",
	kCostAmount: "gen_ai.usage.cost.amount", kCostTotal: "gen_ai.usage.total_cost",
	kStatus: attrStatus,
}

// fields are the attributes of one span or log record that the processor reads.
type fields struct {
	present [2]uint64 // a bit per key
	values  [numKeys]pcommon.Value
}

func (f *fields) has(k key) bool { return f.present[k>>6]&(1<<(k&63)) != 0 }

func (f *fields) none() bool { return f.present[0]|f.present[1] == 0 }

func (f *fields) str(k key) string {
	if !f.has(k) || f.values[k].Type() != pcommon.ValueTypeStr {
		return ""
	}
	return f.values[k].Str()
}

// scan records the attributes the processor reads in one pass. Keys that cannot be one
// of them are rejected on their first byte, so most attributes cost one comparison.
func (f *fields) scan(attrs pcommon.Map) {
	f.present = [2]uint64{}
	attrs.Range(func(k string, v pcommon.Value) bool {
		if len(k) < 6 {
			return true
		}
		switch k[0] {
		case 'g', 'l', 'a', 'o', 't', 'e':
		default:
			return true
		}
		if id, ok := lookupKey(k); ok {
			f.present[id>>6] |= 1 << (id & 63)
			f.values[id] = v
		}
		return true
	})
}

// lookupKey finds the key of an attribute name. A switch on the name compiles to a
// search by length and content that beats hashing it for the few dozen names read.
func lookupKey(name string) (key, bool) {
	switch name {
	case "gen_ai.operation.name":
		return kOperation, true
	case "gen_ai.provider.name":
		return kProviderName, true
	case "gen_ai.system":
		return kSystem, true
	case "gen_ai.request.model":
		return kRequestModel, true
	case "gen_ai.response.model":
		return kResponseModel, true
	case "gen_ai.agent.name":
		return kAgentName, true
	case "gen_ai.usage.input_tokens":
		return kInputTokens, true
	case "gen_ai.usage.prompt_tokens":
		return kPromptTokens, true
	case "gen_ai.usage.output_tokens":
		return kOutputTokens, true
	case "gen_ai.usage.completion_tokens":
		return kCompletionTokens, true
	case "gen_ai.usage.cache_read.input_tokens":
		return kCacheRead, true
	case "gen_ai.usage.cache_read_input_tokens":
		return kCacheReadOLL, true
	case "gen_ai.usage.details.cache_read_tokens":
		return kCacheReadDetails, true
	case "gen_ai.usage.cache_creation.input_tokens":
		return kCacheCreation, true
	case "gen_ai.usage.cache_write.input_tokens":
		return kCacheWrite, true
	case "gen_ai.usage.cache_creation_input_tokens":
		return kCacheCreationOLL, true
	case "gen_ai.usage.details.cache_write_tokens":
		return kCacheWriteDetails, true
	case "gen_ai.usage.cache_creation.ephemeral_5m_input_tokens":
		return kCacheWrite5m, true
	case "gen_ai.usage.cache_creation.ephemeral_1h_input_tokens":
		return kCacheWrite1h, true
	case "gen_ai.usage.reasoning.output_tokens":
		return kReasoning, true
	case "gen_ai.usage.reasoning_tokens":
		return kReasoningOLIT, true
	case "gen_ai.usage.details.reasoning_tokens":
		return kReasoningDetails, true
	case "gen_ai.usage.details.thinking_tokens":
		return kReasoningThinking, true
	case "gen_ai.usage.details.thoughts_tokens":
		return kReasoningThoughts, true
	case "llm.usage.reasoning_tokens":
		return kReasoningOLL, true
	case "gen_ai.usage.input_tokens.cached":
		return kCacheReadSentry, true
	case "gen_ai.usage.input_tokens.cache_write":
		return kCacheWriteSentry, true
	case "gen_ai.usage.output_tokens.reasoning":
		return kReasoningSentry, true
	case "anthropic.usage.cache_creation.ephemeral_5m_input_tokens":
		return kAnthropicWrite5m, true
	case "anthropic.usage.cache_creation.ephemeral_1h_input_tokens":
		return kAnthropicWrite1h, true
	case "gen_ai.usage.raw":
		return kUsageRaw, true
	case "ai.response.providerMetadata":
		return kAIProviderMetadata, true
	case "openai.response.service_tier":
		return kTierOpenAIResp, true
	case "gen_ai.openai.response.service_tier":
		return kTierOpenAIRespOld, true
	case "anthropic.response.service_tier":
		return kTierAnthropicResp, true
	case "openai.request.service_tier":
		return kTierOpenAIReq, true
	case "gen_ai.openai.request.service_tier":
		return kTierOpenAIReqOld, true
	case "anthropic.request.service_tier":
		return kTierAnthropicReq, true
	case "llm.invocation_parameters":
		return kOIInvocationParams, true
	case "gen_ai.response.id":
		return kResponseID, true
	case "logfire.span_type":
		return kSpanType, true
	case "telemetry.sdk.name":
		return kSDKName, true
	case "llm.request.type":
		return kRequestType, true
	case "traceloop.span.kind":
		return kTraceloopKind, true
	case "openinference.span.kind":
		return kOIKind, true
	case "llm.provider":
		return kOIProvider, true
	case "llm.system":
		return kOISystem, true
	case "llm.model_name":
		return kOIModel, true
	case "embedding.model_name":
		return kOIEmbeddingModel, true
	case "llm.token_count.prompt":
		return kOIPrompt, true
	case "llm.token_count.completion":
		return kOICompletion, true
	case "llm.token_count.prompt_details.cache_read":
		return kOICacheRead, true
	case "llm.token_count.prompt_details.cache_write":
		return kOICacheWrite, true
	case "llm.token_count.completion_details.reasoning":
		return kOIReasoning, true
	case "ai.operationId":
		return kAIOperation, true
	case "ai.model.provider":
		return kAIProvider, true
	case "ai.model.id":
		return kAIModel, true
	case "ai.response.model":
		return kAIResponseModel, true
	case "ai.usage.inputTokens":
		return kAIInput, true
	case "ai.usage.promptTokens":
		return kAIPrompt, true
	case "ai.usage.outputTokens":
		return kAIOutput, true
	case "ai.usage.completionTokens":
		return kAICompletion, true
	case "ai.usage.tokens":
		return kAITokens, true
	case "ai.usage.cachedInputTokens":
		return kAICached, true
	case "ai.usage.reasoningTokens":
		return kAIReasoning, true
	case "ai.usage.inputTokenDetails.noCacheTokens":
		return kAINoCache, true
	case "ai.usage.inputTokenDetails.cacheReadTokens":
		return kAICacheRead, true
	case "ai.usage.inputTokenDetails.cacheWriteTokens":
		return kAICacheWrite, true
	case "ai.usage.outputTokenDetails.reasoningTokens":
		return kAIOutReasoning, true
	case "gen_ai.usage.cost":
		return kCostGenAI, true
	case "llm.cost.total":
		return kCostOI, true
	case "operation.cost":
		return kCostOperation, true
	case "gen_ai.usage.cost.amount":
		return kCostAmount, true
	case "gen_ai.usage.total_cost":
		return kCostTotal, true
	case "llm_cost.status":
		return kStatus, true
	}
	return 0, false
}
