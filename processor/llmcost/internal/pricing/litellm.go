package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// litellmProviders maps LiteLLM's litellm_provider values to provider names the
// resolver knows; others are used as they are.
var litellmProviders = map[string]string{
	"bedrock": "aws.bedrock", "bedrock_converse": "aws.bedrock", "gemini": "gcp.gemini",
	"azure": "azure", "azure_ai": "azure", "mistral": "mistral_ai", "cohere_chat": "cohere",
	"xai": "x_ai", "text-completion-openai": "openai", "together_ai": "together",
}

var litellmTier = regexp.MustCompile(`^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)_above_(\d+)k_tokens$`)

// ParseLiteLLM reads LiteLLM's model_prices_and_context_window.json format: an object
// keyed by model name with per-token prices. Entries without a token price (image,
// audio or per-second models) are skipped; the key "sample_spec" is documentation.
func ParseLiteLLM(b []byte) ([]*Model, error) {
	var raw map[string]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("litellm format: %w", err)
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		if k == "sample_spec" {
			continue
		}
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("litellm format: an entry has an empty model name as its key")
		}
		names = append(names, k)
	}
	sort.Strings(names)
	models := make([]*Model, 0, len(names))
	for _, name := range names {
		fields := raw[name]
		num := func(k string) (*float64, error) {
			v, ok := fields[k]
			if !ok || v == nil {
				return nil, nil
			}
			var f float64
			switch x := v.(type) {
			case float64:
				f = x
			case string:
				var err error
				if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
					return nil, fmt.Errorf("model %q: %s %q is not a number", name, k, x)
				}
			default:
				return nil, fmt.Errorf("model %q: %s must be a number", name, k)
			}
			if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return nil, fmt.Errorf("model %q: %s %v must be a finite number >= 0", name, k, f)
			}
			f *= 1e6 // per token -> per million tokens
			if f > MaxTokenPrice {
				return nil, fmt.Errorf("model %q: %s %v is above the most a token may cost (%g USD per token)", name, k, v, MaxTokenPrice/1e6)
			}
			return &f, nil
		}
		var ps PriceSet
		var err error
		rate := func(dst **Rate, key string) {
			if err != nil {
				return
			}
			var v *float64
			if v, err = num(key); v != nil {
				*dst = &Rate{Base: *v}
			}
		}
		rate(&ps.Input, "input_cost_per_token")
		rate(&ps.Output, "output_cost_per_token")
		rate(&ps.CacheRead, "cache_read_input_token_cost")
		rate(&ps.CacheWrite, "cache_creation_input_token_cost")
		rate(&ps.CacheWrite1h, "cache_creation_input_token_cost_above_1hr")
		rate(&ps.Reasoning, "output_cost_per_reasoning_token")
		if err != nil {
			return nil, err
		}
		if ps.Input == nil && ps.Output == nil {
			continue
		}
		for k := range fields {
			m := litellmTier.FindStringSubmatch(k)
			if m == nil {
				continue
			}
			v, err := num(k)
			if err != nil {
				return nil, err
			}
			if v == nil {
				continue
			}
			start, err := strconv.ParseInt(m[2], 10, 64)
			if err != nil || start <= 0 || start > math.MaxInt64/1000 {
				return nil, fmt.Errorf("model %q: %s: the threshold must be a whole number of thousands of tokens above 0", name, k)
			}
			var dst **Rate
			switch m[1] {
			case "input_cost_per_token":
				dst = &ps.Input
			case "output_cost_per_token":
				dst = &ps.Output
			case "cache_read_input_token_cost":
				dst = &ps.CacheRead
			default:
				dst = &ps.CacheWrite
			}
			if *dst == nil {
				*dst = &Rate{}
			}
			(*dst).Tiers = append((*dst).Tiers, Tier{Start: start * 1000, Price: *v})
		}
		for _, r := range []*Rate{ps.Input, ps.Output, ps.CacheRead, ps.CacheWrite} {
			if r != nil {
				sort.Slice(r.Tiers, func(i, j int) bool { return r.Tiers[i].Start < r.Tiers[j].Start })
			}
		}
		provider, _ := fields["litellm_provider"].(string)
		provider = strings.ToLower(provider)
		if p, ok := litellmProviders[provider]; ok {
			provider = p
		} else if strings.HasPrefix(provider, "vertex_ai") {
			provider = "gcp.vertex_ai"
		}
		models = append(models, &Model{ID: name, Provider: provider, Periods: []Period{{Prices: ps}}})
	}
	return models, nil
}
