package pricing

import (
	"math"
	"testing"

	"github.com/procode-ai/otelcol-procode/internal/allocbudget"
)

// maxUsageTokens is the largest token count the processor accepts (its maxTokens).
const maxUsageTokens = 1 << 40

// FuzzParseFile feeds arbitrary bytes to every price-source format (ours in YAML or JSON,
// LiteLLM's, genai-prices') and prices arbitrary valid usage with whatever they yield. Properties:
// no panic; a file that parses builds a table (so the reloader never accepts a file
// it then cannot use); every cost is finite and >= 0 and its buckets add up to the
// total; parsing allocates a bounded multiple of the file's size.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("prices:\n  - id: acme-large\n    provider: acme\n    input_mtok: 2\n    output_mtok: 8\n"), uint8(1), "acme-large", int64(1000), int64(100), int64(10), int64(5), int64(0))
	f.Add([]byte(`{"prices":[{"id":"x","match":{"regex":"^x-.*"},"input_mtok":1,"tiers":[{"above_input_tokens":10,"input_mtok":2}]}]}`), uint8(0), "x-1", int64(20), int64(1), int64(0), int64(0), int64(0))
	f.Add([]byte(`{"m":{"input_cost_per_token":1e-6,"output_cost_per_token":"2e-6","input_cost_per_token_above_200k_tokens":2e-6,"litellm_provider":"bedrock"}}`), uint8(2), "m", int64(300000), int64(10), int64(0), int64(0), int64(0))
	f.Add([]byte(`{"": {"input_cost_per_token": 1e-6}}`), uint8(2), "", int64(1), int64(1), int64(0), int64(0), int64(0))
	f.Add([]byte(`{"big": {"input_cost_per_token": 1e300}}`), uint8(2), "big", int64(maxUsageTokens), int64(0), int64(0), int64(0), int64(0))
	f.Add([]byte(`{"t": {"input_cost_per_token": 1e-6, "input_cost_per_token_above_0k_tokens": 2e-6}}`), uint8(0), "t", int64(5), int64(0), int64(0), int64(0), int64(0))
	f.Add([]byte("prices:\n  - id: h\n    input_mtok: 1\n    start_date: \"2025-01-01\"\n  - id: h\n    input_mtok: 2\n    start_date: \"2026-01-01\"\n"), uint8(1), "h", int64(1), int64(0), int64(0), int64(0), int64(1_767_225_600_000_000_000))
	f.Add([]byte("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nprices: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"), uint8(1), "x", int64(1), int64(1), int64(0), int64(0), int64(0))

	f.Add([]byte(`[{"id":"p","fallback_model_providers":[],"models":[{"id":"m","match":{"regex":"^(?!x)m"},"prices":[{"prices":{"input_mtok":{"base":1,"tiers":[{"start":10,"price":2}]}}},{"constraint":{"start_time":"01:00:00Z","end_time":"04:00:00Z","type":"time_of_date"},"prices":{"output_mtok":3}}]}]}]`), uint8(3), "m", int64(20), int64(5), int64(0), int64(0), int64(3_600_000_000_000))
	f.Add([]byte(`{"units":{},"providers":[{"id":"p","models":[{"id":"m","prices":{"input_mtok":1}}]}]}`), uint8(0), "m", int64(1), int64(1), int64(0), int64(0), int64(0))
	base, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	formats := []string{FormatAuto, FormatLLMCost, FormatLiteLLM, FormatGenAIPrices}
	f.Fuzz(func(t *testing.T, data []byte, format uint8, model string, input, output, cached, reasoning, at int64) {
		var parsed Parsed
		var perr error
		// A YAML alias bomb or a quadratic decoder would show here long before it
		// exhausted the collector's memory on a real file.
		if err := allocbudget.Check(len(data), 512, 8<<20, func() {
			parsed, perr = ParseSource(data, formats[int(format)%len(formats)], "fuzz")
		}); err != nil {
			t.Fatal(err)
		}
		if perr != nil {
			return
		}
		models := parsed.Models
		table, err := base.WithOverrides(models)
		if parsed.Table != nil {
			// A genai_prices file is a whole table: it must price something and build.
			if parsed.Table.ModelCount() == 0 {
				t.Fatal("ParseSource accepted a genai_prices table without models")
			}
			for _, p := range parsed.Table.Providers {
				models = append(models, p.Models...)
			}
			table, err = parsed.Table.WithOverrides(nil)
		}
		if err != nil {
			t.Fatalf("ParseSource accepted the file but its entries do not build a table: %v", err)
		}

		u := validUsage(input, output, cached, reasoning)
		for _, m := range models {
			for i := range m.Periods {
				checkCost(t, m.ID, m.Periods[i].Prices.Cost(u))
				checkCost(t, m.ID, m.Periods[i].Prices.Cost(Usage{Input: maxUsageTokens, Output: maxUsageTokens,
					CacheRead: maxUsageTokens / 2, CacheWrite: maxUsageTokens / 2, CacheWrite1h: maxUsageTokens / 4, Reasoning: maxUsageTokens}))
			}
		}
		if m, _ := table.Resolve("", model, nil); m != nil {
			checkCost(t, m.ID, m.PricesAt(at).Cost(u))
		}
	})
}

// validUsage turns arbitrary numbers into usage the processor would price: counts in
// [0, 2^40], cached tokens within the input, reasoning within the output.
func validUsage(input, output, cached, reasoning int64) Usage {
	clamp := func(v, hi int64) int64 {
		if v < 0 {
			v = -(v + 1)
		}
		return v % (hi + 1)
	}
	u := Usage{Input: clamp(input, maxUsageTokens), Output: clamp(output, maxUsageTokens)}
	u.CacheRead = clamp(cached, u.Input)
	u.CacheWrite = (u.Input - u.CacheRead) / 2
	u.CacheWrite1h = u.CacheWrite / 3
	u.Reasoning = clamp(reasoning, u.Output)
	return u
}

func checkCost(t *testing.T, id string, c Cost) {
	t.Helper()
	sum := 0.0
	for _, v := range []float64{c.Input, c.Output, c.CacheRead, c.CacheWrite, c.Reasoning, c.Request, c.Total} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("entry %q: cost %+v has a bucket that is not a finite amount >= 0", id, c)
		}
	}
	sum = c.Input + c.Output + c.CacheRead + c.CacheWrite + c.Reasoning + c.Request
	if math.Abs(sum-c.Total) > 1e-9*math.Max(1, c.Total) {
		t.Fatalf("entry %q: buckets add up to %v, total is %v", id, sum, c.Total)
	}
}
