package healthprobe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

func pgProbe(s *harness.PostgreSQL, password string) ProbeConfig {
	p := defaultProbeConfig()
	p.Name, p.Type = "database", typePostgreSQL
	p.Host, p.Port, p.User = "127.0.0.1", s.Port, s.User
	p.Password = configopaque.String(password)
	p.SSLMode = "disable"
	p.Timeout = 3 * time.Second
	return p
}

func TestPostgreSQLProbe(t *testing.T) {
	s := harness.StartPostgreSQL(t)

	t.Run("healthy", func(t *testing.T) {
		r := newTestRunner(t, pgProbe(s, s.Password))
		res := r.execute(t.Context())
		require.True(t, res.outcome.ok, res.message)
		assert.Equal(t, health.StatusHealthy, res.status)
		version, _ := res.outcome.details["server_version"].(string)
		assert.Regexp(t, `^\d+(\.\d+)?`, version)
		assert.Equal(t, "connected to PostgreSQL "+version, res.message)
		pg := r.prober.(*postgresqlProber)
		first := pg.conn
		require.NotNil(t, first)
		// The connection is kept between runs.
		res = r.execute(t.Context())
		require.True(t, res.outcome.ok, res.message)
		assert.Same(t, first, pg.conn)
		assert.Equal(t, version, r.result(res).Details["server_version"])
	})

	t.Run("password_file", func(t *testing.T) {
		p := pgProbe(s, "")
		p.PasswordFile = filepath.Join(t.TempDir(), "pg-password")
		require.NoError(t, os.WriteFile(p.PasswordFile, []byte(s.Password+"\n"), 0o600))
		res := newTestRunner(t, p).execute(t.Context())
		assert.True(t, res.outcome.ok, res.message)
	})

	t.Run("wrong_password", func(t *testing.T) {
		const wrong = "definitely-Wrong-pw"
		r := newTestRunner(t, pgProbe(s, wrong))
		res := r.execute(t.Context())
		assert.False(t, res.outcome.ok)
		assert.Equal(t, metadata.AttributeErrorTypeAuth, res.outcome.errorType, res.message)
		assert.Equal(t, health.StatusUnhealthy, res.status)
		assert.Contains(t, res.message, "password authentication failed")
		assert.NotContains(t, res.message, wrong)
		assert.NotContains(t, res.message, s.Password)
		assert.Equal(t, int64(1), r.errors[metadata.AttributeErrorTypeAuth])
	})

	t.Run("stopped_then_restarted", func(t *testing.T) {
		r := newTestRunner(t, pgProbe(s, s.Password))
		require.True(t, r.execute(t.Context()).outcome.ok)

		s.Stop()
		s.WaitStopped()
		res := r.execute(t.Context())
		assert.False(t, res.outcome.ok)
		assert.Equal(t, health.StatusUnhealthy, res.status)
		assert.Nil(t, r.prober.(*postgresqlProber).conn, "a failed connection is dropped")
		// While it is down the next run fails fast with a refused connection.
		res = r.execute(t.Context())
		assert.Equal(t, metadata.AttributeErrorTypeConnectionRefused, res.outcome.errorType, res.message)
		assert.True(t, strings.Contains(res.message, "refused"), res.message)

		s.Start()
		res = r.execute(t.Context())
		assert.True(t, res.outcome.ok, res.message)
		assert.Equal(t, health.StatusHealthy, res.status, "it reconnects on its own")
	})
}
