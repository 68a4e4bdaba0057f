package llmcost

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

func ptr(f float64) *float64 { return &f }

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string // substring of the Unmarshal or Validate error
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{
			id: component.NewIDWithName(metadata.Type, "custom"),
			want: &Config{
				Prices: []pricing.Entry{
					{ID: "acme-llm-large", Provider: "acme", Rates: pricing.Rates{InputMTok: ptr(1.5), OutputMTok: ptr(6), CacheReadMTok: ptr(0.15)},
						Tiers: []pricing.EntryTier{{AboveInputTokens: 100000, Rates: pricing.Rates{InputMTok: ptr(3), OutputMTok: ptr(12)}}}},
					{ID: "acme-llm-large", Provider: "acme", StartDate: "2026-01-01", Rates: pricing.Rates{InputMTok: ptr(1), OutputMTok: ptr(4)}},
					{ID: "in-house-router", Match: &pricing.Rule{StartsWith: "router-"}, Rates: pricing.Rates{InputMTok: ptr(0.5), OutputMTok: ptr(0.5)}},
				},
				PriceFiles: []PriceFile{
					{Path: "/etc/otelcol/prices.yaml"},
					{Path: "/etc/otelcol/model_prices_and_context_window.json", Format: "litellm"},
				},
				ReloadInterval: time.Minute,
				StaleAfter:     30 * 24 * time.Hour,
				Aliases:        map[string]string{"my-gpt4o-deployment": "gpt-4o"},
				ProvidedCost:   "ignore",
				ServiceTiers: ServiceTiers{
					"openai": {"flex": {Multiplier: 0.45}},
					"acme":   {"priority": {Models: map[string]TierModelPrice{"acme-llm-large": {InputMtok: ptr(3), OutputMtok: ptr(12)}}}},
				},
				Deduplication:      DeduplicationConfig{MaxCalls: 1000},
				CacheSize:          500,
				UnpricedModelLimit: 50,
			},
		},
		{id: component.NewIDWithName(metadata.Type, "legacy_provided"), want: func() *Config {
			cfg := createDefaultConfig().(*Config)
			cfg.UseProvidedCost = new(bool)
			*cfg.UseProvidedCost = true
			return cfg
		}()},
		{id: component.NewIDWithName(metadata.Type, "typo"), wantErr: "price_file"},
		{id: component.NewIDWithName(metadata.Type, "bad_price"), wantErr: `prices[0] "x": input_mtok -1 must be a finite number >= 0`},
		{id: component.NewIDWithName(metadata.Type, "no_price"), wantErr: `prices[0] "x": needs input_mtok or output_mtok`},
		{id: component.NewIDWithName(metadata.Type, "bad_format"), wantErr: `price_files[0]: format "csv" is not one of "auto", "llm_cost", "litellm", "genai_prices"`},
		{id: component.NewIDWithName(metadata.Type, "empty_path"), wantErr: "price_files[0]: path must not be empty"},
		{id: component.NewIDWithName(metadata.Type, "bad_interval"), wantErr: "reload_interval 10ms must be at least 1s"},
		{id: component.NewIDWithName(metadata.Type, "bad_cache"), wantErr: "cache_size 0 must be at least 1"},
		{id: component.NewIDWithName(metadata.Type, "bad_rule"), wantErr: `prices[0] "x": match: regex "("`},
		{id: component.NewIDWithName(metadata.Type, "bad_date"), wantErr: `start_date "01/02/2026" must be a date, YYYY-MM-DD`},
		{id: component.NewIDWithName(metadata.Type, "empty_alias"), wantErr: `aliases: "my-deployment" -> ""`},
		{id: component.NewIDWithName(metadata.Type, "bad_provided"), wantErr: `provided_cost "always" is not one of "fallback", "prefer", "ignore"`},
		{id: component.NewIDWithName(metadata.Type, "both_provided"), wantErr: "use_provided_cost is the earlier form of provided_cost: set only provided_cost"},
		{id: component.NewIDWithName(metadata.Type, "bad_tier"), wantErr: `service_tiers[openai][turbo]: tier "turbo" is not one of flex, priority, batch, scale`},
		{id: component.NewIDWithName(metadata.Type, "bad_multiplier"), wantErr: "service_tiers[openai][flex]: multiplier -1 must be between 0 (none) and 100"},
		{id: component.NewIDWithName(metadata.Type, "bad_tier_price"), wantErr: "service_tiers[acme][batch].models[acme-llm-large]: needs input_mtok or output_mtok"},
		{id: component.NewIDWithName(metadata.Type, "bad_dedup"), wantErr: "deduplication::max_calls -1 must not be negative"},
		// The memory is allocated at start: a number past the bound is an error naming
		// it, not a collector that dies allocating hundreds of gigabytes.
		{id: component.NewIDWithName(metadata.Type, "huge_dedup"), wantErr: "deduplication::max_calls 3000000000 must be at most 1000000"},
		{id: component.NewIDWithName(metadata.Type, "url"), want: func() *Config {
			c := createDefaultConfig().(*Config)
			st := component.MustNewIDWithName("file_storage", "prices")
			c.Storage, c.StaleAfter = &st, 7*24*time.Hour
			lite := PriceFile{URL: "https://prices.example.com/litellm.json", Format: "litellm"}
			lite.ClientConfig.Timeout = 10 * time.Second
			lite.ClientConfig.ProxyURL = "http://proxy.example.com:3128"
			lite.ClientConfig.Headers = configopaque.MapList{{Name: "Authorization", Value: "Bearer abc"}}
			lite.ClientConfig.TLS.InsecureSkipVerify = true
			c.PriceFiles = []PriceFile{
				{URL: "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json", Format: "genai_prices", ReloadInterval: time.Hour},
				lite,
			}
			return c
		}()},
		{id: component.NewIDWithName(metadata.Type, "url_and_path"), wantErr: "price_files[0]: has both a path and a url; give one"},
		{id: component.NewIDWithName(metadata.Type, "url_scheme"), wantErr: `price_files[0]: url "ftp://prices.example.com/p.json" must be an http:// or https:// URL with a host`},
		{id: component.NewIDWithName(metadata.Type, "url_twice"), wantErr: `price_files[1]: url "https://prices.example.com/p.json" is listed twice`},
		{id: component.NewIDWithName(metadata.Type, "url_endpoint"), wantErr: "price_files[0]: endpoint is not used by a price source: give the address as url"},
		{id: component.NewIDWithName(metadata.Type, "path_with_http"), wantErr: "price_files[0]: HTTP client settings (timeout, tls, headers, ...) apply to a url, not to a path"},
		{id: component.NewIDWithName(metadata.Type, "url_interval"), wantErr: "price_files[0]: reload_interval 10ms must be at least 1s"},
		{id: component.NewIDWithName(metadata.Type, "url_typo"), wantErr: "reload_intervall"},
		{id: component.NewIDWithName(metadata.Type, "bad_stale"), wantErr: "stale_after -1h0m0s must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, 1, strings.Count(err.Error(), tt.wantErr), "each problem is reported once: %v", err)
				return
			}
			require.NoError(t, err)
			got := cfg.(*Config)
			// Validate compiles match rules in place; compare the configured values.
			for i := range got.Prices {
				if got.Prices[i].Match != nil {
					got.Prices[i].Match = &pricing.Rule{StartsWith: got.Prices[i].Match.StartsWith}
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// provided_cost and its earlier form use_provided_cost map to the three modes.
func TestProvidedCostConfigModes(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		provided string
		legacy   *bool
		want     providedMode
	}{
		{"", nil, providedFallback},
		{"fallback", nil, providedFallback},
		{"prefer", nil, providedPrefer},
		{"ignore", nil, providedIgnore},
		{"", &yes, providedPrefer},
		{"", &no, providedIgnore},
	} {
		cfg := &Config{ProvidedCost: tc.provided, UseProvidedCost: tc.legacy}
		assert.Equal(t, tc.want, cfg.providedMode(), "provided_cost %q, use_provided_cost %v", tc.provided, tc.legacy)
	}
}
