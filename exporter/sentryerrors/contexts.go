package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"encoding/json"
	"math"
	"strconv"

	sentry "github.com/getsentry/sentry-go"
)

// eventParts are the parts of an event the mapper keeps in types of its own: the
// contexts, the exceptions and the threads. sentry.Event holds contexts as maps of
// interface values and frames as sentry-go's Frame, which carries every optional field
// of the protocol; building and encoding those cost a good share of the work per event,
// so the mapper fills these and the encoder writes them directly. The tests convert
// them to sentry.Event's form and encode that with sentry-go to hold the two equal.
type eventParts struct {
	exceptions  []exception // the root cause first, the raised exception last
	threads     []thread
	breadcrumbs []*breadcrumb // oldest first
	trace       *traceContext
	llm         *llmContext
	agent       *agentContext
	runtime     *runtimeContext
	os          *osContext
	otel        *otelContext
	// The event's tags, kept here rather than in sentry.Event's map: a handful of fixed
	// keys, written in key order. tagSet marks those set (a value may be empty).
	tags   [numTags]string
	tagSet uint8
}

// The tags an event can have, in key order.
const (
	tagAgent = iota
	tagErrorType
	tagLLMModel
	tagLLMProvider
	tagRoute
	tagService
	numTags
)

var tagKeys = [numTags]string{"agent", "error.type", "llm.model", "llm.provider", "route", "service"}

func (cx *eventParts) setTag(i int, v string) {
	cx.tags[i] = v
	cx.tagSet |= 1 << i
}

// trim makes the event smaller for maxEventBytes, step 1 to 4, each keeping less than
// the one before: (1) only the crashed thread; (2) no otel context, the last 10
// breadcrumbs; (3) at most 50 frames per stack; (4) only the root cause and the raised
// exception, 10 frames each, no threads, no breadcrumbs. It reports false past step 4.
func (cx *eventParts) trim(step int) bool {
	switch step {
	case 1:
		var kept []thread
		for _, t := range cx.threads {
			if t.Crashed || t.Current {
				kept = append(kept, t)
			}
		}
		if kept == nil && len(cx.threads) > 0 {
			kept = cx.threads[:1]
		}
		cx.threads = kept
	case 2:
		cx.otel = nil
		if n := len(cx.breadcrumbs); n > 10 {
			cx.breadcrumbs = cx.breadcrumbs[n-10:]
		}
	case 3:
		cx.boundStacks(50)
	case 4:
		if n := len(cx.exceptions); n > 2 {
			root, raised := cx.exceptions[0], cx.exceptions[n-1]
			// Renumbered, so that the root cause names the raised exception as its parent.
			root.Mechanism.ExceptionID, root.Mechanism.ParentID = 1, 0
			cx.exceptions = []exception{root, raised}
		}
		cx.threads, cx.breadcrumbs = nil, nil
		cx.boundStacks(10)
	default:
		return false
	}
	return true
}

// boundStacks keeps at most n frames of each stack: the oldest quarter and the newest
// calls, the omitted range named in frames_omitted in the original stack's indices.
func (cx *eventParts) boundStacks(n int) {
	for i := range cx.exceptions {
		cx.exceptions[i].Stacktrace.bound(n)
	}
	for i := range cx.threads {
		cx.threads[i].Stacktrace.bound(n)
	}
}

type traceContext struct {
	traceID, spanID, parentSpanID, op, status, description string
}

type optNum struct {
	v  float64
	ok bool
}

type llmContext struct {
	provider, model, responseModel, operation             string
	inputTokens, outputTokens, totalTokens                optNum
	cacheReadTokens, cacheCreationTokens, reasoningTokens optNum
	cost                                                  optNum
	breakdown                                             [len(costParts)]optNum
	costStatus, priceID, pricingVersion                   string
	finishReasons                                         json.RawMessage
	spanID                                                string
}

var costParts = [...]string{"cache_read", "cache_write", "input", "output", "reasoning"}

