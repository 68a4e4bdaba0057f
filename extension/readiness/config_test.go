package readiness

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/procode-ai/otelcol-procode/extension/readiness/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.ServerConfig.NetAddr.Endpoint = "0.0.0.0:9999"
	custom.Paths = PathsConfig{Livez: "/healthz/live", Health: "/status", Ready: "/healthz/ready"}
	custom.WarmupTimeout = 10 * time.Second
	custom.RecoveryDuration = time.Minute

	withDelivery := createDefaultConfig().(*Config)
	withDelivery.Delivery.FailingAfter = time.Minute
	withDelivery.Delivery.QueueThreshold = 0.9
	withDelivery.Delivery.LossWindow = 10 * time.Minute
	withDelivery.GateReadiness = []string{"exporter:otlp/traces", "processor:llm_cost"}

	deliveryOff := createDefaultConfig().(*Config)
	deliveryOff.Delivery.Enabled = false

	tests := []struct {
		id          component.ID
		expected    *Config
		errContains string
	}{
		{id: component.NewID(metadata.Type), expected: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "custom"), expected: custom},
		{id: component.NewIDWithName(metadata.Type, "relative_path"), errContains: `paths::ready "ready" must start with "/"`},
		{id: component.NewIDWithName(metadata.Type, "query_in_path"), errContains: `paths::health "/health?x=1" must be a plain path`},
		{id: component.NewIDWithName(metadata.Type, "duplicate_path"), errContains: `paths::ready "/livez" is already used by paths::livez`},
		{id: component.NewIDWithName(metadata.Type, "negative_warmup"), errContains: "warmup_timeout -1s must not be negative"},
		{id: component.NewIDWithName(metadata.Type, "negative_recovery"), errContains: "recovery_duration -2m0s must not be negative"},
		{id: component.NewIDWithName(metadata.Type, "no_port"), errContains: `endpoint "localhost" is not host:port`},
		{id: component.NewIDWithName(metadata.Type, "empty_endpoint"), errContains: "endpoint must not be empty"},
		{id: component.NewIDWithName(metadata.Type, "typo"), errContains: "has invalid keys: warmup_timout"},
		{id: component.NewIDWithName(metadata.Type, "nested_typo"), errContains: "has invalid keys: paths::readyz"},
		{id: component.NewIDWithName(metadata.Type, "delivery"), expected: withDelivery},
		{id: component.NewIDWithName(metadata.Type, "delivery_off"), expected: deliveryOff},
		{id: component.NewIDWithName(metadata.Type, "bad_delivery"), errContains: "delivery::failing_after -1s must not be negative"},
		{id: component.NewIDWithName(metadata.Type, "bad_delivery"), errContains: "delivery::queue_threshold 1.5 must be above 0 and at most 1"},
		{id: component.NewIDWithName(metadata.Type, "bad_delivery"), errContains: "delivery::loss_window 0s must be positive"},
		{id: component.NewIDWithName(metadata.Type, "bad_gate"), errContains: `gate_readiness[0] "otlp/traces": must be a component as /health names it, kind:id`},
		{id: component.NewIDWithName(metadata.Type, "bad_gate"), errContains: `gate_readiness[1] "exporter:otlp/": "otlp/" is not a component ID`},
		{id: component.NewIDWithName(metadata.Type, "delivery_typo"), errContains: "has invalid keys: delivery::gate_readiness"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String()+"/"+tt.errContains, func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.errContains != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errContains)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:13133", cfg.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, PathsConfig{Livez: "/livez", Health: "/health", Ready: "/ready"}, cfg.Paths)
	assert.Equal(t, 30*time.Second, cfg.WarmupTimeout)
	assert.Equal(t, 5*time.Minute, cfg.RecoveryDuration)
	assert.True(t, cfg.Delivery.Enabled)
	assert.Equal(t, 30*time.Second, cfg.Delivery.FailingAfter)
	assert.InDelta(t, 0.8, cfg.Delivery.QueueThreshold, 0)
	assert.Equal(t, 5*time.Minute, cfg.Delivery.LossWindow)
	assert.Empty(t, cfg.GateReadiness)
	assert.NoError(t, confmap.Validate(cfg))
}
