package pricing

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mtok(n, usd float64) float64 { return n * usd / 1e6 }

func tiered(base float64, start int64, above float64) *Rate {
	return &Rate{Base: base, Tiers: []Tier{{Start: start, Price: above}}}
}

func TestCostBucketsAndFallbacks(t *testing.T) {
	ps := PriceSet{Input: Flat(3), Output: Flat(15), CacheRead: Flat(0.3), CacheWrite: Flat(3.75), CacheWrite1h: Flat(6)}
	c := ps.Cost(Usage{Input: 10000, CacheRead: 4000, CacheWrite: 3000, CacheWrite1h: 1000, Output: 500, Reasoning: 200})
	assert.InDelta(t, mtok(3000, 3), c.Input, 1e-15)
	assert.InDelta(t, mtok(4000, 0.3), c.CacheRead, 1e-15)
	assert.InDelta(t, mtok(2000, 3.75)+mtok(1000, 6), c.CacheWrite, 1e-15)
	assert.InDelta(t, mtok(300, 15), c.Output, 1e-15)
	assert.InDelta(t, mtok(200, 15), c.Reasoning, 1e-15, "reasoning without a price of its own is billed at the output price, once")
	assert.InDelta(t, c.Input+c.CacheRead+c.CacheWrite+c.Output+c.Reasoning, c.Total, 1e-15)

	// No cache prices: cached tokens are input tokens at the input price, not free.
	plain := PriceSet{Input: Flat(2), Output: Flat(8)}
	c = plain.Cost(Usage{Input: 1000, CacheRead: 400, CacheWrite: 100, CacheWrite1h: 100, Output: 10})
	assert.InDelta(t, mtok(1000, 2)+mtok(10, 8), c.Total, 1e-15)

	// One-hour writes without their own price use the cache-write price.
	noHour := PriceSet{Input: Flat(1), CacheWrite: Flat(1.25)}
	c = noHour.Cost(Usage{Input: 1000, CacheWrite: 1000, CacheWrite1h: 1000})
	assert.InDelta(t, mtok(1000, 1.25), c.Total, 1e-15)

	// A separate reasoning price applies to reasoning tokens only.
	r := PriceSet{Input: Flat(2), Output: Flat(8), Reasoning: Flat(3), RequestsKCount: 5}
	c = r.Cost(Usage{Input: 100, Output: 1000, Reasoning: 600})
	assert.InDelta(t, mtok(400, 8), c.Output, 1e-15)
	assert.InDelta(t, mtok(600, 3), c.Reasoning, 1e-15)
	assert.InDelta(t, 0.005, c.Request, 1e-15)
	assert.InDelta(t, mtok(100, 2)+mtok(400, 8)+mtok(600, 3)+0.005, c.Total, 1e-15)
}

func TestTiersRepriceEveryTokenAboveTheThreshold(t *testing.T) {
	ps := PriceSet{Input: tiered(3, 200000, 6), Output: tiered(15, 200000, 22.5), CacheRead: tiered(0.3, 200000, 0.6)}
	at := ps.Cost(Usage{Input: 200000, Output: 1000})
	assert.InDelta(t, mtok(200000, 3)+mtok(1000, 15), at.Total, 1e-12, "exactly at the threshold: base price")
	above := ps.Cost(Usage{Input: 200001, CacheRead: 100000, Output: 1000})
	assert.InDelta(t, mtok(100001, 6)+mtok(100000, 0.6)+mtok(1000, 22.5), above.Total, 1e-12,
		"one token over: all tokens of every type at the tier price, decided by total input incl. cache")
}

func TestPeriodsByDateAndTimeOfDay(t *testing.T) {
	day := func(s string) int64 { d, _ := time.Parse(time.DateOnly, s); return d.UnixNano() }
	m := &Model{ID: "x", Periods: []Period{
		{Prices: PriceSet{Input: Flat(10)}},
		{StartDate: day("2025-06-10"), Prices: PriceSet{Input: Flat(2)}},
	}}
	require.NoError(t, m.compile())
	assert.InDelta(t, 10, m.PricesAt(day("2025-06-09")+int64(23*time.Hour)).Input.Base, 0)
	assert.InDelta(t, 2, m.PricesAt(day("2025-06-10")).Input.Base, 0)

	// DeepSeek-style off-peak: standard 00:30-16:30 UTC, discounted otherwise.
	d := &Model{ID: "d", Periods: []Period{
		{Prices: PriceSet{Input: Flat(0.135)}},
		{Daily: true, DailyStart: 1800, DailyEnd: 59400, Prices: PriceSet{Input: Flat(0.27)}},
	}}
	require.NoError(t, d.compile())
	base := day("2025-09-01")
	assert.InDelta(t, 0.27, d.PricesAt(base+int64(12*time.Hour)).Input.Base, 0)
	assert.InDelta(t, 0.135, d.PricesAt(base+int64(20*time.Hour)).Input.Base, 0)
	assert.InDelta(t, 0.135, d.PricesAt(base+int64(10*time.Minute)).Input.Base, 0)
}

