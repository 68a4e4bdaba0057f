package llmcost

import (
	"math"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// FuzzProcess feeds arbitrary attribute values through every convention: processing
// must not panic, and a cost it writes is never negative, NaN or infinite.
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
		switch conv % 4 {
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
		var rec record
		st := p.eng.process(&rec, attrs, op, 1_756_728_000_000_000_000)
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
	})
}
