package healthprobe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"gopkg.in/yaml.v3"

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
	assert.Zero(t, cfg.ControllerConfig.Timeout, "unset: derived from collection_interval")
	assert.Equal(t, 5*time.Second, cfg.probeTimeout())
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
	p, err := resolveProbe(cfg.Probes[0])
	require.NoError(t, err)
	assert.Equal(t, "disk_root", p.Name)
	assert.Equal(t, "/", p.Path)
	assert.Equal(t, "system", p.Category)
	assert.True(t, p.Critical)
	assert.Equal(t, 1, p.FailureThreshold)
	assert.Equal(t, 1, p.SuccessThreshold)
	assert.InDelta(t, 20, p.DegradedFreePercent, 0)
	assert.InDelta(t, 10, p.UnhealthyFreePercent, 0)
	assert.Equal(t, 5*time.Second, p.effectiveTimeout(cfg.probeTimeout()))
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
	probes := make([]ProbeConfig, len(cfg.Probes))
	for i := range cfg.Probes {
		probes[i], err = resolveProbe(cfg.Probes[i])
		require.NoError(t, err)
	}

	h := probes[0]
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

	tcp := probes[1]
	assert.Equal(t, "service", tcp.Category)
	assert.Equal(t, "localhost:9000", tcp.ClientConfig.Endpoint)

	pg := probes[2]
	assert.Equal(t, "database", pg.Category)
	assert.Equal(t, "db.internal", pg.Host)
	assert.Equal(t, 5433, pg.Port)
	assert.Equal(t, "procode", pg.Database)
	assert.Equal(t, "s3cret-password", string(pg.Password))
	assert.Equal(t, "require", pg.SSLMode)

	d := probes[3]
	assert.Equal(t, "/var/lib", d.Path)
	assert.InDelta(t, 30, d.DegradedFreePercent, 0)
	assert.InDelta(t, 5, d.UnhealthyFreePercent, 0)

	m := probes[4]
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

// A timeout left unset fits the interval instead of refusing to start; one set too long
// still fails, naming the field.
func TestTimeoutDerivedFromInterval(t *testing.T) {
	tests := []struct {
		interval, timeout time.Duration
		want              time.Duration
		err               string
	}{
		{interval: 30 * time.Second, want: 5 * time.Second},
		{interval: 6 * time.Second, want: 5 * time.Second},
		{interval: 5 * time.Second, want: 4500 * time.Millisecond},
		{interval: 2 * time.Second, want: 1800 * time.Millisecond},
		{interval: time.Second, timeout: 300 * time.Millisecond, want: 300 * time.Millisecond},
		{interval: 5 * time.Second, timeout: 5 * time.Second, err: "timeout 5s must be less than collection_interval 5s"},
		{interval: 2 * time.Second, timeout: 3 * time.Second, err: "timeout 3s must be less than collection_interval 2s"},
		{interval: time.Minute, timeout: -time.Second, err: "timeout -1s must not be negative"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_%s", tt.interval, tt.timeout), func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.ControllerConfig.CollectionInterval = tt.interval
			cfg.ControllerConfig.Timeout = tt.timeout
			p := defaultProbeConfig()
			p.Name, p.Type = "memory", typeMemory
			cfg.Probes = []ProbeConfig{p}
			err := confmap.Validate(cfg)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.probeTimeout())
			// The receiver runs its probes with that timeout.
			r, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.(*healthProbeReceiver).scraper.runners[0].timeout)
		})
	}
	// A probe's own timeout that is too long fails too, naming the probe and the field.
	cfg := createDefaultConfig().(*Config)
	cfg.ControllerConfig.CollectionInterval = 5 * time.Second
	p := defaultProbeConfig()
	p.Name, p.Type, p.Timeout = "memory", typeMemory, 6*time.Second
	cfg.Probes = []ProbeConfig{p}
	assert.ErrorContains(t, confmap.Validate(cfg), `probes[0] "memory": timeout 6s must be less than collection_interval 5s`)
}

// Validate leaves the configuration as it was loaded: the receiver builds what it
// derives (categories, status ranges, the timeout) when it is created.
func TestValidateChangesNothing(t *testing.T) {
	for _, id := range []string{"all", "minimal", "keepalive"} {
		loaded, err := loadUnvalidated(t, id)
		require.NoError(t, err)
		validated, err := loadUnvalidated(t, id)
		require.NoError(t, err)
		require.NoError(t, validated.Validate())
		assert.True(t, reflect.DeepEqual(loaded, validated), "%s: Validate changed the configuration", id)
	}
}

func loadUnvalidated(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	return cfg, sub.Unmarshal(cfg)
}

// An http probe takes every client setting of confighttp, and a tcp probe none of them.
// The oracle is confighttp's own schema of its client settings (config.schema.yaml in
// the module), so the test fails when the accepted keys and confighttp drift apart.
func TestHTTPClientKeysFollowConfighttp(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.opentelemetry.io/collector/config/confighttp").Output()
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "config.schema.yaml"))
	require.NoError(t, err)
	var schema struct {
		Defs map[string]struct {
			Properties map[string]any `yaml:"properties"`
		} `yaml:"$defs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &schema))
	upstream := schema.Defs["client_config"].Properties
	require.Greater(t, len(upstream), 10, "confighttp's client settings: %v", upstream)
	for k := range upstream {
		assert.Contains(t, append(slices.Clone(commonKeys), keysByType[typeHTTP]...), k, "confighttp client key %q is not accepted by an http probe", k)
		if k != "endpoint" && !slices.Contains(commonKeys, k) {
			assert.NotContains(t, keysByType[typeTCP], k)
		}
	}
	// And nothing else: every accepted key is ours, in confighttp's schema, or one of the
	// settings confighttp deprecated and still reads.
	ours := []string{"method", "body", "expected_status", "follow_redirects", "max_body_bytes", "body_checks"}
	deprecated := []string{"idle_conn_timeout", "max_idle_conns", "max_idle_conns_per_host", "disable_keep_alives"}
	for _, k := range keysByType[typeHTTP] {
		_, inSchema := upstream[k]
		assert.True(t, inSchema || slices.Contains(ours, k) || slices.Contains(deprecated, k),
			"http probe accepts %q, which is neither ours nor confighttp's", k)
	}

	// Through loading: a client setting on an http probe loads; on a tcp probe it is refused.
	load := func(probe map[string]any) error {
		cfg := createDefaultConfig().(*Config)
		err := confmap.NewFromStringMap(map[string]any{"probes": []any{probe}}).Unmarshal(cfg)
		if err != nil {
			return err
		}
		return confmap.Validate(cfg)
	}
	require.NoError(t, load(map[string]any{"name": "api", "type": "http", "endpoint": "http://localhost/x", "max_conns_per_host": 3, "http2_ping_timeout": "5s"}))
	assert.ErrorContains(t, load(map[string]any{"name": "db", "type": "tcp", "endpoint": "localhost:5432", "max_conns_per_host": 3}),
		`"max_conns_per_host" does not apply to type "tcp"`)
}
