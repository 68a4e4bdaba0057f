package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/procode-ai/otelcol-procode/internal/llmbounds"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// kind is what a record is to the processor.
type kind uint8

const (
	kindOther     kind = iota // not an LLM call: left alone
	kindInference             // one call to a model: priced
	kindAggregate             // an agent, workflow or chain that repeats its children's usage: skipped
)

// convention is the instrumentation convention whose usage semantics apply.
type convention uint8

const (
	convOTel          convention = iota // OTel GenAI (current and deprecated), OpenLLMetry, OpenLIT, Logfire
	convOpenInference                   // Arize OpenInference
	convVercel                          // Vercel AI SDK
)

// classify decides whether a record is an inference call, an aggregate or neither.
// name is the span name ("" for log records).
func classify(f *fields, name string) (kind, convention) {
	if f.has(kAIOperation) || f.has(kAIModel) {
		op := f.str(kAIOperation)
		if op == "" {
			op = name
		}
		switch {
		case strings.HasSuffix(op, ".doGenerate"), strings.HasSuffix(op, ".doStream"), strings.HasSuffix(op, ".doEmbed"):
			return kindInference, convVercel
		case op == "ai.generateText", op == "ai.streamText", op == "ai.generateObject", op == "ai.streamObject",
			op == "ai.embed", op == "ai.embedMany":
			return kindAggregate, convVercel
		}
		return kindOther, convVercel
	}
	if f.has(kOIKind) {
		switch f.str(kOIKind) {
		case "LLM", "EMBEDDING":
			return kindInference, convOpenInference
		case "AGENT", "CHAIN":
			return kindAggregate, convOpenInference
		}
		return kindOther, convOpenInference
	}
	if f.has(kOperation) {
		switch f.str(kOperation) {
		case "chat", "text_completion", "generate_content", "embeddings", "embedding", "completion":
			return kindInference, convOTel
		case "invoke_agent", "create_agent", "invoke_workflow", "workflow", "agent", "framework":
			return kindAggregate, convOTel
		}
		return kindOther, convOTel
	}
	if f.has(kRequestType) {
		switch f.str(kRequestType) {
		case "chat", "completion", "embedding":
			return kindInference, convOTel
		}
		return kindOther, convOTel
	}
	if f.has(kTraceloopKind) {
		switch f.str(kTraceloopKind) {
		case "workflow", "agent", "task":
			return kindAggregate, convOTel
		}
		return kindOther, convOTel
	}
	// Pydantic AI / Logfire agent runs carry their children's usage without an
	// operation name.
	if strings.HasPrefix(name, "agent run") || strings.HasPrefix(name, "invoke_agent") {
		return kindAggregate, convOTel
	}
	// Deprecated GenAI spans may lack an operation name: a model and token counts make
	// an inference call.
	if (f.has(kRequestModel) || f.has(kResponseModel)) &&
		(f.has(kInputTokens) || f.has(kPromptTokens) || f.has(kOutputTokens) || f.has(kCompletionTokens)) {
		return kindInference, convOTel
	}
	return kindOther, convOTel
}

// operationName is the gen_ai.operation.name to write when the app sent none.
func operationName(f *fields, conv convention) string {
	switch conv {
	case convVercel:
		if strings.HasSuffix(f.str(kAIOperation), ".doEmbed") {
			return "embeddings"
		}
		return "chat"
	case convOpenInference:
		if f.str(kOIKind) == "EMBEDDING" {
			return "embeddings"
		}
		return "chat"
	}
	switch f.str(kRequestType) {
	case "chat":
		return "chat"
	case "completion":
		return "text_completion"
	case "embedding":
		return "embeddings"
	}
	return ""
}

// tokenCounts are the counts as reported, before the convention's semantics apply.
type tokenCounts struct {
	input, output, cacheRead, cacheWrite, cacheWrite1h, reasoning  int64
	hasInput, hasOutput, hasCacheRead, hasCacheWrite, hasReasoning bool
	has1h                                                          bool // the 1-hour part of the writes was reported
	// input says whether the input count includes the cached tokens.
	inputSem inputSemantics
	source   string // the source's name, for the note when input excludes the cache
	// tier is a service tier found in a JSON attribute (Logfire's usage, Vercel's
	// provider metadata), when no plain attribute names one.
	tier string
}

// usageError is a bounded, human-readable reason for status invalid.
type usageError string

const maxErrorLen = 160

func badValue(k key, reason string, v pcommon.Value) usageError {
	s := v.AsString()
	if c := capText(s, 32); c != s {
		s = c + "…"
	}
	return usageError(capText(keyNames[k]+": "+reason+" ("+strconv.Quote(s)+")", maxErrorLen))
}

