package sentryevent

import (
	"encoding/json"
	"math"
	"strconv"
)

// Contexts are the event's contexts; nil ones are left out.
type Contexts struct {
	Agent   *Agent
	LLM     *LLM
	OS      *OS
	Otel    *Otel
	Runtime *Runtime
	Trace   *Trace
}

// Trace links the event to its trace and span.
type Trace struct {
	TraceID, SpanID, ParentSpanID, Op, Status, Description string
}

// Number is a number that may be absent.
type Number struct {
	V  float64
	OK bool
}

// LLM is the LLM call the error happened in or after.
type LLM struct {
	Provider, Model, ResponseModel, Operation             string
	InputTokens, OutputTokens, TotalTokens                Number
	CacheReadTokens, CacheCreationTokens, ReasoningTokens Number
	Cost                                                  Number
	Breakdown                                             [len(CostParts)]Number // USD by CostParts
	CostStatus, PriceID, PricingVersion                   string
	FinishReasons                                         json.RawMessage
	SpanID                                                string
}

// CostParts name the parts of LLM.Breakdown.
var CostParts = [...]string{"cache_read", "cache_write", "input", "output", "reasoning"}

// Agent is the agent, and the tool call, the error happened in.
type Agent struct {
	Name, ID, Description, ConversationID, Tool, ToolCallID string
}

// Runtime is the process's runtime.
type Runtime struct {
	Name, Version, RawDescription string
}

// OS is the host's operating system.
type OS struct {
	Name, Version, Build, RawDescription string
}

// Otel is what the event came from: attributes and resource as JSON objects.
type Otel struct {
	Attributes, Resource                 json.RawMessage
	Kind, Scope, SeverityText, EventName string
}

// appendJSON writes the contexts object, keys in alphabetical order.
func (cx *Contexts) appendJSON(w *jsonWriter) {
	w.raw('{')
	if cx.Agent != nil {
		w.key("agent")
		cx.Agent.appendJSON(w)
	}
	if cx.LLM != nil {
		w.key("llm")
		cx.LLM.appendJSON(w)
	}
	if cx.OS != nil {
		w.key("os")
		cx.OS.appendJSON(w)
	}
	if cx.Otel != nil {
		w.key("otel")
		cx.Otel.appendJSON(w)
	}
	if cx.Runtime != nil {
		w.key("runtime")
		cx.Runtime.appendJSON(w)
	}
	if cx.Trace != nil {
		w.key("trace")
		cx.Trace.appendJSON(w)
	}
	w.raw('}')
}

func (c *Agent) appendJSON(w *jsonWriter) {
	w.raw('{')
	w.optStr("conversation_id", c.ConversationID)
	w.optStr("description", c.Description)
	w.optStr("id", c.ID)
	w.optStr("name", c.Name)
	w.optStr("tool", c.Tool)
	w.optStr("tool_call_id", c.ToolCallID)
	w.raw('}')
}

func (c *LLM) appendJSON(w *jsonWriter) {
	w.raw('{')
	w.optNum("cache_creation_input_tokens", c.CacheCreationTokens)
	w.optNum("cache_read_input_tokens", c.CacheReadTokens)
	if c.hasBreakdown() {
		w.key("cost_breakdown_usd")
		w.raw('{')
		for i, p := range CostParts {
			w.optFloat(p, c.Breakdown[i])
		}
		w.raw('}')
	}
	w.optStr("cost_status", c.CostStatus)
	w.optFloat("cost_usd", c.Cost)
	if len(c.FinishReasons) > 0 {
		w.key("finish_reasons")
		w.buf = append(w.buf, c.FinishReasons...)
	}
	w.optNum("input_tokens", c.InputTokens)
	w.optStr("model", c.Model)
	w.optStr("operation", c.Operation)
	w.optNum("output_tokens", c.OutputTokens)
	w.optStr("price_id", c.PriceID)
	w.optStr("pricing_version", c.PricingVersion)
	w.optStr("provider", c.Provider)
	w.optNum("reasoning_output_tokens", c.ReasoningTokens)
	w.optStr("response_model", c.ResponseModel)
	w.optStr("span_id", c.SpanID)
	w.optNum("total_tokens", c.TotalTokens)
	w.raw('}')
}

func (c *OS) appendJSON(w *jsonWriter) {
	w.raw('{')
	w.optStr("build", c.Build)
	w.optStr("name", c.Name)
	w.optStr("raw_description", c.RawDescription)
	w.optStr("version", c.Version)
	w.raw('}')
}

func (c *Otel) appendJSON(w *jsonWriter) {
	w.raw('{')
	if len(c.Attributes) > 0 {
		w.key("attributes")
		w.buf = append(w.buf, c.Attributes...)
	}
	w.optStr("event_name", c.EventName)
	w.optStr("kind", c.Kind)
	if len(c.Resource) > 0 {
		w.key("resource")
		w.buf = append(w.buf, c.Resource...)
	}
	w.optStr("scope", c.Scope)
	w.optStr("severity_text", c.SeverityText)
	w.raw('}')
}

func (c *Runtime) appendJSON(w *jsonWriter) {
	w.raw('{')
	w.optStr("name", c.Name)
	w.optStr("raw_description", c.RawDescription)
	w.optStr("version", c.Version)
	w.raw('}')
}

func (c *Trace) appendJSON(w *jsonWriter) {
	w.raw('{')
	w.optStr("description", c.Description)
	w.optStr("op", c.Op)
	w.optStr("parent_span_id", c.ParentSpanID)
	w.optStr("span_id", c.SpanID)
	w.optStr("status", c.Status)
	w.optStr("trace_id", c.TraceID)
	w.key("type")
	w.str("trace")
	w.raw('}')
}

func (c *LLM) hasBreakdown() bool {
	for _, b := range c.Breakdown {
		if b.OK {
			return true
		}
	}
	return false
}

func (w *jsonWriter) optNum(k string, n Number) {
	if !n.OK {
		return
	}
	w.key(k)
	if n.V == math.Trunc(n.V) && math.Abs(n.V) < 1<<53 {
		w.buf = strconv.AppendInt(w.buf, int64(n.V), 10)
		return
	}
	w.buf = AppendFloat(w.buf, n.V)
}

// optFloat writes a USD amount as a float, the way encoding/json writes a float64.
func (w *jsonWriter) optFloat(k string, n Number) {
	if n.OK {
		w.key(k)
		w.buf = AppendFloat(w.buf, n.V)
	}
}

// empty reports whether there is no context to write.
func (cx *Contexts) empty() bool { return *cx == Contexts{} }
