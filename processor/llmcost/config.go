package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/confmap"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// Config is the llm_cost processor's configuration. The zero-config form,
// `llm_cost: {}`, prices every model of the embedded table.
type Config struct {
	// Prices are inline price entries; they win over price files and the built-in table.
	Prices []pricing.Entry `mapstructure:"prices"`

	// PriceFiles are price sources: files (path) or URLs (url). Sources of format
	// genai_prices replace the built-in table; the others are entries that win over it.
	PriceFiles []PriceFile `mapstructure:"price_files"`

	// ReloadInterval is how often price files are checked for changes; 0 reads them
	// once at start. URL sources have their own interval (default 1h).
	ReloadInterval time.Duration `mapstructure:"reload_interval"`

	// Storage names a storage extension (for example file_storage) that keeps the last
	// good copy of each URL source, so that a restart without network starts from it.
	// Without it the copy is kept in memory only.
	Storage *component.ID `mapstructure:"storage"`

	// StaleAfter is the age of the price data in use past which it counts as stale: the
	// component exports both, and the LLMCostPricesStale alert compares them.
	StaleAfter time.Duration `mapstructure:"stale_after"`

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

// maxDedupCalls bounds deduplication::max_calls. The memory is allocated when the
// processor starts (about 160 bytes a call: some 160 MiB here), and the ring's
// positions are 32-bit: a larger number would end the collector at start.
const maxDedupCalls = 1_000_000

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

// PriceFile is one price source: a file (Path) or an http(s) URL (URL).
type PriceFile struct {
	// Path of the file.
	Path string `mapstructure:"path"`
	// URL to fetch the prices from, with conditional requests (ETag, If-Modified-Since).
	URL string `mapstructure:"url"`
	// Format: "auto" (default: decided from the content), "genai_prices" (genai-prices'
	// data file: replaces the built-in table), "llm_cost" (this processor's format,
	// YAML or JSON) or "litellm" (LiteLLM's model_prices_and_context_window.json).
	Format string `mapstructure:"format"`
	// ReloadInterval is how often a URL is fetched again (default 1h); a file is checked
	// every component reload_interval.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`

	// ClientConfig is the HTTP client of a URL source (timeout, tls, proxy_url, headers,
	// auth, ...), as upstream HTTP clients take it. Its endpoint is the url.
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// defaultURLReloadInterval is how often a URL source is fetched when its entry does not say.
const defaultURLReloadInterval = time.Hour

// defaultFetchTimeout bounds a fetch whose entry sets no timeout.
const defaultFetchTimeout = time.Minute

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
		errs = append(errs, f.validate(i, seen))
	}
	if cfg.StaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("stale_after %s must be positive (the age past which price data counts as stale; default 720h)", cfg.StaleAfter))
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
	if cfg.Deduplication.MaxCalls > maxDedupCalls {
		errs = append(errs, fmt.Errorf("deduplication::max_calls %d must be at most %d (about 160 bytes each, allocated at start)", cfg.Deduplication.MaxCalls, maxDedupCalls))
	}
	if cfg.CacheSize < 1 {
		errs = append(errs, fmt.Errorf("cache_size %d must be at least 1", cfg.CacheSize))
	}
	if cfg.UnpricedModelLimit < 0 {
		errs = append(errs, fmt.Errorf("unpriced_model_limit %d must not be negative", cfg.UnpricedModelLimit))
	}
	return errors.Join(errs...)
}

// validate checks one price_files entry; seen holds the paths and URLs of the entries
// before it.
func (f *PriceFile) validate(i int, seen map[string]bool) error {
	var errs []error
	path, u := strings.TrimSpace(f.Path), strings.TrimSpace(f.URL)
	switch {
	case path == "" && u == "":
		errs = append(errs, fmt.Errorf("price_files[%d]: path must not be empty (or give a url)", i))
	case path != "" && u != "":
		errs = append(errs, fmt.Errorf("price_files[%d]: has both a path and a url; give one", i))
	case u != "":
		pu, err := url.Parse(u)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("price_files[%d]: url: %s", i, safetext.Error(errors.Unwrap(err))))
		case pu.Scheme != "http" && pu.Scheme != "https" || pu.Host == "":
			errs = append(errs, fmt.Errorf("price_files[%d]: url %q must be an http:// or https:// URL with a host", i, redactURL(pu)))
		case seen[u]:
			errs = append(errs, fmt.Errorf("price_files[%d]: url %q is listed twice", i, redactURL(pu)))
		}
		seen[u] = true
		if f.ClientConfig.Endpoint != "" {
			errs = append(errs, fmt.Errorf("price_files[%d]: endpoint is not used by a price source: give the address as url", i))
		}
	default:
		if seen[f.Path] {
			errs = append(errs, fmt.Errorf("price_files[%d]: path %q is listed twice", i, f.Path))
		}
		seen[f.Path] = true
		if !reflect.DeepEqual(f.ClientConfig, confighttp.ClientConfig{}) {
			errs = append(errs, fmt.Errorf("price_files[%d]: HTTP client settings (timeout, tls, headers, ...) apply to a url, not to a path", i))
		}
		if f.ReloadInterval != 0 {
			errs = append(errs, fmt.Errorf("price_files[%d]: reload_interval of a path is the component's reload_interval; per-entry intervals are for urls", i))
		}
	}
	if !slices.Contains(pricing.Formats, f.Format) && f.Format != "" {
		quoted := make([]string, len(pricing.Formats))
		for j, n := range pricing.Formats {
			quoted[j] = fmt.Sprintf("%q", n)
		}
		errs = append(errs, fmt.Errorf("price_files[%d]: format %q is not one of %s", i, f.Format, strings.Join(quoted, ", ")))
	}
	if f.ReloadInterval < 0 || f.ReloadInterval > 0 && f.ReloadInterval < time.Second {
		errs = append(errs, fmt.Errorf("price_files[%d]: reload_interval %s must be at least 1s (default 1h)", i, f.ReloadInterval))
	}
	if f.ClientConfig.Timeout < 0 {
		errs = append(errs, fmt.Errorf("price_files[%d]: timeout %s must not be negative", i, f.ClientConfig.Timeout))
	}
	return errors.Join(errs...)
}

// redactURL is u without credentials, query or fragment: how a source is named in
// logs, errors and llm_cost.pricing_version.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// priceFileKeys are the keys a price_files entry accepts: its own and those of the
// HTTP client settings squashed into it.
var priceFileKeys = func() map[string]bool {
	keys := map[string]bool{}
	var add func(reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			switch {
			case strings.Contains(opts, "squash"):
				add(f.Type)
			case name != "" && name != "-":
				keys[name] = true
			}
		}
	}
	add(reflect.TypeFor[PriceFile]())
	return keys
}()

// Unmarshal decodes one price_files entry, rejecting unknown keys. The HTTP client
// settings squashed into the entry decode themselves ignoring keys they do not know,
// as upstream's squashed client settings do, which would let a misspelt key of the
// entry pass unnoticed.
func (f *PriceFile) Unmarshal(conf *confmap.Conf) error {
	var unknown []string
	for _, k := range conf.AllKeys() {
		top, _, _ := strings.Cut(k, confmap.KeyDelimiter)
		if !priceFileKeys[top] && !slices.Contains(unknown, top) {
			unknown = append(unknown, top)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("has invalid keys: %s", strings.Join(unknown, ", "))
	}
	return conf.Unmarshal(f)
}
