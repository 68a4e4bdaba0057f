package llmcost

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadatatest"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// servicetiers.yaml is valid, every entry cites its source, and every provider and
// model it prices is one of the built-in table (a renamed entry would silently lose
// its tier price).
func TestBuiltinServiceTiers(t *testing.T) {
	tiers, err := builtinTiers()
	require.NoError(t, err)
	table, err := pricing.Builtin()
	require.NoError(t, err)
	for provider, byTier := range tiers {
		assert.Equal(t, provider, table.ProviderID(provider), "%s is a provider id of the table", provider)
		for tier, tp := range byTier {
			assert.True(t, strings.HasPrefix(tp.Source, "https://"), "%s %s cites the provider's page", provider, tier)
			for model := range tp.Models {
				m, how := table.Resolve(provider, model, nil)
				require.NotNil(t, m, "%s %s model %s", provider, tier, model)
				assert.Equal(t, pricing.MatchExact, how, "%s %s: %s is an entry id", provider, tier, model)
			}
		}
	}
	// The published rules the file encodes.
	assert.InDelta(t, 0.5, tiers["openai"]["flex"].Multiplier, 0)
	assert.InDelta(t, 0.5, tiers["openai"]["batch"].Multiplier, 0)
	assert.InDelta(t, 0.5, tiers["anthropic"]["batch"].Multiplier, 0)
	assert.InDelta(t, 0.5, tiers["google"]["batch"].Multiplier, 0)
	assert.InDelta(t, 0.5, tiers["google"]["flex"].Multiplier, 0)
	assert.EqualValues(t, 128000, tiers["openai"]["priority"].Models["gpt-4.1"].MaxInputTokens)
	assert.Zero(t, tiers["openai"]["priority"].Models["o3"].MaxInputTokens)
}

// A model snapshot with its own published priority price is priced at it, not as
// standard (gpt-4o-2024-05-13 is an entry of its own in the table, priced apart on
// https://openai.com/api-priority-processing/).
func TestPriorityPricePerSnapshot(t *testing.T) {
	a := chatAttrs("gpt-4o-2024-05-13", 10000, 1000)
	a["openai.response.service_tier"] = "priority"
	got := firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025, a)))
	assert.Equal(t, "gpt-4o-2024-05-13", str(got, attrModel))
	cost, _ := got.Get(attrCost)
	assert.InDelta(t, mtok(10000, 8.75)+mtok(1000, 26.25), cost.Double(), 1e-12, str(got, attrNote))
}

// OpenAI's priority page excludes long context (above 128K prompt tokens) for the
// models it marks so (the gpt-5 and gpt-4.1 families), not for o3 and o4-mini, whose
// 200K-token context windows can hold such prompts.
func TestPriorityLongContextPerModel(t *testing.T) {
	price := func(model string) (float64, string) {
		a := chatAttrs(model, 150000, 1000)
		a["openai.response.service_tier"] = "priority"
		got := firstSpanAttrs(process(t, createDefaultConfig().(*Config), oneSpan("chat", sept2025, a)))
		cost, _ := got.Get(attrCost)
		return cost.Double(), str(got, attrNote)
	}
	cost, note := price("o3")
	assert.InDelta(t, mtok(150000, 3.50)+mtok(1000, 14), cost, 1e-12, note)
	assert.Empty(t, note)
	r := tableRatesAt(t, "openai", "gpt-4.1", 150000)
	cost, note = price("gpt-4.1")
	assert.InDelta(t, mtok(150000, r.in)+mtok(1000, r.out), cost, 1e-12)
	assert.Equal(t, "calls above 128000 input tokens are not eligible for the priority tier: priced as standard", note)
}

// service_tiers overrides a built-in tier price and adds tiers of other providers.
func TestServiceTiersConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	three := 3.0
	cfg.ServiceTiers = ServiceTiers{
		"openai": {"flex": {Multiplier: 0.3}},
		"acme":   {"priority": {Models: map[string]TierModelPrice{"acme-large": {InputMtok: &three, OutputMtok: &three}}}},
	}
	cfg.Prices = []pricing.Entry{{ID: "acme-large", Provider: "acme", Rates: pricing.Rates{InputMTok: ptr(1), OutputMTok: ptr(1)}}}
	require.NoError(t, cfg.Validate())
	r := tableRates(t, "openai", "o4-mini")

	flex := chatAttrs("o4-mini", 2000, 100)
	flex["openai.response.service_tier"] = "flex"
	a := firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, flex)))
	cost, _ := a.Get(attrCost)
	assert.InDelta(t, 0.3*(mtok(2000, r.in)+mtok(100, r.out)), cost.Double(), 1e-12)

	acme := chatAttrs("acme-large", 1000, 1000)
	acme["gen_ai.provider.name"] = "acme"
	acme["openai.response.service_tier"] = "priority"
	a = firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, acme)))
	cost, _ = a.Get(attrCost)
	assert.InDelta(t, mtok(1000, 3)+mtok(1000, 3), cost.Double(), 1e-12)
}

