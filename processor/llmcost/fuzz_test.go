package llmcost

import (
	"math"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/procode-ai/otelcol-procode/internal/allocbudget"
)

// FuzzProcess feeds arbitrary attribute values through every convention: processing
// must not panic, a cost it writes is never negative, NaN or infinite, the canonical
// token counts it writes are never negative, metric-label attributes stay bounded, and
// one record allocates a bounded amount.
func FuzzProcess(f *testing.F) {
	f.Add(uint8(0), "openai", "gpt-4o", "1000", 500.0, int64(200), "0", "", "chat")
	f.Add(uint8(1), "anthropic", "claude-sonnet-4-5", "-1", math.NaN(), int64(-5), "x", "NaN", "LLM")
	f.Add(uint8(2), "anthropic.messages", "claude-sonnet-4-5", "9e18", math.Inf(1), int64(1<<62), "12.5", "-1", "ai.generateText.doGenerate")
	f.Add(uint8(3), "", "", "", 0.0, int64(0), "", "0", "")
	f.Add(uint8(0), "aws.bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", " 42 ", 1e300, int64(7), "3", "1e308", "chat")

	cfg := createDefaultConfig().(*Config)
	cfg.Aliases = map[string]string{"deployment": "gpt-4o"}
	p, err := newProcessor(newNopSettings(), cfg, signalSpans)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, conv uint8, provider, model, input string, output float64, cacheRead int64, reasoning, cost, op string) {
		attrs := pcommon.NewMap()
		switch conv % 6 {
		case 0: // OTel GenAI
			attrs.PutStr("gen_ai.operation.name", op)
			attrs.PutStr("gen_ai.provider.name", provider)
			attrs.PutStr("gen_ai.request.model", model)
			attrs.PutStr("gen_ai.usage.input_tokens", input)
			attrs.PutDouble("gen_ai.usage.output_tokens", output)
			attrs.PutInt("gen_ai.usage.cache_read.input_tokens", cacheRead)
			attrs.PutStr("gen_ai.usage.reasoning.output_tokens", reasoning)
		case 1: // OpenInference
			attrs.PutStr("openinference.span.kind", op)
			attrs.PutStr("llm.provider", provider)
			attrs.PutStr("llm.model_name", model)
			attrs.PutStr("llm.token_count.prompt", input)
			attrs.PutDouble("llm.token_count.completion", output)
			attrs.PutInt("llm.token_count.prompt_details.cache_write", cacheRead)
			attrs.PutStr("llm.token_count.completion_details.reasoning", reasoning)
		case 2: // Vercel AI SDK
			attrs.PutStr("ai.operationId", op)
			attrs.PutStr("ai.model.provider", provider)
			attrs.PutStr("ai.model.id", model)
			attrs.PutStr("ai.usage.inputTokens", input)
			attrs.PutDouble("ai.usage.outputTokens", output)
			attrs.PutInt("ai.usage.cachedInputTokens", cacheRead)
			attrs.PutStr("ai.usage.reasoningTokens", reasoning)
		case 4: // OpenLIT: reasoning tokens under their own name; its cost is a provided one
			attrs.PutStr("gen_ai.operation.name", op)
			attrs.PutStr("gen_ai.system", provider)
			attrs.PutStr("gen_ai.request.model", model)
			attrs.PutStr("gen_ai.usage.input_tokens", input)
			attrs.PutDouble("gen_ai.usage.output_tokens", output)
			attrs.PutInt("gen_ai.usage.cache_read_input_tokens", cacheRead)
			attrs.PutStr("gen_ai.usage.reasoning_tokens", reasoning)
		case 5: // Logfire / Pydantic AI: cache and reasoning under gen_ai.usage.details.*
			attrs.PutStr("gen_ai.operation.name", op)
			attrs.PutStr("gen_ai.system", provider)
			attrs.PutStr("gen_ai.response.model", model)
			attrs.PutStr("gen_ai.usage.input_tokens", input)
			attrs.PutDouble("gen_ai.usage.output_tokens", output)
			attrs.PutInt("gen_ai.usage.details.cache_read_tokens", cacheRead)
			attrs.PutStr("gen_ai.usage.details.cache_write_tokens", reasoning)
			attrs.PutStr("gen_ai.usage.details.reasoning_tokens", reasoning)
		default: // deprecated GenAI / OpenLLMetry
			attrs.PutStr("gen_ai.system", provider)
			attrs.PutStr("llm.request.type", op)
			attrs.PutStr("gen_ai.response.model", model)
			attrs.PutStr("gen_ai.usage.prompt_tokens", input)
			attrs.PutDouble("gen_ai.usage.completion_tokens", output)
			attrs.PutInt("gen_ai.usage.cache_creation_input_tokens", cacheRead)
		}
		if cost != "" {
			if v, err := strconv.ParseFloat(cost, 64); err == nil && conv%2 == 0 {
				attrs.PutDouble("gen_ai.usage.cost", v)
			} else {
				attrs.PutStr("llm.cost.total", cost)
			}
		}
		before := attrs.AsRaw()
		// The first record of a model name resolves it and fills the bounded cache
		// (cache_size); the budget holds for every record after it.
		warm := pcommon.NewMap()
		attrs.CopyTo(warm)
		var rec record
		p.eng.process(&rec, warm, op, "test", 1_756_728_000_000_000_000)
		rec = record{}
		var st int
		inputLen := len(provider) + len(model) + len(input) + len(reasoning) + len(cost) + len(op)
		if err := allocbudget.Check(inputLen, 64, 16<<10, func() {
			st = p.eng.process(&rec, attrs, op, "test", 1_756_728_000_000_000_000)
		}); err != nil {
			t.Fatal(err)
		}
		if st == idxNone {
			return
		}
		status, ok := attrs.Get(attrStatus)
		if !ok || status.Str() != statusNames[st] {
			t.Fatalf("status %d but attribute %v", st, status.AsRaw())
		}
		attrs.Range(func(k string, v pcommon.Value) bool {
			if k == attrCost || len(k) > 19 && k[:19] == "llm_cost.breakdown." {
				if v.Type() != pcommon.ValueTypeDouble {
					if st == idxPriced {
						t.Fatalf("%s is %s", k, v.Type())
					}
					return true
				}
				d := v.Double()
				if (st == idxPriced || st == idxProvided) && (math.IsNaN(d) || math.IsInf(d, 0) || d < 0) {
					t.Fatalf("%s = %v for status %s", k, d, statusNames[st])
				}
			}
			return true
		})
		if e, ok := attrs.Get(attrError); ok && len(e.Str()) > maxErrorLen {
			t.Fatalf("llm_cost.error is %d bytes", len(e.Str()))
		}
		if m, ok := attrs.Get(attrModel); ok && st == idxUnpriced && len(m.Str()) > maxLabelLen {
			t.Fatalf("llm_cost.model is %d bytes for an unpriced call: a metric label must stay bounded", len(m.Str()))
		}
		for _, k := range []string{"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.cache_read.input_tokens",
			"gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.reasoning.output_tokens"} {
			if _, sent := before[k]; sent {
				if v, _ := attrs.Get(k); v.AsRaw() != before[k] && !(v.Type() == pcommon.ValueTypeDouble && math.IsNaN(v.Double())) {
					t.Fatalf("%s was sent as %v and changed to %v: the app's attributes are never overwritten", k, before[k], v.AsRaw())
				}
				continue
			}
			if v, ok := attrs.Get(k); ok && (v.Type() != pcommon.ValueTypeInt || v.Int() < 0) {
				t.Fatalf("%s written as %v: canonical token counts are integers >= 0", k, v.AsRaw())
			}
		}
	})
}