func TestBuiltinTable(t *testing.T) {
	tb, err := Builtin()
	require.NoError(t, err)
	assert.Equal(t, "embedded 2026-09-23", tb.Version)
	assert.Equal(t, 1694, tb.ModelCount())

	// Reference prices from the data README.
	price := func(provider, model string) *PriceSet {
		m, _ := tb.Resolve(provider, model, nil)
		require.NotNil(t, m, "%s %s", provider, model)
		return m.PricesAt(time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	}
	gpt4o := price("openai", "gpt-4o")
	assert.Equal(t, []float64{2.5, 1.25, 10}, []float64{gpt4o.Input.Base, gpt4o.CacheRead.Base, gpt4o.Output.Base})
	sonnet := price("anthropic", "claude-sonnet-4-5")
	assert.Equal(t, []float64{3, 3.75, 0.3, 15, 6, 22.5}, []float64{sonnet.Input.Base, sonnet.CacheWrite.Base, sonnet.CacheRead.Base,
		sonnet.Output.Base, sonnet.Input.At(200001), sonnet.Output.At(200001)})
	gem := price("gcp.gemini", "gemini-2.5-pro")
	assert.Equal(t, []float64{1.25, 10, 2.5, 15}, []float64{gem.Input.Base, gem.Output.Base, gem.Input.At(200001), gem.Output.At(200001)})
	assert.InDelta(t, 0.02, price("openai", "text-embedding-3-small").Input.Base, 0)
}

// The changes of the 2026-09-23 data (npm @pydantic/genai-prices 0.1.8) that issue 15
// names, read through the embedded table as spans would see them.
func TestBuiltinTableHasTheSeptember2026Prices(t *testing.T) {
	tb, err := Builtin()
	require.NoError(t, err)
	at := func(provider, model, when string) (*Model, *PriceSet) {
		m, _ := tb.Resolve(provider, model, nil)
		require.NotNil(t, m, "%s %s", provider, model)
		ts, err := time.Parse(time.RFC3339, when)
		require.NoError(t, err)
		return m, m.PricesAt(ts.UnixNano())
	}
	// The Claude Sonnet 5 rise dated 2026-09-01 was withdrawn: $2/$10 after that day too,
	// on Anthropic and on Bedrock.
	for _, c := range []struct{ provider, model string }{{"anthropic", "claude-sonnet-5"}, {"aws.bedrock", "global.anthropic.claude-sonnet-5-v1:0"}} {
		_, p := at(c.provider, c.model, "2026-09-15T12:00:00Z")
		assert.Equal(t, []float64{2, 10}, []float64{p.Input.Base, p.Output.Base}, c.model)
	}
	// DeepSeek v4 flash: new prices from 2026-08-17, doubled in the peak windows.
	_, p := at("deepseek", "deepseek-v4-flash", "2026-08-10T12:00:00Z")
	assert.Equal(t, []float64{0.14, 0.28}, []float64{p.Input.Base, p.Output.Base}, "before 2026-08-17")
	_, p = at("deepseek", "deepseek-v4-flash", "2026-09-15T12:00:00Z")
	assert.Equal(t, []float64{0.22, 0.66}, []float64{p.Input.Base, p.Output.Base}, "off-peak")
	_, p = at("deepseek", "deepseek-v4-flash", "2026-09-15T02:00:00Z")
	assert.Equal(t, []float64{0.44, 1.32}, []float64{p.Input.Base, p.Output.Base}, "peak 01:00-04:00 UTC")
	_, p = at("deepseek", "deepseek-v4-pro", "2026-09-15T07:00:00Z")
	assert.Equal(t, []float64{1.32, 3.96}, []float64{p.Input.Base, p.Output.Base}, "peak 06:00-10:00 UTC")
	// gpt-4o-2024-05-13 is its own entry at $5/$15.
	m, p := at("openai", "gpt-4o-2024-05-13", "2026-09-15T12:00:00Z")
	assert.Equal(t, "gpt-4o-2024-05-13", m.ID)
	assert.Equal(t, []float64{5, 15}, []float64{p.Input.Base, p.Output.Base})
	// gpt-5.5 has a long-context tier; gpt-5.4's threshold moved by one token: a call of
	// exactly 272,000 input tokens is long-context now.
	_, p = at("openai", "gpt-5.5", "2026-09-15T12:00:00Z")
	assert.Equal(t, []float64{5, 10, 30, 45}, []float64{p.Input.At(271999), p.Input.At(272000), p.Output.At(271999), p.Output.At(272000)})
	_, p = at("openai", "gpt-5.4", "2026-09-15T12:00:00Z")
	assert.Equal(t, []float64{2.5, 5}, []float64{p.Input.At(271999), p.Input.At(272000)})
	// Azure serves the models of more providers.
	assert.Equal(t, []string{"openai", "anthropic", "deepseek", "x-ai", "moonshotai"}, tb.Fallbacks("azure"))
	assert.Equal(t, []string{"anthropic"}, tb.Fallbacks("google"))
}

// Zero config prices every mainstream model of the providers the README promises.
func TestZeroConfigCoversMainstreamModels(t *testing.T) {
	tb, err := Builtin()
	require.NoError(t, err)
	for _, c := range []struct{ provider, model, want string }{
		{"openai", "gpt-4o", "gpt-4o"}, {"openai", "gpt-4o-mini", "gpt-4o-mini"}, {"openai", "gpt-4.1", "gpt-4.1"},
		{"openai", "o3", "o3"}, {"openai", "o4-mini", "o4-mini"}, {"openai", "text-embedding-3-large", "text-embedding-3-large"},
		{"anthropic", "claude-opus-4-1", "claude-opus-4-1"}, {"anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"},
		{"anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"gcp.gemini", "gemini-2.5-flash", "gemini-2.5-flash"}, {"gcp.vertex_ai", "gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0", ""}, {"aws.bedrock", "amazon.nova-pro-v1:0", ""},
		{"azure.ai.openai", "gpt-4o", "gpt-4o"}, {"mistral_ai", "mistral-large-latest", ""}, {"mistral_ai", "codestral-latest", ""},
		{"cohere", "command-r-plus", "command-r-plus"}, {"deepseek", "deepseek-chat", "deepseek-chat"},
		{"deepseek", "deepseek-reasoner", "deepseek-reasoner"}, {"x_ai", "grok-3", "grok-3"}, {"x_ai", "grok-4", ""},
		{"groq", "llama-3.3-70b-versatile", "llama-3.3-70b-versatile"},
	} {
		m, how := tb.Resolve(c.provider, c.model, nil)
		if assert.NotNil(t, m, "%s %s is not priced", c.provider, c.model) && c.want != "" {
			assert.Equal(t, c.want, m.ID, "%s %s (%s)", c.provider, c.model, how)
		}
	}
}

func TestResolveNormalisation(t *testing.T) {
	tb, err := Builtin()
	require.NoError(t, err)
	for _, c := range []struct{ provider, model, wantProvider, wantID, wantMatch string }{
		{"openai", "gpt-4o-2024-08-06", "openai", "gpt-4o", MatchRule},
		{"openai", "openai/gpt-4o", "openai", "gpt-4o", MatchNormalized},
		{"openai", "GPT-4o", "openai", "gpt-4o", MatchExact},
		{"", "gpt-4o", "openai", "gpt-4o", MatchExact},
		{"anthropic", "claude-3-5-sonnet-latest", "anthropic", "claude-3-5-sonnet", MatchRule},
		{"gcp.vertex_ai", "claude-3-5-sonnet-v2@20241022", "google", "claude-3-5-sonnet", MatchRule},
		{"aws.bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0", MatchRule},
		{"", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws", "regional.anthropic.claude-sonnet-4-5-20250929-v1:0", MatchRule},
		{"gcp.gemini", "models/gemini-2.0-flash", "google", "gemini-2.0-flash", MatchRule},
		{"azure.ai.openai", "gpt-4o", "openai", "gpt-4o", MatchExact},
	} {
		m, how := tb.Resolve(c.provider, c.model, nil)
		require.NotNil(t, m, "%s %s", c.provider, c.model)
		assert.Equal(t, []string{c.wantProvider, c.wantID, c.wantMatch}, []string{m.Provider, m.ID, how}, "%s %s", c.provider, c.model)
	}
	m, _ := tb.Resolve("openai", "definitely-not-a-model", nil)
	assert.Nil(t, m, "an unknown name resolves to nothing, never to a zero price")
	m, how := tb.Resolve("azure.ai.openai", "prod-chat", map[string]string{"prod-chat": "gpt-4o-mini"})
	require.NotNil(t, m)
	assert.Equal(t, []string{"gpt-4o-mini", MatchAlias}, []string{m.ID, how})
}

func TestCandidates(t *testing.T) {
	assert.Equal(t, []string{
		"us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-sonnet-20241022-v2:0",
		"anthropic.claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet",
	}, Candidates("us.anthropic.claude-3-5-sonnet-20241022-v2:0"))
	assert.Equal(t, []string{"vertex/claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-v2"},
		Candidates("vertex/claude-3-5-sonnet-v2@20241022"))
	assert.Equal(t, []string{"mistral-large-latest", "mistral-large"}, Candidates("mistral-large-latest"))
	assert.Equal(t, []string{"gpt-4o-2024-08-06", "gpt-4o"}, Candidates("gpt-4o-2024-08-06"))
}

func TestOverridesWin(t *testing.T) {
	tb, err := Builtin()
	require.NoError(t, err)
	one := 1.0
	models, err := Models([]Entry{
		{ID: "gpt-4o", Rates: Rates{InputMTok: &one, OutputMTok: &one}},
		{ID: "acme-large", Provider: "acme", Rates: Rates{InputMTok: &one}},
	})
	require.NoError(t, err)
	ot, err := tb.WithOverrides(models)
	require.NoError(t, err)
	m, how := ot.Resolve("openai", "gpt-4o-2024-08-06", nil)
	require.NotNil(t, m)
	assert.True(t, m.Override)
	assert.Equal(t, MatchNormalized, how)
	m, _ = ot.Resolve("acme", "acme-large", nil)
	assert.NotNil(t, m)
	m, _ = ot.Resolve("openai", "acme-large", nil)
	assert.Nil(t, m, "an override scoped to provider acme does not price another provider's spans")
	m, _ = ot.Resolve("", "acme-large", nil)
	assert.NotNil(t, m, "nor is it hidden from spans that name no provider")
	// The built-in table is unchanged.
	m, _ = tb.Resolve("openai", "gpt-4o", nil)
	assert.False(t, m.Override)
}

func TestEntryHistoryAndTiers(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	models, err := Models([]Entry{
		{ID: "m", StartDate: "2026-01-01", Rates: Rates{InputMTok: f(1)}},
		{ID: "m", Rates: Rates{InputMTok: f(2), OutputMTok: f(4)},
			Tiers: []EntryTier{{AboveInputTokens: 1000, Rates: Rates{InputMTok: f(3)}}}},
	})
	require.NoError(t, err)
	require.Len(t, models, 1)
	m := models[0]
	require.NoError(t, m.compile())
	before := m.PricesAt(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC).UnixNano())
	after := m.PricesAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	assert.InDelta(t, 2, before.Input.At(1000), 0)
	assert.InDelta(t, 3, before.Input.At(1001), 0)
	assert.InDelta(t, 4, before.Output.At(5000), 0, "a bucket without a tier keeps its base price")
	assert.InDelta(t, 1, after.Input.At(5000), 0)

	_, err = Models([]Entry{{ID: "m", Rates: Rates{InputMTok: f(1)}}, {ID: "m", Rates: Rates{InputMTok: f(2)}}})
	assert.ErrorContains(t, err, `prices[1] "m": another entry with the same id and provider has the same start_date ""`)
	_, err = Models([]Entry{{ID: "m", StartDate: "2026-01-01", Rates: Rates{InputMTok: f(1)}}, {ID: "M", StartDate: "2026-01-01", Rates: Rates{InputMTok: f(2)}}})
	assert.ErrorContains(t, err, `prices[1] "M": another entry with the same id and provider has the same start_date "2026-01-01"`)
	// The same date for another id, or for the same id of another provider, is no clash.
	_, err = Models([]Entry{{ID: "m", StartDate: "2026-01-01", Rates: Rates{InputMTok: f(1)}}, {ID: "n", StartDate: "2026-01-01", Rates: Rates{InputMTok: f(2)}},
		{ID: "m", Provider: "azure", StartDate: "2026-01-01", Rates: Rates{InputMTok: f(2)}}, {ID: "m", StartDate: "2026-02-01", Rates: Rates{InputMTok: f(3)}}})
	assert.NoError(t, err)
}

// TestUnquotedDatesInPriceFiles: YAML reads start_date: 2026-01-01 as a timestamp; it is
// taken as the date it says (it once failed the whole file, one error per entry).
func TestUnquotedDatesInPriceFiles(t *testing.T) {
	models, err := ParseFile([]byte("prices:\n  - id: m\n    input_mtok: 1\n  - id: m\n    input_mtok: 2\n    start_date: 2026-01-01\n"), FormatAuto)
	require.NoError(t, err)
	require.Len(t, models, 1)
	require.Len(t, models[0].Periods, 2)
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), models[0].Periods[1].StartDate)
	assert.Equal(t, "2026-01-01", DatesAsText(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "2026-01-01T10:30:00Z", DatesAsText(time.Date(2026, 1, 1, 10, 30, 0, 0, time.UTC)))
}

func TestParseLiteLLM(t *testing.T) {
	b := readFile(t, "testdata/litellm_sample.json")
	models, err := ParseFile(b, FormatAuto)
	require.NoError(t, err)
	byID := map[string]*Model{}
	for _, m := range models {
		byID[m.ID] = m
	}
	require.Len(t, byID, 3, "sample_spec and the per-pixel image model are skipped")
	s := byID["claude-sonnet-4-5"].Periods[0].Prices
	assert.InDelta(t, 3, s.Input.At(1), 1e-9)
	assert.InDelta(t, 6, s.Input.At(200001), 1e-9)
	assert.InDelta(t, 22.5, s.Output.At(200001), 1e-9)
	assert.InDelta(t, 0.6, s.CacheRead.At(200001), 1e-9)
	assert.InDelta(t, 7.5, s.CacheWrite.At(200001), 1e-9)
	assert.InDelta(t, 6, s.CacheWrite1h.At(1), 1e-9)
	assert.Equal(t, "anthropic", byID["claude-sonnet-4-5"].Provider)
	assert.InDelta(t, 1.1, byID["o4-mini"].Periods[0].Prices.Input.Base, 1e-9, "numeric strings are accepted")
	assert.Equal(t, "together", byID["my-org/llama-finetune"].Provider)

	_, err = ParseFile([]byte(`{"x": {"input_cost_per_token": -1}}`), FormatLiteLLM)
	assert.ErrorContains(t, err, `model "x": input_cost_per_token -1 must be a finite number >= 0`)
	_, err = ParseFile([]byte(`{"x": {"input_cost_per_token": "cheap"}}`), FormatLiteLLM)
	assert.ErrorContains(t, err, `model "x": input_cost_per_token "cheap" is not a number`)
}

func TestParseOwnFormat(t *testing.T) {
	models, err := ParseFile([]byte("prices:\n  - id: acme-large\n    provider: acme\n    input_mtok: 1\n    output_mtok: 2\n"), FormatAuto)
	require.NoError(t, err)
	require.Len(t, models, 1)
	assert.Equal(t, "acme", models[0].Provider)
	models, err = ParseFile([]byte(`{"prices":[{"id":"j","input_mtok":1}]}`), FormatAuto)
	require.NoError(t, err, "JSON in our format is recognised")
	require.Len(t, models, 1)

	for _, c := range []struct{ in, want string }{
		{"prices:\n  - id: a\n    input_mtok: 1\n    outptu_mtok: 2\n", "outptu_mtok"},
		{"prices:\n  - id: a\n", "needs input_mtok or output_mtok"},
		{"prices: [\n", "llm_cost format"},
		{"", "the file is empty"},
		{"models: []\n", "has invalid keys: models"},
	} {
		_, err := ParseFile([]byte(c.in), FormatLLMCost)
		assert.ErrorContains(t, err, c.want, c.in)
	}
}

// The LiteLLM file users maintain parses whole (a snapshot is in third_party/litellm).
func TestParseLiteLLMSnapshot(t *testing.T) {
	b := readFile(t, filepath.Join(repoRoot(t), "third_party", "litellm", "model_prices_and_context_window.json"))
	models, err := ParseLiteLLM(b)
	require.NoError(t, err)
	assert.Greater(t, len(models), 1000)
	tb, err := Builtin()
	require.NoError(t, err)
	ot, err := tb.WithOverrides(models)
	require.NoError(t, err)
	m, _ := ot.Resolve("openai", "gpt-4o", nil)
	require.NotNil(t, m)
	assert.True(t, m.Override)
	assert.InDelta(t, 2.5, m.Periods[0].Prices.Input.Base, 1e-9)
}

// A file is either rejected with a reason or usable as a whole: entries the table
// could not hold (found by FuzzParseFile) are errors of the file, and no price may
// make a valid call cost an infinite amount.
func TestParseFileRejectsUnusableEntries(t *testing.T) {
	for _, tt := range []struct {
		name, file, format, want string
	}{
		{"litellm empty model name", `{"": {"input_cost_per_token": 1e-6}}`, FormatLiteLLM,
			"litellm format: an entry has an empty model name as its key"},
		{"litellm tier at 0k", `{"t": {"input_cost_per_token": 1e-6, "input_cost_per_token_above_0k_tokens": 2e-6}}`, FormatLiteLLM,
			`model "t": input_cost_per_token_above_0k_tokens: the threshold must be a whole number of thousands of tokens above 0`},
		{"litellm tier overflowing int64", `{"t": {"input_cost_per_token": 1e-6, "input_cost_per_token_above_99999999999999999999k_tokens": 2e-6}}`, FormatLiteLLM,
			"the threshold must be a whole number of thousands of tokens above 0"},
		{"litellm price too large", `{"big": {"input_cost_per_token": 1e300}}`, FormatLiteLLM,
			`model "big": input_cost_per_token 1e+300 is above the most a token may cost (1 USD per token)`},
		{"own price too large", "prices:\n  - id: big\n    input_mtok: 2e6\n", FormatLLMCost,
			`prices[0] "big": input_mtok 2e+06 is above the most a token may cost (1e+06 USD per million tokens)`},
		{"own tier price too large", "prices:\n  - id: big\n    input_mtok: 1\n    tiers:\n      - above_input_tokens: 10\n        output_mtok: 1e9\n", FormatLLMCost,
			`tiers[0]: output_mtok 1e+09 is above the most a token may cost`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tt.file), tt.format)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	// The most a token may cost still prices the largest valid call at a finite amount.
	ps := PriceSet{Input: Flat(MaxTokenPrice), Output: Flat(MaxTokenPrice), CacheRead: Flat(MaxTokenPrice),
		CacheWrite: Flat(MaxTokenPrice), CacheWrite1h: Flat(MaxTokenPrice), Reasoning: Flat(MaxTokenPrice)}
	c := ps.Cost(Usage{Input: 1 << 40, Output: 1 << 40, CacheRead: 1 << 38, CacheWrite: 1 << 38, CacheWrite1h: 1 << 37, Reasoning: 1 << 39})
	assert.False(t, math.IsInf(c.Total, 0) || math.IsNaN(c.Total), "%v", c.Total)
}

// TestLongPriceHistory: with many dated periods (the binary search path), the price in
// force is the latest period started at or before the time, and the first before all.
func TestLongPriceHistory(t *testing.T) {
	var entries []Entry
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 40; i++ {
		in := float64(i + 1)
		entries = append(entries, Entry{ID: "m", StartDate: start.AddDate(0, i, 0).Format(time.DateOnly), Rates: Rates{InputMTok: &in}})
	}
	models, err := Models(entries)
	require.NoError(t, err)
	m := models[0]
	require.NoError(t, m.compile())
	assert.InDelta(t, 1, m.PricesAt(start.AddDate(-1, 0, 0).UnixNano()).Input.Base, 0, "before the first date: the first price")
	for i := 0; i < 40; i++ {
		at := start.AddDate(0, i, 0)
		assert.InDelta(t, float64(i+1), m.PricesAt(at.UnixNano()).Input.Base, 0, at)
		assert.InDelta(t, float64(i+1), m.PricesAt(at.AddDate(0, 0, 20).UnixNano()).Input.Base, 0, at)
	}
}
