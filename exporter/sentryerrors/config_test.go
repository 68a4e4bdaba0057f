package sentryerrors

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	full := createDefaultConfig().(*Config)
	full.DSN = "https://0123456789abcdef@o1.ingest.sentry.io/4505"
	full.DSNByService = map[string]configopaque.String{"billing": "https://fedcba9876543210@o1.ingest.sentry.io/4506"}
	full.Environment = "staging"
	full.MinSeverity = "warn"
	full.SendDefaultPII = true
	full.IncludeGenAIContent = true
	full.MaxBreadcrumbs = 20
	full.RequestHeaders = []string{"user-agent", "x-request-id"}
	full.InAppExclude = []string{"org.springframework.", "/opt/vendor/"}
	full.Fingerprint = []string{"{{ default }}", "{{ attr:gen_ai.request.model }}"}
	full.Scrub.ExtraKeys = []string{"ssn"}
	full.Scrub.ExtraPatterns = []string{`\bACME-\d{6}\b`}
	full.IgnoreExceptions = []string{"KeyboardInterrupt", "asyncio.Cancelled*"}
	full.SampleRate = 0.5
	full.FingerprintLimit = FingerprintLimitConfig{MaxEvents: 100, Window: 10 * time.Minute}
	full.ClientConfig.Timeout = 3 * time.Second
	full.ClientConfig.ProxyURL = "http://proxy.internal:3128"
	full.RetryConfig.MaxElapsedTime = 10 * time.Minute
	full.QueueConfig.GetOrInsertDefault().QueueSize = 5000

	tests := []struct {
		id      string
		want    *Config
		wantErr string
	}{
		{id: "", want: createDefaultConfig().(*Config)},
		{id: "full", want: full},
		{id: "bad_dsn", wantErr: `dsn is not a valid Sentry DSN (invalid scheme)`},
		{id: "bad_service_dsn", wantErr: `dsn_by_service::billing is not a valid Sentry DSN (empty username)`},
		{id: "bad_severity", wantErr: `min_severity "severe" is not a severity: use one of trace, debug, info, warn, error, fatal`},
		{id: "bad_sample_rate", wantErr: `sample_rate 1.5 must be between 0 and 1`},
		{id: "bad_breadcrumbs", wantErr: `max_breadcrumbs -1 must be between 0 and 1000`},
		{id: "bad_fingerprint", wantErr: `fingerprint[0] "{{ span.kind }}": unknown template`},
		{id: "bad_pattern", wantErr: `scrub::extra_patterns[0] "(unclosed" is not a valid regular expression`},
		{id: "bad_limit", wantErr: `fingerprint_limit::window 0s must be positive when max_events is set`},
		{id: "bad_ignore", wantErr: `ignore_exceptions[0] "*" must name an exception type`},
		{id: "endpoint_set", wantErr: `endpoint is not used: the DSN names Sentry's host`},
		{id: "auth_header", wantErr: `headers::x-sentry-auth is set by the exporter`},
		{id: "typo", wantErr: `has invalid keys: dsnn`},
		{id: "typo_nested", wantErr: `has invalid keys: extra_key`},
	}
	for _, tt := range tests {
		t.Run("id_"+tt.id, func(t *testing.T) {
			id := component.NewID(metadata.Type)
			if tt.id != "" {
				id = component.NewIDWithName(metadata.Type, tt.id)
			}
			sub, err := cm.Sub(id.String())
			require.NoError(t, err)
			cfg := createDefaultConfig()
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "secretkey", "a DSN's key never appears in an error")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

var envRef = regexp.MustCompile(`\$\{env:([A-Z0-9_]+):-([^}]*)\}`)

// TestReadmeExample loads the example the README includes, with its ${env:...}
// references resolved as the collector resolves them, and starts an exporter from it.
func TestReadmeExample(t *testing.T) {
	t.Setenv("SENTRY_DSN", "https://0123456789abcdef@o1.ingest.sentry.io/1")
	example, err := os.ReadFile(filepath.Join("testdata", "readme_example.yaml"))
	require.NoError(t, err)
	resolved := envRef.ReplaceAllStringFunc(string(example), func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := os.LookupEnv(m[1]); ok {
			return v
		}
		return m[2]
	})
	path := filepath.Join(t.TempDir(), "example.yaml")
	require.NoError(t, os.WriteFile(path, []byte(resolved), 0o600))
	cm, err := confmaptest.LoadConf(path)
	require.NoError(t, err)
	sub, err := cm.Sub("exporters::sentry_errors")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Contains(t, cfg.DSNByService, "billing-api")
	assert.Equal(t, 100, cfg.FingerprintLimit.MaxEvents)
	require.NotNil(t, cfg.QueueConfig.Get().StorageID)

	// It starts (without the storage extension the queue would need, so without it here).
	cfg.QueueConfig.Get().StorageID = nil
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.Shutdown(context.Background()))

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), strings.TrimSpace(string(example)), "README.md must show testdata/readme_example.yaml verbatim")
}
