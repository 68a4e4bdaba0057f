package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"encoding/json"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
)

// llmContext is the llm context of the call at attrs, nil when attrs say nothing of one.
func (m *mapper) llmContext(attrs pcommon.Map, c *scrub.Counts) *sentryevent.LLM {
	provider := str(attrs, "gen_ai.provider.name", "gen_ai.system")
	model := str(attrs, "gen_ai.request.model")
	responseModel := str(attrs, "gen_ai.response.model")
	if provider == "" && model == "" && responseModel == "" {
		return nil
	}
	clean := func(v string) string { return m.cleanName(v, c) }
	n := func(keys ...string) sentryevent.Number {
		f, ok := num(attrs, keys...)
		return sentryevent.Number{V: f, OK: ok}
	}
	l := &sentryevent.LLM{
		Provider:            clean(provider),
		Model:               clean(model),
		ResponseModel:       clean(responseModel),
		Operation:           clean(str(attrs, "gen_ai.operation.name")),
		InputTokens:         n("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens"),
		OutputTokens:        n("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens"),
		TotalTokens:         n("gen_ai.usage.total_tokens", "llm.usage.total_tokens"),
		CacheReadTokens:     n("gen_ai.usage.cache_read.input_tokens"),
		CacheCreationTokens: n("gen_ai.usage.cache_creation.input_tokens"),
		ReasoningTokens:     n("gen_ai.usage.reasoning.output_tokens"),
		Cost:                n("gen_ai.usage.cost"),
		CostStatus:          clean(str(attrs, "llm_cost.status")),
		PriceID:             clean(str(attrs, "llm_cost.model")),
		PricingVersion:      clean(str(attrs, "llm_cost.pricing_version")),
	}
	if !l.TotalTokens.OK && (l.InputTokens.OK || l.OutputTokens.OK) {
		l.TotalTokens = sentryevent.Number{V: l.InputTokens.V + l.OutputTokens.V, OK: true}
	}
	for i, p := range sentryevent.CostParts {
		l.Breakdown[i] = n("llm_cost.breakdown." + p)
	}
	if v, ok := attrs.Get("gen_ai.response.finish_reasons"); ok {
		l.FinishReasons = m.appendValue(nil, v, 1, c)
	}
	return l
}

// cleanName is a short attribute value as an event shows it: cut and scrubbed.
func (m *mapper) cleanName(v string, c *scrub.Counts) string {
	if v == "" {
		return v
	}
	return m.scrub.Text(truncate(v, 256), c)
}

// agentContext is the agent context at attrs, nil when attrs name no agent.
func (m *mapper) agentContext(attrs pcommon.Map, c *scrub.Counts) *sentryevent.Agent {
	name := str(attrs, "gen_ai.agent.name")
	id := str(attrs, "gen_ai.agent.id")
	if name == "" && id == "" {
		return nil
	}
	return &sentryevent.Agent{
		Name:           m.cleanName(name, c),
		ID:             m.cleanName(id, c),
		Description:    m.cleanName(str(attrs, "gen_ai.agent.description"), c),
		ConversationID: m.cleanName(str(attrs, "gen_ai.conversation.id"), c),
	}
}

// toolFields adds the tool call the error happened in to an agent context.
func (m *mapper) toolFields(ctx *sentryevent.Agent, attrs pcommon.Map, c *scrub.Counts) *sentryevent.Agent {
	tool := str(attrs, "gen_ai.tool.name")
	if tool == "" {
		return ctx
	}
	if ctx == nil {
		ctx = &sentryevent.Agent{}
	}
	ctx.Tool = m.scrub.Text(truncate(tool, 256), c)
	if id := str(attrs, "gen_ai.tool.call.id"); id != "" {
		ctx.ToolCallID = m.scrub.Text(truncate(id, 256), c)
	}
	return ctx
}

// setTags adds the llm, agent, route and error.type tags.
func (m *mapper) setTags(ev *sentryevent.Event, errorType, route string, c *scrub.Counts) {
	if l := ev.Contexts.LLM; l != nil {
		if l.Provider != "" {
			ev.Tags.Set(sentryevent.TagLLMProvider, tagValue(l.Provider))
		}
		if l.Model != "" {
			ev.Tags.Set(sentryevent.TagLLMModel, tagValue(l.Model))
		} else if l.ResponseModel != "" {
			ev.Tags.Set(sentryevent.TagLLMModel, tagValue(l.ResponseModel))
		}
	}
	if a := ev.Contexts.Agent; a != nil && a.Name != "" {
		ev.Tags.Set(sentryevent.TagAgent, tagValue(a.Name))
	}
	if route != "" {
		ev.Tags.Set(sentryevent.TagRoute, tagValue(m.scrub.Text(truncate(route, 256), c)))
	}
	if errorType != "" {
		ev.Tags.Set(sentryevent.TagErrorType, tagValue(m.scrub.Text(truncate(errorType, 256), c)))
	}
}

// otelContext is the otel context: the attributes and the resource, scrubbed.
func (m *mapper) otelContext(attrs, res pcommon.Map, c *scrub.Counts) *sentryevent.Otel {
	o := &sentryevent.Otel{}
	if b := m.appendAttrsObject(nil, attrs, maxAttrs, c); len(b) > 0 {
		o.Attributes = json.RawMessage(b)
	}
	if b := m.appendAttrsObject(nil, res, maxAttrs, c); len(b) > 0 {
		o.Resource = json.RawMessage(b)
	}
	return o
}