const maxTokens = llmbounds.MaxTokens

// errNoUsage is not an error of the data: the record is a call that reported no token
// counts (status no_usage).
const errNoUsage usageError = "no token usage reported"

// tokenValue reads a token count that may arrive as an int, an integral double or a
// numeric string.
func tokenValue(f *fields, k key) (int64, bool, usageError) {
	if !f.has(k) {
		return 0, false, ""
	}
	v := f.values[k]
	var n int64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n = v.Int()
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return 0, true, badValue(k, "not a number", v)
		}
		if d != math.Trunc(d) {
			return 0, true, badValue(k, "not a whole number", v)
		}
		if math.Abs(d) > maxTokens {
			return 0, true, badValue(k, "implausibly large", v)
		}
		n = int64(d)
	case pcommon.ValueTypeStr:
		s := strings.TrimSpace(v.Str())
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			d, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || math.IsNaN(d) || math.IsInf(d, 0) {
				return 0, true, badValue(k, "not a number", v)
			}
			if d != math.Trunc(d) {
				return 0, true, badValue(k, "not a whole number", v)
			}
			if math.Abs(d) > maxTokens {
				return 0, true, badValue(k, "implausibly large", v)
			}
			i = int64(d)
		}
		n = i
	default:
		return 0, true, badValue(k, "not a number", v)
	}
	if n < 0 {
		return 0, true, badValue(k, "negative", v)
	}
	if n > maxTokens {
		return 0, true, badValue(k, "implausibly large", v)
	}
	return n, true, ""
}

// first reads the first present key of keys.
func first(f *fields, keys ...key) (int64, bool, usageError) {
	for _, k := range keys {
		if f.has(k) {
			return tokenValue(f, k)
		}
	}
	return 0, false, ""
}

// firstErr returns the first non-empty error.
func firstErr(errs ...usageError) usageError {
	for _, e := range errs {
		if e != "" {
			return e
		}
	}
	return ""
}

// readCounts applies the convention's attribute names, and the source's semantics
// (sourceOf) for the input count.
func readCounts(f *fields, conv convention, src sourceRule) (tokenCounts, usageError) {
	var c tokenCounts
	var e1, e2, e3, e4, e5, e6 usageError
	c.inputSem, c.source = src.input, src.name
	switch conv {
	case convVercel:
		c.input, c.hasInput, e1 = first(f, kAIInput, kAIPrompt, kAITokens, kInputTokens, kPromptTokens)
		c.output, c.hasOutput, e2 = first(f, kAIOutput, kAICompletion, kOutputTokens, kCompletionTokens)
		c.cacheRead, c.hasCacheRead, e3 = first(f, kAICacheRead, kAICached)
		c.cacheWrite, c.hasCacheWrite, e4 = first(f, kAICacheWrite)
		c.reasoning, c.hasReasoning, e5 = first(f, kAIOutReasoning, kAIReasoning)
		// AI SDK 6 reports input token details and counts cached tokens in the input.
		// Earlier versions pass Anthropic's and Bedrock's input count through, which
		// leaves cached tokens out.
		c.inputSem = inputIncludesCache
		if !f.has(kAINoCache) && !f.has(kAICacheRead) && !f.has(kAICacheWrite) {
			p := f.str(kAIProvider)
			if strings.HasPrefix(p, "anthropic") || strings.HasPrefix(p, "amazon-bedrock") || strings.HasPrefix(p, "bedrock") ||
				strings.HasPrefix(p, "google.vertex.anthropic") {
				c.inputSem, c.source = inputExcludesCache, "Vercel AI SDK before 6"
			}
		}
		// The 1-hour part of Anthropic's cache writes and the service tier are only in
		// the provider's metadata.
		if f.has(kAIProviderMetadata) {
			readProviderMetadata(f.str(kAIProviderMetadata), &c)
		}
	case convOpenInference:
		c.input, c.hasInput, e1 = first(f, kOIPrompt)
		c.output, c.hasOutput, e2 = first(f, kOICompletion)
		c.cacheRead, c.hasCacheRead, e3 = first(f, kOICacheRead)
		c.cacheWrite, c.hasCacheWrite, e4 = first(f, kOICacheWrite)
		c.reasoning, c.hasReasoning, e5 = first(f, kOIReasoning)
	default:
		c.input, c.hasInput, e1 = first(f, kInputTokens, kPromptTokens)
		c.output, c.hasOutput, e2 = first(f, kOutputTokens, kCompletionTokens)
		c.cacheRead, c.hasCacheRead, e3 = first(f, kCacheRead, kCacheReadOLL, kCacheReadSentry, kCacheReadDetails)
		c.cacheWrite, c.hasCacheWrite, e4 = first(f, kCacheCreation, kCacheWrite, kCacheCreationOLL, kCacheWriteSentry, kCacheWriteDetails)
		c.reasoning, c.hasReasoning, e5 = first(f, kReasoning, kReasoningOLIT, kReasoningSentry, kReasoningOLL,
			kReasoningDetails, kReasoningThinking, kReasoningThoughts)
		e6 = readCacheWriteSplit(f, &c)
		if f.has(kUsageRaw) && !c.hasCacheRead && !c.hasCacheWrite {
			readRawUsage(f.str(kUsageRaw), &c)
		}
	}
	return c, firstErr(e1, e2, e3, e4, e5, e6)
}