type agentContext struct {
	name, id, description, conversationID, tool, toolCallID string
}

type runtimeContext struct {
	name, version, rawDescription string
}

type osContext struct {
	name, version, build, rawDescription string
}

type otelContext struct {
	attributes, resource                 json.RawMessage
	kind, scope, severityText, eventName string
}

// appendJSON writes the contexts object, keys in alphabetical order.
func (cx *eventParts) appendJSON(w *jsonWriter) {
	w.raw('{')
	if c := cx.agent; c != nil {
		w.key("agent")
		w.raw('{')
		w.optStr("conversation_id", c.conversationID)
		w.optStr("description", c.description)
		w.optStr("id", c.id)
		w.optStr("name", c.name)
		w.optStr("tool", c.tool)
		w.optStr("tool_call_id", c.toolCallID)
		w.raw('}')
	}
	if c := cx.llm; c != nil {
		w.key("llm")
		w.raw('{')
		w.optNum("cache_creation_input_tokens", c.cacheCreationTokens)
		w.optNum("cache_read_input_tokens", c.cacheReadTokens)
		if c.hasBreakdown() {
			w.key("cost_breakdown_usd")
			w.raw('{')
			for i, p := range costParts {
				w.optFloat(p, c.breakdown[i])
			}
			w.raw('}')
		}
		w.optStr("cost_status", c.costStatus)
		w.optFloat("cost_usd", c.cost)
		if len(c.finishReasons) > 0 {
			w.key("finish_reasons")
			w.buf = append(w.buf, c.finishReasons...)
		}
		w.optNum("input_tokens", c.inputTokens)
		w.optStr("model", c.model)
		w.optStr("operation", c.operation)
		w.optNum("output_tokens", c.outputTokens)
		w.optStr("price_id", c.priceID)
		w.optStr("pricing_version", c.pricingVersion)
		w.optStr("provider", c.provider)
		w.optNum("reasoning_output_tokens", c.reasoningTokens)
		w.optStr("response_model", c.responseModel)
		w.optStr("span_id", c.spanID)
		w.optNum("total_tokens", c.totalTokens)
		w.raw('}')
	}
	if c := cx.os; c != nil {
		w.key("os")
		w.raw('{')
		w.optStr("build", c.build)
		w.optStr("name", c.name)
		w.optStr("raw_description", c.rawDescription)
		w.optStr("version", c.version)
		w.raw('}')
	}
	if c := cx.otel; c != nil {
		w.key("otel")
		w.raw('{')
		if len(c.attributes) > 0 {
			w.key("attributes")
			w.buf = append(w.buf, c.attributes...)
		}
		w.optStr("event_name", c.eventName)
		w.optStr("kind", c.kind)
		if len(c.resource) > 0 {
			w.key("resource")
			w.buf = append(w.buf, c.resource...)
		}
		w.optStr("scope", c.scope)
		w.optStr("severity_text", c.severityText)
		w.raw('}')
	}
	if c := cx.runtime; c != nil {
		w.key("runtime")
		w.raw('{')
		w.optStr("name", c.name)
		w.optStr("raw_description", c.rawDescription)
		w.optStr("version", c.version)
		w.raw('}')
	}
	if c := cx.trace; c != nil {
		w.key("trace")
		w.raw('{')
		w.optStr("description", c.description)
		w.optStr("op", c.op)
		w.optStr("parent_span_id", c.parentSpanID)
		w.optStr("span_id", c.spanID)
		w.optStr("status", c.status)
		w.optStr("trace_id", c.traceID)
		w.key("type")
		w.str("trace")
		w.raw('}')
	}
	w.raw('}')
}

func (c *llmContext) hasBreakdown() bool {
	for _, b := range c.breakdown {
		if b.ok {
			return true
		}
	}
	return false
}

