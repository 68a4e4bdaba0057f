package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"math/bits"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/procode-ai/otelcol-procode/internal/llmbounds"
)

// Attribute names the connector reads.
const (
	attrStatus         = "llm_cost.status"
	attrModel          = "llm_cost.model"
	attrProvider       = "gen_ai.provider.name"
	attrOperation      = "gen_ai.operation.name"
	attrAgentName      = "gen_ai.agent.name"
	attrToolName       = "gen_ai.tool.name"
	attrCost           = "gen_ai.usage.cost"
	attrInputTokens    = "gen_ai.usage.input_tokens"
	attrOutputTokens   = "gen_ai.usage.output_tokens"
	attrCacheRead      = "gen_ai.usage.cache_read.input_tokens"
	attrCacheCreation  = "gen_ai.usage.cache_creation.input_tokens"
	attrReasoning      = "gen_ai.usage.reasoning.output_tokens"
	attrHTTPMethod     = "http.request.method"
	attrHTTPMethodOld  = "http.method"
	attrHTTPRoute      = "http.route"
	attrHTTPStatus     = "http.response.status_code"
	attrHTTPStatusOld  = "http.status_code"
	attrDBSystem       = "db.system.name"
	attrDBSystemOld    = "db.system"
	attrDBOperation    = "db.operation.name"
	attrDBOperationOld = "db.operation"
	attrErrorType      = "error.type"
	// attrRequestCountedBy names the span of an earlier batch that was counted as the
	// call's request; the span carrying it prices the call (tokens, cost) only.
	attrRequestCountedBy = "llm_cost.request_counted_by"
)

// Token types, in the order of spanFields.tokens.
const (
	tokInput = iota
	tokOutput
	tokCacheRead
	tokCacheWrite
	tokReasoning
	numTokenTypes
)

var tokenTypeNames = [numTokenTypes]string{"input", "output", "cache_read", "cache_write", "reasoning"}

// spanFields holds what one span says about itself, read in a single pass over its
// attributes. Strings point into the span's own memory: they are only valid while the
// batch is, and are cloned when they become a new series' label.
type spanFields struct {
	status, model, provider, operation, agent, tool string
	cost                                            float64
	hasCost                                         bool
	tokens                                          [numTokenTypes]int64
	hasTokens                                       [numTokenTypes]bool
	httpMethod, httpRoute                           string
	httpStatus                                      int64
	dbSystem, dbOperation                           string
	// errorType is set when the operation failed (OTel semantic conventions), even on
	// spans whose status was left Unset.
	errorType string

	// Bit i is set when the span has cost dimension i's attribute (its value in
	// dimKeys.vals[i]).
	dimFound uint16
	// dimKeys is kept across spans: nil without cost dimensions.
	dimKeys *dimKeys
	// requestCounted: another span already counted this call's request.
	requestCounted bool
}

// dimKeys is the cost dimensions' attribute keys, for each first byte the dimensions
// whose key starts with it, and the values found on the span being read.
type dimKeys struct {
	attrs   []string
	byFirst [256]uint16
	vals    [maxDimensions]pcommon.Value
}

func newDimKeys(attrs []string) *dimKeys {
	if len(attrs) == 0 {
		return nil
	}
	dk := &dimKeys{attrs: attrs}
	for i, a := range attrs {
		dk.byFirst[a[0]] |= 1 << i
	}
	return dk
}

func (f *spanFields) reset() {
	dk := f.dimKeys
	*f = spanFields{}
	f.dimKeys = dk
}

func (f *spanFields) anyTokens() bool {
	for _, has := range f.hasTokens {
		if has {
			return true
		}
	}
	return false
}