// A tier that is no tier, and an app's cost that disagrees with the table's, are
// counted on the processor's own telemetry.
func TestUnknownTiersAndMismatchesCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), metadatatest.NewSettings(tel), createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()

	bad := chatAttrs("gpt-4o", 100, 10)
	bad["openai.response.service_tier"] = 42
	off := chatAttrs("gpt-4o", 100, 10)
	off[attrCost] = 1.0
	near := chatAttrs("gpt-4o", 1000, 0)
	near[attrCost] = mtok(1000, tableRates(t, "openai", "gpt-4o").in) * 1.005 // within 1%
	require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t,
		testSpan{trace: 1, id: 1, scope: "x", name: "chat", attrs: bad},
		testSpan{trace: 2, id: 2, scope: "x", name: "chat", attrs: off},
		testSpan{trace: 3, id: 3, scope: "x", name: "chat", attrs: near})))
	metadatatest.AssertEqualProcessorLlmCostUnknownServiceTiers(t, tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorLlmCostProvidedCostMismatches(t, tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
	got := outcomes(sink)
	note := str(got[spanID(1)], attrNote)
	assert.Equal(t, `service tier "42" is not a tier: priced as standard`, note)
	_, marked := got[spanID(3)].Get(attrCostMismatch)
	assert.False(t, marked, "a figure within 1% is no mismatch")
}

// provided_cost: fallback prices from the table and keeps the app's figure beside it;
// prefer keeps the app's figure; ignore never uses it, even for a model without a price.
func TestProvidedCostModes(t *testing.T) {
	r := tableRates(t, "openai", "gpt-4o")
	table := mtok(1000, r.in) + mtok(100, r.out)
	for _, tc := range []struct {
		mode             string
		model            string
		wantStatus       string
		wantCost         float64
		wantCostWritten  bool
		wantProvidedKept bool
	}{
		{"fallback", "gpt-4o", statusPriced, table, true, true},
		{"prefer", "gpt-4o", statusProvided, 0.5, true, false},
		{"ignore", "gpt-4o", statusPriced, table, true, true},
		{"fallback", "in-house", statusProvided, 0.5, true, false},
		{"prefer", "in-house", statusProvided, 0.5, true, false},
		{"ignore", "in-house", statusUnpriced, 0, false, true},
	} {
		t.Run(tc.mode+"/"+tc.model, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.ProvidedCost = tc.mode
			attrs := chatAttrs(tc.model, 1000, 100)
			attrs[attrCost] = 0.5
			a := firstSpanAttrs(process(t, cfg, oneSpan("chat", sept2025, attrs)))
			assert.Equal(t, tc.wantStatus, str(a, attrStatus))
			cost, ok := a.Get(attrCost)
			assert.Equal(t, tc.wantCostWritten, ok)
			if ok {
				assert.InDelta(t, tc.wantCost, cost.Double(), 1e-12)
			}
			pc, kept := a.Get(attrProvidedCost)
			assert.Equal(t, tc.wantProvidedKept, kept)
			if kept {
				assert.InDelta(t, 0.5, pc.Double(), 0)
			}
		})
	}
}

// A mismatch is counted for the span that carries it: a span that becomes a duplicate
// loses its mark (its app cost is kept in llm_cost.provided_cost), and is not counted
// either (OpenLIT's Anthropic spans, duplicates of the SDK's own, with its own cost
// that ignores long-context prices).
func TestDuplicateMismatchNotCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), metadatatest.NewSettings(tel), createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()

	openlit := anthropicSDK(1, 10, 0, "msg_1")
	openlit.scope, openlit.name = "openlit", "chat claude-sonnet-4-5"
	openlit.attrs = map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
		"gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.response.id": "msg_1", "telemetry.sdk.name": "openlit",
		"gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 300, "gen_ai.usage.cache_read.input_tokens": 4000,
		"gen_ai.usage.cache_creation.input_tokens": 1000, attrCost: 1.0}
	marked := chatAttrs("gpt-4o", 100, 10)
	marked[attrCost] = 1.0
	require.NoError(t, p.ConsumeTraces(context.Background(), batchOf(t, openlit, anthropicSDK(1, 11, 10, "msg_1"),
		testSpan{trace: 2, id: 20, scope: "x", name: "chat", attrs: marked})))
	got := outcomes(sink)
	require.Equal(t, statusDup, str(got[spanID(10)], attrStatus))
	_, isMarked := got[spanID(10)].Get(attrCostMismatch)
	assert.False(t, isMarked)
	assert.Equal(t, "true", str(got[spanID(20)], attrCostMismatch))
	metadatatest.AssertEqualProcessorLlmCostProvidedCostMismatches(t, tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp())
}