func (w *jsonWriter) optNum(k string, n optNum) {
	if !n.ok {
		return
	}
	w.key(k)
	if n.v == math.Trunc(n.v) && math.Abs(n.v) < 1<<53 {
		w.buf = strconv.AppendInt(w.buf, int64(n.v), 10)
		return
	}
	w.buf = appendJSONFloat(w.buf, n.v)
}

// optFloat writes a USD amount as a float, the way encoding/json writes a float64.
func (w *jsonWriter) optFloat(k string, n optNum) {
	if n.ok {
		w.key(k)
		w.buf = appendJSONFloat(w.buf, n.v)
	}
}

// noContexts reports whether the event has no context to write.
func (cx *eventParts) noContexts() bool {
	return cx == nil || (cx.trace == nil && cx.llm == nil && cx.agent == nil && cx.runtime == nil && cx.os == nil && cx.otel == nil)
}

// maps returns the contexts in sentry.Event's form.
func (cx *eventParts) maps() map[string]sentry.Context {
	out := map[string]sentry.Context{}
	if cx == nil {
		return out
	}
	put := func(m map[string]any, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	num := func(m map[string]any, k string, n optNum) {
		if n.ok {
			m[k] = jsonNumber(n.v)
		}
	}
	if c := cx.agent; c != nil {
		m := map[string]any{}
		put(m, "conversation_id", c.conversationID)
		put(m, "description", c.description)
		put(m, "id", c.id)
		put(m, "name", c.name)
		put(m, "tool", c.tool)
		put(m, "tool_call_id", c.toolCallID)
		out["agent"] = m
	}
	if c := cx.llm; c != nil {
		m := map[string]any{}
		num(m, "cache_creation_input_tokens", c.cacheCreationTokens)
		num(m, "cache_read_input_tokens", c.cacheReadTokens)
		if c.hasBreakdown() {
			b := map[string]any{}
			for i, p := range costParts {
				if c.breakdown[i].ok {
					b[p] = c.breakdown[i].v
				}
			}
			m["cost_breakdown_usd"] = b
		}
		put(m, "cost_status", c.costStatus)
		if c.cost.ok {
			m["cost_usd"] = c.cost.v
		}
		if len(c.finishReasons) > 0 {
			m["finish_reasons"] = c.finishReasons
		}
		num(m, "input_tokens", c.inputTokens)
		put(m, "model", c.model)
		put(m, "operation", c.operation)
		num(m, "output_tokens", c.outputTokens)
		put(m, "price_id", c.priceID)
		put(m, "pricing_version", c.pricingVersion)
		put(m, "provider", c.provider)
		num(m, "reasoning_output_tokens", c.reasoningTokens)
		put(m, "response_model", c.responseModel)
		put(m, "span_id", c.spanID)
		num(m, "total_tokens", c.totalTokens)
		out["llm"] = m
	}
	if c := cx.os; c != nil {
		m := map[string]any{}
		put(m, "build", c.build)
		put(m, "name", c.name)
		put(m, "raw_description", c.rawDescription)
		put(m, "version", c.version)
		out["os"] = m
	}
	if c := cx.otel; c != nil {
		m := map[string]any{}
		if len(c.attributes) > 0 {
			m["attributes"] = c.attributes
		}
		put(m, "event_name", c.eventName)
		put(m, "kind", c.kind)
		if len(c.resource) > 0 {
			m["resource"] = c.resource
		}
		put(m, "scope", c.scope)
		put(m, "severity_text", c.severityText)
		out["otel"] = m
	}
	if c := cx.runtime; c != nil {
		m := map[string]any{}
		put(m, "name", c.name)
		put(m, "raw_description", c.rawDescription)
		put(m, "version", c.version)
		out["runtime"] = m
	}
	if c := cx.trace; c != nil {
		m := map[string]any{"type": "trace"}
		put(m, "description", c.description)
		put(m, "op", c.op)
		put(m, "parent_span_id", c.parentSpanID)
		put(m, "span_id", c.spanID)
		put(m, "status", c.status)
		put(m, "trace_id", c.traceID)
		out["trace"] = m
	}
	return out
}