// scan reads the attributes the connector needs. Newer attribute names win over
// deprecated ones whichever comes first. The first byte of a key picks the few names it
// can be, so the many attributes the connector does not read (url.*, server.*, ...)
// cost one byte comparison each.
func (f *spanFields) scan(attrs pcommon.Map) {
	f.reset()
	for k, v := range attrs.All() {
		if f.dimKeys != nil && k != "" {
			f.scanDims(k, v)
		}
		if len(k) < len("db.system") {
			continue
		}
		switch k[0] {
		case 'g':
			if k[:len(genAIPrefix)] == genAIPrefix {
				f.scanGenAI(k, v)
			}
		case 'l':
			switch k {
			case attrStatus:
				f.status = v.Str()
			case attrModel:
				f.model = v.Str()
			case attrRequestCountedBy:
				f.requestCounted = v.Str() != ""
			}
		case 'h':
			switch k {
			case attrHTTPMethod:
				f.httpMethod = v.Str()
			case attrHTTPMethodOld:
				if f.httpMethod == "" {
					f.httpMethod = v.Str()
				}
			case attrHTTPRoute:
				f.httpRoute = v.Str()
			case attrHTTPStatus:
				f.httpStatus, _ = integer(v)
			case attrHTTPStatusOld:
				if f.httpStatus == 0 {
					f.httpStatus, _ = integer(v)
				}
			}
		case 'd':
			switch k {
			case attrDBSystem:
				f.dbSystem = v.Str()
			case attrDBSystemOld:
				if f.dbSystem == "" {
					f.dbSystem = v.Str()
				}
			case attrDBOperation:
				f.dbOperation = v.Str()
			case attrDBOperationOld:
				if f.dbOperation == "" {
					f.dbOperation = v.Str()
				}
			}
		case 'e':
			if k == attrErrorType {
				f.errorType = v.AsString()
			}
		}
	}
}

// scanDims keeps k's value when k is a cost dimension's key. The first byte rules out
// most keys with one table lookup, so that dimensions cost no more than that per
// attribute of a span, instead of a search of the attributes per dimension.
func (f *spanFields) scanDims(k string, v pcommon.Value) {
	for m := f.dimKeys.byFirst[k[0]]; m != 0; m &= m - 1 {
		i := bits.TrailingZeros16(m)
		if k == f.dimKeys.attrs[i] {
			f.dimKeys.vals[i] = v
			f.dimFound |= 1 << i
		}
	}
}

const genAIPrefix = "gen_ai."

func (f *spanFields) scanGenAI(k string, v pcommon.Value) {
	switch k[len(genAIPrefix):] {
	case "provider.name":
		f.provider = v.Str()
	case "operation.name":
		f.operation = v.Str()
	case "agent.name":
		f.agent = v.Str()
	case "tool.name":
		f.tool = v.Str()
	case "usage.cost":
		f.cost, f.hasCost = number(v)
		if f.cost > maxCallCost {
			f.cost, f.hasCost = 0, false
		}
	case "usage.input_tokens":
		f.setTokens(tokInput, v)
	case "usage.output_tokens":
		f.setTokens(tokOutput, v)
	case "usage.cache_read.input_tokens":
		f.setTokens(tokCacheRead, v)
	case "usage.cache_creation.input_tokens":
		f.setTokens(tokCacheWrite, v)
	case "usage.reasoning.output_tokens":
		f.setTokens(tokReasoning, v)
	}
}

// A span that claims more than llmbounds allows (its llm_cost.status set by a client,
// say) adds nothing to the totals.
const (
	maxCallCost = llmbounds.MaxCallCostUSD
	maxTokens   = llmbounds.MaxTokens
)

func (f *spanFields) setTokens(i int, v pcommon.Value) {
	n, ok := integer(v)
	if ok && n >= 0 && n <= maxTokens {
		f.tokens[i], f.hasTokens[i] = n, true
	}
}

// number reads a finite, non-negative double from an int, double or numeric string.
func number(v pcommon.Value) (float64, bool) {
	var x float64
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		x = v.Double()
	case pcommon.ValueTypeInt:
		x = float64(v.Int())
	case pcommon.ValueTypeStr:
		p, err := strconv.ParseFloat(v.Str(), 64)
		if err != nil {
			return 0, false
		}
		x = p
	default:
		return 0, false
	}
	if x != x || x < 0 || x > 1e15 { // NaN, negative, absurd
		return 0, false
	}
	return x, true
}

// integer reads an integer from an int, a whole double or a numeric string.
func integer(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if d != d || d < -9e18 || d > 9e18 || d != float64(int64(d)) {
			return 0, false
		}
		return int64(d), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(v.Str(), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Compile-time checks that the gen_ai names scanGenAI matches are the ones declared above.
var _ = [...]string{
	attrProvider[len(genAIPrefix):], attrOperation[len(genAIPrefix):], attrAgentName[len(genAIPrefix):],
	attrToolName[len(genAIPrefix):], attrCost[len(genAIPrefix):], attrInputTokens[len(genAIPrefix):],
	attrOutputTokens[len(genAIPrefix):], attrCacheRead[len(genAIPrefix):], attrCacheCreation[len(genAIPrefix):],
	attrReasoning[len(genAIPrefix):],
}
