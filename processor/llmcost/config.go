package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// Config is the llm_cost processor's configuration. The zero-config form,
// `llm_cost: {}`, prices every model of the embedded table.
type Config struct {
	// Prices are inline price entries; they win over price files and the built-in table.
	Prices []pricing.Entry `mapstructure:"prices"`

	// PriceFiles are files of price entries, re-read when they change. They win over
	// the built-in table.
	PriceFiles []PriceFile `mapstructure:"price_files"`

	// ReloadInterval is how often price files are checked for changes; 0 reads them
	// once at start.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`

	// Aliases map model names the app sends (an Azure deployment name, an in-house
	// gateway name) to a model name or price entry id to price them as.
	Aliases map[string]string `mapstructure:"aliases"`

	// ProvidedCost is what to do with a cost the app sent (gen_ai.usage.cost and the
	// other conventions' names): "fallback" (the default, also when empty) prices every call the table can
	// price and uses the app's figure only for calls it cannot (status provided);
	// "prefer" keeps the app's figure whenever it sent one (apps that know negotiated
	// prices); "ignore" never uses it. The app's figure is kept in
	// llm_cost.provided_cost whenever it is not the cost.
	ProvidedCost string `mapstructure:"provided_cost"`

	// UseProvidedCost is the earlier form of provided_cost: true is "prefer", false
	// "ignore". Deprecated: use provided_cost.
	UseProvidedCost *bool `mapstructure:"use_provided_cost"`

	// ServiceTiers override and extend the built-in service tier prices
	// (servicetiers.yaml), per provider id of the price table and tier.
	ServiceTiers ServiceTiers `mapstructure:"service_tiers"`

	// Deduplication finds spans that describe one LLM call (dedup.go).
	Deduplication DeduplicationConfig `mapstructure:"deduplication"`

	// CacheSize bounds the number of distinct (provider, model) names whose resolution
	// is cached.
	CacheSize int `mapstructure:"cache_size"`

	// UnpricedModelLimit bounds how many distinct unpriced model names are written as
	// llm_cost.model; later ones are written as "_other" to bound metric labels.
	UnpricedModelLimit int `mapstructure:"unpriced_model_limit"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeduplicationConfig bounds the memory of calls seen in earlier batches.
type DeduplicationConfig struct {
	// MaxCalls is how many calls of earlier batches are remembered to recognise a later
	// span of the same call; 0 compares spans within a batch only.
	MaxCalls int `mapstructure:"max_calls"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Values of provided_cost.
const (
	providedCostFallback = "fallback"
	providedCostPrefer   = "prefer"
	providedCostIgnore   = "ignore"
)

func (cfg *Config) providedMode() providedMode {
	switch {
	case cfg.ProvidedCost == providedCostPrefer:
		return providedPrefer
	case cfg.ProvidedCost == providedCostIgnore:
		return providedIgnore
	case cfg.ProvidedCost == "" && cfg.UseProvidedCost != nil && *cfg.UseProvidedCost:
		return providedPrefer
	case cfg.ProvidedCost == "" && cfg.UseProvidedCost != nil:
		return providedIgnore
	}
	return providedFallback
}

// PriceFile is one file of price overrides.
type PriceFile struct {
	// Path of the file.
	Path string `mapstructure:"path"`
	// Format: "auto" (default), "llm_cost" (this processor's format, YAML or JSON) or
	// "litellm" (LiteLLM's model_prices_and_context_window.json).
	Format string `mapstructure:"format"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the configuration at startup; errors name the field and the value.
// Unmarshal decodes the configuration, taking unquoted dates in prices
// (start_date: 2026-01-01, which YAML reads as a timestamp) as the text they are.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	raw, _ := pricing.DatesAsText(conf.ToStringMap()).(map[string]any)
	// Into conf itself: the Conf confmap hands to Unmarshal decodes cfg without calling
	// this method again, which a new Conf would do.
	if err := conf.Merge(confmap.NewFromStringMap(raw)); err != nil {
		return err
	}
	return conf.Unmarshal(cfg)
}

func (cfg *Config) Validate() error {
	var errs []error
	if _, err := pricing.Models(cfg.Prices); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, f := range cfg.PriceFiles {
		if strings.TrimSpace(f.Path) == "" {
			errs = append(errs, fmt.Errorf("price_files[%d]: path must not be empty", i))
		} else if seen[f.Path] {
			errs = append(errs, fmt.Errorf("price_files[%d]: path %q is listed twice", i, f.Path))
		}
		seen[f.Path] = true
		switch f.Format {
		case "", pricing.FormatAuto, pricing.FormatLLMCost, pricing.FormatLiteLLM:
		default:
			errs = append(errs, fmt.Errorf("price_files[%d]: format %q is not one of %q, %q, %q", i, f.Format,
				pricing.FormatAuto, pricing.FormatLLMCost, pricing.FormatLiteLLM))
		}
	}
	if cfg.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("reload_interval %s must not be negative (0 reads price files once)", cfg.ReloadInterval))
	} else if cfg.ReloadInterval > 0 && cfg.ReloadInterval < time.Second {
		errs = append(errs, fmt.Errorf("reload_interval %s must be at least 1s (or 0 to read price files once)", cfg.ReloadInterval))
	}
	for name, target := range cfg.Aliases {
		if strings.TrimSpace(name) == "" || strings.TrimSpace(target) == "" {
			errs = append(errs, fmt.Errorf("aliases: %q -> %q: neither the name nor the target may be empty", name, target))
		}
	}
	switch cfg.ProvidedCost {
	case "", providedCostFallback, providedCostPrefer, providedCostIgnore:
	default:
		errs = append(errs, fmt.Errorf("provided_cost %q is not one of %q, %q, %q", cfg.ProvidedCost,
			providedCostFallback, providedCostPrefer, providedCostIgnore))
	}
	if cfg.ProvidedCost != "" && cfg.UseProvidedCost != nil {
		errs = append(errs, errors.New("use_provided_cost is the earlier form of provided_cost: set only provided_cost"))
	}
	if err := cfg.ServiceTiers.validate("service_tiers"); err != nil {
		errs = append(errs, err)
	}
	if cfg.Deduplication.MaxCalls < 0 {
		errs = append(errs, fmt.Errorf("deduplication::max_calls %d must not be negative (0 compares spans within a batch only)", cfg.Deduplication.MaxCalls))
	}
	if cfg.CacheSize < 1 {
		errs = append(errs, fmt.Errorf("cache_size %d must be at least 1", cfg.CacheSize))
	}
	if cfg.UnpricedModelLimit < 0 {
		errs = append(errs, fmt.Errorf("unpriced_model_limit %d must not be negative", cfg.UnpricedModelLimit))
	}
	return errors.Join(errs...)
}
