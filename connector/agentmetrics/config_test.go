package agentmetrics

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/procode-ai/otelcol-procode/connector/agentmetrics/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.FlushInterval = 5 * time.Second
	custom.MaxSeries = 100
	custom.MaxLabelLength = 32
	custom.HTTP.Enabled = false
	custom.DB.Buckets = []float64{0.01, 0.1, 1}

	spend := createDefaultConfig().(*Config)
	spend.CostDimensions = CostDimensionsConfig{Attributes: []string{"tenant.id", "enduser.id", "app.feature"}, MaxValues: 50}
	spend.AgentRunCost.Buckets = []float64{0.01, 0.1, 1}
	spend.AgentRunCost.Settle = 10 * time.Second
	spend.AgentRunCost.MaxOpenRuns = 100
	spend.Budgets = []BudgetConfig{
		{Name: "acme-daily", LimitUSD: 50, Period: "day", Selector: BudgetSelector{Dimension: "tenant.id", Value: "acme"}},
		{Name: "everything", LimitUSD: 1000, Period: "month"},
	}
	storageID := component.MustNewID("file_storage")
	spend.Storage = &storageID

	tests := []struct {
		name     string
		expected *Config
		err      string
	}{
		{name: "", expected: createDefaultConfig().(*Config)},
		{name: "custom", expected: custom},
		{name: "zero_interval", err: "flush_interval 0s must be positive"},
		{name: "no_series", err: "max_series 0 must be at least 1"},
		{name: "short_labels", err: "max_label_length 4 must be at least 8"},
		{name: "unsorted_buckets", err: "llm::buckets [1 0.5 2] must be strictly increasing"},
		{name: "negative_bucket", err: "agent::buckets [-1 1] must be positive (seconds)"},
		{name: "empty_buckets", err: "http::buckets must not be empty"},
		{name: "all_disabled", err: "every metric group is disabled"},
		{name: "typo", err: "has invalid keys: flush_intervall"},
		{name: "nested_typo", err: "has invalid keys: bucket"},
		{name: "spend", expected: spend},
		{name: "bad_period", err: `budgets[0]::period "week" must be hour, day or month (UTC)`},
		{name: "negative_limit", err: "budgets[0]::limit_usd -5 must be a positive amount of USD"},
		{name: "zero_limit", err: "budgets[0]::limit_usd 0 must be a positive amount of USD"},
		{name: "duplicate_budget", err: `budgets[1]::name "a" is already the name of budgets[0]`},
		{name: "bad_budget_name", err: `budgets[0]::name "a b" may only hold letters, digits`},
		{name: "unknown_selector_key", err: "has invalid keys: tenant"},
		{name: "two_selector_keys", err: "budgets[0]::selector must have at most one of dimension (with value), agent, model"},
		{name: "selector_dimension_not_configured", err: `budgets[0]::selector::dimension "enduser.id" is not in cost_dimensions::attributes [tenant.id]`},
		{name: "selector_value_missing", err: "budgets[0]::selector::value is required with selector::dimension"},
		{name: "max_values", err: "cost_dimensions::max_values 0 must be between 1 and 1000 (each new value past them scans the candidates)"},
		{name: "duplicate_dimension", err: `cost_dimensions::attributes[1] "tenant.id" is listed twice`},
		{name: "run_buckets", err: "agent_run_cost::buckets [1 0.5] must be strictly increasing"},
		{name: "run_buckets_negative", err: "agent_run_cost::buckets [0 1] must be positive (USD)"},
		{name: "max_open_runs", err: "agent_run_cost::max_open_runs 0 must be at least 1"},
		{name: "settle", err: "agent_run_cost::settle -1s must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			cfg := createDefaultConfig()
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.expected, cfg)
		})
	}
}
