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
