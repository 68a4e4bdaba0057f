package healthprobe

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return cfg, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 30*time.Second, cfg.ControllerConfig.CollectionInterval)
	assert.Equal(t, 5*time.Second, cfg.ControllerConfig.Timeout)
	assert.Equal(t, time.Second, cfg.ControllerConfig.InitialDelay)
	assert.Equal(t, 16, cfg.Workers)
	assert.Equal(t, component.ID{}, cfg.Readiness)
	// No probes: the receiver does nothing until told what to check.
	assert.ErrorContains(t, confmap.Validate(cfg), "probes must list at least one probe")
}

func TestLoadMinimal(t *testing.T) {
	cfg, err := loadConfig(t, "minimal")
	require.NoError(t, err)
	require.Len(t, cfg.Probes, 1)
	p := cfg.Probes[0]
	assert.Equal(t, "disk_root", p.Name)
	assert.Equal(t, "/", p.Path)
	assert.Equal(t, "system", p.Category)
	assert.True(t, p.Critical)
	assert.Equal(t, 1, p.FailureThreshold)
	assert.Equal(t, 1, p.SuccessThreshold)
	assert.InDelta(t, 20, p.DegradedFreePercent, 0)
	assert.InDelta(t, 10, p.UnhealthyFreePercent, 0)
	assert.Equal(t, 5*time.Second, p.effectiveTimeout(cfg.ControllerConfig.Timeout))
}

func TestLoadAll(t *testing.T) {
	cfg, err := loadConfig(t, "all")
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, cfg.ControllerConfig.CollectionInterval)
	assert.Equal(t, 2*time.Second, cfg.ControllerConfig.InitialDelay)
	assert.Equal(t, 3*time.Second, cfg.ControllerConfig.Timeout)
	assert.Equal(t, 4, cfg.Workers)
	assert.Equal(t, component.MustNewID("readiness"), cfg.Readiness)
	require.Len(t, cfg.Probes, 5)

	h := cfg.Probes[0]
	assert.Equal(t, "llm_provider", h.Category)
	assert.False(t, h.Critical)
	assert.Equal(t, "https://api.example.com/v1/models", h.ClientConfig.Endpoint)
	v, ok := h.ClientConfig.Headers.Get("Authorization")
	require.True(t, ok)
	assert.Equal(t, "Bearer not-a-real-key", string(v))
	assert.Equal(t, []statusRange{{200, 200}, {200, 299}, {300, 399}}, h.statusRanges)
	assert.False(t, h.FollowRedirects)
	assert.Equal(t, int64(65536), h.MaxBodyBytes)
	assert.Equal(t, 2*time.Second, h.Timeout)
	assert.Equal(t, time.Second, h.DegradedLatency)
	assert.Equal(t, 3, h.FailureThreshold)
	assert.Equal(t, 2, h.SuccessThreshold)
	require.Len(t, h.BodyChecks, 3)
	assert.Equal(t, "object_is_list", h.BodyChecks[1].Name)
	assert.Equal(t, "list", h.BodyChecks[1].Equals)
	// Keep-alives stay off unless asked for, so every run dials afresh.
	assert.True(t, h.ClientConfig.DisableKeepAlives) //nolint:staticcheck

	tcp := cfg.Probes[1]
	assert.Equal(t, "service", tcp.Category)
	assert.Equal(t, "localhost:9000", tcp.ClientConfig.Endpoint)

	pg := cfg.Probes[2]
	assert.Equal(t, "database", pg.Category)
	assert.Equal(t, "db.internal", pg.Host)
	assert.Equal(t, 5433, pg.Port)
	assert.Equal(t, "procode", pg.Database)
	assert.Equal(t, "s3cret-password", string(pg.Password))
	assert.Equal(t, "require", pg.SSLMode)

	d := cfg.Probes[3]
	assert.Equal(t, "/var/lib", d.Path)
	assert.InDelta(t, 30, d.DegradedFreePercent, 0)
	assert.InDelta(t, 5, d.UnhealthyFreePercent, 0)

	m := cfg.Probes[4]
	assert.Equal(t, "host", m.Source)
	assert.InDelta(t, 70, m.DegradedUsedPercent, 0)
	assert.InDelta(t, 95, m.UnhealthyUsedPercent, 0)
}

func TestKeepaliveCanBeEnabled(t *testing.T) {
	cfg, err := loadConfig(t, "keepalive")
	require.NoError(t, err)
	assert.False(t, cfg.Probes[0].ClientConfig.DisableKeepAlives) //nolint:staticcheck
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{"typo_top", []string{"colection_interval"}},
		{"typo_probe", []string{"expected_statuss"}},
		{"typo_body_check", []string{"contain"}},
		{"no_probes", []string{"probes must list at least one probe"}},
		{"bad_name", []string{`probes[0] "Bad-Name": name "Bad-Name" must be lower_snake_case`}},
		{"bad_type", []string{`type "ftp" is not a probe type: use one of http, tcp, postgresql, disk, memory`}},
		{"duplicate_name", []string{`probes[1] "disk": name is already used by probes[0]`}},
		{"timeout_not_below_interval", []string{"timeout 5s must be less than collection_interval 5s"}},
		{"probe_timeout_not_below_interval", []string{`probes[0] "api": timeout 15s must be less than collection_interval 10s`}},
		{"wrong_type_key", []string{`"path" does not apply to type "tcp": it takes endpoint`}},
		{"bad_http", []string{
			`endpoint scheme "ftp" must be http or https`,
			`method "get" is not an HTTP method`,
			`expected_status[1] 600-700: out of range`,
			`expected_status[2] abc: not a status code`,
			"max_body_bytes 0 must be positive",
			"degraded_latency 10s must be less than the probe's timeout 5s",
			"failure_threshold 0 must be at least 1",
			"success_threshold 0 must be at least 1",
			`body_checks[0] "both": set exactly one of contains, regex or json_path`,
			`body_checks[1] "bad_regex": regex "(" does not compile`,
			`body_checks[2] "no_equals": json_path needs equals`,
			`body_checks[3] "bad_path": json_path "$.a[x]": [x] is neither an array index nor a quoted key`,
			`body_checks[4] "": name must be lower_snake_case`,
		}},
		{"bad_tcp", []string{`endpoint "localhost" must be host:port`}},
		{"bad_postgresql", []string{
			"host must be set", "port 70000 must be between 1 and 65535", "user must be set",
			"set password or password_file, not both", `sslmode "sometimes" must be one of disable, allow, prefer, require, verify-ca, verify-full`,
		}},
		{"bad_disk", []string{`path "relative/path" must be an absolute path`, "unhealthy_free_percent 10 must not be greater than degraded_free_percent 5"}},
		{"bad_memory", []string{`source "guess" must be auto, host or cgroup`, "unhealthy_used_percent 120 must be between 0 and 100"}},
		{"bad_category", []string{`category "Big Category" must be lower_snake_case`}},
		{"bad_workers", []string{"workers 0 must be between 1 and 1024"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := loadConfig(t, tt.id)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestConfigErrorsNeverEchoSecrets(t *testing.T) {
	_, err := loadConfig(t, "bad_http")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "token=abc")

	// A DSN pasted where host:port belongs is refused without repeating its password.
	_, err = loadConfig(t, "bad_tcp")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `endpoint "postgres://db:5432/app" must be host:port`)
	assert.NotContains(t, err.Error(), "s3cr3t-pw")
}
