package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	_ "embed" // the built-in service tier prices
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.yaml.in/yaml/v3"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// Service tiers: providers sell the same model at several processing tiers (OpenAI's
// flex, priority and Batch API, Anthropic's Message Batches, Gemini's flex and batch
// mode). The price table prices the standard tier; servicetiers.yaml, and the
// service_tiers setting over it, price the others.

// Canonical tier names, written as llm_cost.service_tier.
const (
	tierStandard = "standard"
	tierFlex     = "flex"
	tierPriority = "priority"
	tierBatch    = "batch"
	tierScale    = "scale"
)

// TierPrice is what a service tier costs at one provider: a multiplier of the standard
// price, or the tier's own prices per model, or neither (a tier without a published
// per-token price, priced as standard).
type TierPrice struct {
	// Multiplier of the standard price, applied to every token type.
	Multiplier float64 `mapstructure:"multiplier" yaml:"multiplier"`
	// Models are the tier's own prices per price entry id, in USD per million tokens;
	// they win over the multiplier.
	Models map[string]TierModelPrice `mapstructure:"models" yaml:"models"`
	// MaxInputTokens: calls with more input tokens are not eligible for the tier and are
	// priced as standard (OpenAI's priority processing excludes long context). 0: none.
	MaxInputTokens int64 `mapstructure:"max_input_tokens" yaml:"max_input_tokens"`
	// Source names the provider's page the prices come from (documentation only).
	Source string `mapstructure:"source" yaml:"source"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TierModelPrice is one model's prices on a tier. Cache reads and writes without a
// price of their own cost the tier's input price.
type TierModelPrice struct {
	InputMtok      *float64 `mapstructure:"input_mtok" yaml:"input_mtok"`
	CacheReadMtok  *float64 `mapstructure:"cache_read_mtok" yaml:"cache_read_mtok"`
	CacheWriteMtok *float64 `mapstructure:"cache_write_mtok" yaml:"cache_write_mtok"`
	OutputMtok     *float64 `mapstructure:"output_mtok" yaml:"output_mtok"`
	// MaxInputTokens: this model's calls with more input tokens are not eligible for
	// the tier and are priced as standard (OpenAI excludes long context from priority
	// for some models only). 0: the tier's max_input_tokens.
	MaxInputTokens int64 `mapstructure:"max_input_tokens" yaml:"max_input_tokens"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ServiceTiers are tier prices per provider id of the price table (openai, anthropic,
// google, ...) and per tier (flex, priority, batch, scale).
type ServiceTiers map[string]map[string]TierPrice

//go:embed servicetiers.yaml
var builtinTiersYAML []byte

// builtinTiers parses servicetiers.yaml; it is checked by tests, so an error here is a
// bug of the build.
func builtinTiers() (ServiceTiers, error) {
	var t ServiceTiers
	if err := yaml.Unmarshal(builtinTiersYAML, &t); err != nil {
		return nil, fmt.Errorf("servicetiers.yaml: %w", err)
	}
	return t, t.validate("servicetiers.yaml")
}

var pricedTiers = map[string]bool{tierFlex: true, tierPriority: true, tierBatch: true, tierScale: true}

// validate names the first bad entry: an unknown tier, a multiplier or price out of
// range.
func (st ServiceTiers) validate(field string) error {
	var errs []error
	for _, provider := range sortedKeys(st) {
		for _, tier := range sortedKeys(st[provider]) {
			tp := st[provider][tier]
			at := fmt.Sprintf("%s[%s][%s]", field, provider, tier)
			if !pricedTiers[tier] {
				errs = append(errs, fmt.Errorf("%s: tier %q is not one of flex, priority, batch, scale (the standard tier is the price table)", at, tier))
				continue
			}
			if math.IsNaN(tp.Multiplier) || tp.Multiplier < 0 || tp.Multiplier > 100 {
				errs = append(errs, fmt.Errorf("%s: multiplier %v must be between 0 (none) and 100", at, tp.Multiplier))
			}
			if tp.MaxInputTokens < 0 {
				errs = append(errs, fmt.Errorf("%s: max_input_tokens %d must not be negative", at, tp.MaxInputTokens))
			}
			for _, model := range sortedKeys(tp.Models) {
				mp := tp.Models[model]
				if mp.InputMtok == nil && mp.OutputMtok == nil {
					errs = append(errs, fmt.Errorf("%s.models[%s]: needs input_mtok or output_mtok", at, model))
				}
				if mp.MaxInputTokens < 0 {
					errs = append(errs, fmt.Errorf("%s.models[%s]: max_input_tokens %d must not be negative", at, model, mp.MaxInputTokens))
				}
				for _, p := range []*float64{mp.InputMtok, mp.CacheReadMtok, mp.CacheWriteMtok, mp.OutputMtok} {
					if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0 || *p > pricing.MaxTokenPrice) {
						errs = append(errs, fmt.Errorf("%s.models[%s]: price %v must be a finite number between 0 and %g", at, model, *p, float64(pricing.MaxTokenPrice)))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tierTable is the built-in tiers with the configured ones over them, with each
// model's tier prices as a pricing.PriceSet.
type tierTable struct {
	byProvider map[string]map[string]*tierEntry
}

type tierEntry struct {
	TierPrice
	sets  map[string]*pricing.PriceSet // lower-cased model id -> prices
	maxIn map[string]int64             // lower-cased model id -> its max_input_tokens
}

func newTierTable(builtin, configured ServiceTiers) *tierTable {
	t := &tierTable{byProvider: map[string]map[string]*tierEntry{}}
	add := func(st ServiceTiers) {
		for provider, tiers := range st {
			p := strings.ToLower(provider)
			if t.byProvider[p] == nil {
				t.byProvider[p] = map[string]*tierEntry{}
			}
			for tier, tp := range tiers {
				e := &tierEntry{TierPrice: tp, sets: map[string]*pricing.PriceSet{}, maxIn: map[string]int64{}}
				for model, mp := range tp.Models {
					ps := &pricing.PriceSet{}
					for _, r := range []struct {
						dst **pricing.Rate
						p   *float64
					}{{&ps.Input, mp.InputMtok}, {&ps.CacheRead, mp.CacheReadMtok}, {&ps.CacheWrite, mp.CacheWriteMtok}, {&ps.Output, mp.OutputMtok}} {
						if r.p != nil {
							*r.dst = pricing.Flat(*r.p)
						}
					}
					e.sets[strings.ToLower(model)] = ps
					if mp.MaxInputTokens > 0 {
						e.maxIn[strings.ToLower(model)] = mp.MaxInputTokens
					}
				}
				t.byProvider[p][strings.ToLower(tier)] = e
			}
		}
	}
	add(builtin)
	add(configured)
	return t
}

// normalizeTier maps a tier as a convention reports it to a canonical name. ok is false
// for a value that is no tier at all. Request values that leave the choice to the
// provider ("auto") say nothing about the tier used: they read as standard.
func normalizeTier(raw string) (tier string, ok bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "default", "standard", "auto", "standard_only", "on_demand", "on-demand":
		return tierStandard, true
	case "flex":
		return tierFlex, true
	case "priority":
		return tierPriority, true
	case "batch":
		return tierBatch, true
	case "scale":
		return tierScale, true
	}
	return "", false
}

// tierKeys are the attributes naming a tier, the tier used before the tier asked for.
var tierKeys = [...]key{kTierOpenAIResp, kTierOpenAIRespOld, kTierAnthropicResp, kTierOpenAIReq, kTierOpenAIReqOld, kTierAnthropicReq}

// reportedTier returns the service tier a record reports, from a tier attribute, a
// tier found in JSON usage (fromJSON), or OpenInference's invocation parameters. raw is
// the value as sent ("" when none); bad is set when it is not a tier.
func reportedTier(f *fields, fromJSON string) (tier, raw string, bad bool) {
	for i, k := range tierKeys {
		if i == 3 && fromJSON != "" {
			break // a tier found in the response's own usage wins over the request's
		}
		if !f.has(k) {
			continue
		}
		v := f.values[k]
		if v.Type() != pcommon.ValueTypeStr {
			return "", capText(v.AsString(), 32), true
		}
		if t, ok := normalizeTier(v.Str()); ok {
			return t, v.Str(), false
		}
		return "", capText(v.Str(), 32), true
	}
	if fromJSON == "" && f.has(kOIInvocationParams) {
		fromJSON = requestedTier(f.str(kOIInvocationParams))
	}
	if fromJSON != "" {
		if t, ok := normalizeTier(fromJSON); ok {
			return t, fromJSON, false
		}
		return "", capText(fromJSON, 32), true
	}
	return "", "", false
}

// tierCost prices usage u on a non-standard tier. standard is the model's standard
// cost; note says why the call was priced as standard instead, when it was.
func (t *tierTable) tierCost(provider string, m *pricing.Model, tier string, u pricing.Usage, standard pricing.Cost) (pricing.Cost, string) {
	if tier == "" || tier == tierStandard {
		return standard, ""
	}
	e := t.byProvider[provider][tier]
	if e == nil {
		return standard, "no " + tier + " tier price for provider " + provider + ": priced as standard"
	}
	limit := e.MaxInputTokens
	if n := e.maxIn[strings.ToLower(m.ID)]; n > 0 {
		limit = n
	}
	if limit > 0 && u.Input > limit {
		return standard, "calls above " + strconv.FormatInt(limit, 10) + " input tokens are not eligible for the " + tier + " tier: priced as standard"
	}
	if ps := e.sets[strings.ToLower(m.ID)]; ps != nil {
		return ps.Cost(u), ""
	}
	if e.Multiplier > 0 {
		return scaleCost(standard, e.Multiplier), ""
	}
	return standard, "no published per-token price for the " + tier + " tier of " + provider + ": priced as standard"
}

func scaleCost(c pricing.Cost, f float64) pricing.Cost {
	return pricing.Cost{Total: c.Total * f, Input: c.Input * f, Output: c.Output * f, CacheRead: c.CacheRead * f,
		CacheWrite: c.CacheWrite * f, Reasoning: c.Reasoning * f, Request: c.Request * f}
}
