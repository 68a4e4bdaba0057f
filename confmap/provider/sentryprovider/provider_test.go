package sentryprovider

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValue(t *testing.T) {
	for _, tt := range []struct{ dsn, name, want string }{
		{"https://abc123@o77.ingest.sentry.io/4505", "otlp_traces_endpoint", "https://o77.ingest.sentry.io/api/4505/integration/otlp/v1/traces"},
		{"https://abc123@o77.ingest.sentry.io/4505", "otlp_logs_endpoint", "https://o77.ingest.sentry.io/api/4505/integration/otlp/v1/logs"},
		{"https://abc123@o77.ingest.sentry.io/4505", "otlp_auth", "sentry sentry_key=abc123"},
		// Self-hosted Sentry under a path, on its own port.
		{"http://k@sentry.internal:9000/sentry/7", "otlp_traces_endpoint", "http://sentry.internal:9000/sentry/api/7/integration/otlp/v1/traces"},
	} {
		got, err := Value(tt.name, tt.dsn)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.name)
	}
	for _, bad := range []struct{ dsn, name, msg string }{
		{"", "otlp_auth", "SENTRY_DSN is empty"},
		{"ftp://secretkey@h/1", "otlp_auth", "not a valid Sentry DSN (invalid scheme)"},
		{"https://secretkey@h/1\n", "otlp_auth", "not a valid Sentry DSN (white space or a line break around it)"},
		{"https://secretkey@h/", "otlp_traces_endpoint", "not a valid Sentry DSN (empty project id)"},
		{"https://secretkey@h/1", "otlp_metrics_endpoint", "unknown setting"},
	} {
		_, err := Value(bad.name, bad.dsn)
		require.Error(t, err)
		assert.Contains(t, err.Error(), bad.msg)
		assert.NotContains(t, err.Error(), "secretkey", "the DSN's key never appears in an error")
	}
}

func TestRetrieveReadsSentryDSN(t *testing.T) {
	t.Setenv("SENTRY_DSN", "https://abc123@o77.ingest.sentry.io/4505")
	p := NewFactory().Create(confmap.ProviderSettings{})
	assert.Equal(t, "sentry", p.Scheme())
	r, err := p.Retrieve(context.Background(), "sentry:otlp_auth", nil)
	require.NoError(t, err)
	v, err := r.AsRaw()
	require.NoError(t, err)
	assert.Equal(t, "sentry sentry_key=abc123", v)
	require.NoError(t, p.Shutdown(context.Background()))
}