// readCacheWriteSplit reads the 5-minute and 1-hour parts of the cache writes, under
// the names of the OTel proposal or of the Anthropic SDK's own spans.
func readCacheWriteSplit(f *fields, c *tokenCounts) usageError {
	w5, h5, err := first(f, kCacheWrite5m, kAnthropicWrite5m)
	if err != "" {
		return err
	}
	w1, h1, err := first(f, kCacheWrite1h, kAnthropicWrite1h)
	if err != "" {
		return err
	}
	if h1 {
		c.cacheWrite1h, c.has1h = w1, true
	}
	if !c.hasCacheWrite && (h5 || h1) {
		c.cacheWrite, c.hasCacheWrite = w5+w1, true
	}
	return ""
}

// canonical turns reported counts into pricing.Usage, checking that they are possible.
// note explains a reading that is not the plain one.
func canonical(c tokenCounts) (u pricing.Usage, note string, err usageError) {
	if !c.hasInput && !c.hasOutput {
		return pricing.Usage{}, "", errNoUsage
	}
	u = pricing.Usage{Input: c.input, Output: c.output, CacheRead: c.cacheRead, CacheWrite: c.cacheWrite,
		CacheWrite1h: c.cacheWrite1h, Reasoning: c.reasoning}
	switch {
	case c.inputSem == inputExcludesCache && u.CacheRead+u.CacheWrite > 0:
		u.Input += c.cacheRead + c.cacheWrite
		note = "input tokens as " + c.source + " reports them exclude cached tokens: added"
	case c.inputSem == inputUnknown && u.CacheRead+u.CacheWrite > u.Input:
		// A source the table does not know, whose cached tokens cannot be part of its
		// input count: it reports input without them, as Anthropic's API does.
		u.Input += c.cacheRead + c.cacheWrite
		note = "cached tokens exceed input tokens: input read as excluding them"
	}
	if u.CacheRead+u.CacheWrite > u.Input {
		return u, "", usageError("cached tokens (" + strconv.FormatInt(u.CacheRead+u.CacheWrite, 10) +
			") exceed input tokens (" + strconv.FormatInt(u.Input, 10) + ")")
	}
	if u.CacheWrite1h > u.CacheWrite {
		return u, "", usageError("one-hour cache writes (" + strconv.FormatInt(u.CacheWrite1h, 10) +
			") exceed cache writes (" + strconv.FormatInt(u.CacheWrite, 10) + ")")
	}
	if u.Reasoning > u.Output {
		return u, "", usageError("reasoning tokens (" + strconv.FormatInt(u.Reasoning, 10) +
			") exceed output tokens (" + strconv.FormatInt(u.Output, 10) + ")")
	}
	return u, note, ""
}

// providedCost reads the first cost the app sent. ok is false when there is none;
// bad is set when the value is not an amount.
const maxCallCost = llmbounds.MaxCallCostUSD

func providedCost(f *fields) (k key, cost float64, ok bool, bad usageError) {
	for _, k = range [...]key{kCostGenAI, kCostOI, kCostOperation, kCostAmount, kCostTotal} {
		if !f.has(k) {
			continue
		}
		v := f.values[k]
		switch v.Type() {
		case pcommon.ValueTypeDouble:
			cost = v.Double()
		case pcommon.ValueTypeInt:
			cost = float64(v.Int())
		case pcommon.ValueTypeStr:
			var err error
			if cost, err = strconv.ParseFloat(strings.TrimSpace(v.Str()), 64); err != nil {
				return k, 0, true, badValue(k, "not an amount", v)
			}
		default:
			return k, 0, true, badValue(k, "not an amount", v)
		}
		if math.IsNaN(cost) || math.IsInf(cost, 0) || cost < 0 {
			return k, 0, true, badValue(k, "not a valid amount", v)
		}
		if cost > maxCallCost {
			return k, 0, true, badValue(k, "over 1000 USD for one call, not a plausible amount", v)
		}
		return k, cost, true, ""
	}
	return 0, 0, false, ""
}
