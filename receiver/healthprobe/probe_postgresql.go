package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/component"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// postgresqlProber keeps one connection and runs SELECT 1 over it; when the
// connection fails it is closed and the next run connects again.
type postgresqlProber struct {
	cfg  *ProbeConfig
	base *pgx.ConnConfig // without the password, which is read at each connect
	conn *pgx.Conn
}

func newPostgreSQLProber(cfg *ProbeConfig) (*postgresqlProber, error) {
	// Keyword/value form, so that no value is ever read from a URL; the password is set
	// on the parsed config, never written into a string.
	dsn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=%s application_name=%s",
		quoteDSN(cfg.Host), cfg.Port, quoteDSN(cfg.Database), quoteDSN(cfg.User), quoteDSN(cfg.SSLMode), quoteDSN("otelcol-procode health_probe"))
	base, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("probe %q: connection settings: %s", cfg.Name, errorText(err))
	}
	// The simple protocol prepares nothing, so the probe also works behind PgBouncer in
	// transaction mode and leaves no statements behind on the server.
	base.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	base.ConnectTimeout = 0 // the run's context bounds the connect
	return &postgresqlProber{cfg: cfg, base: base}, nil
}

func quoteDSN(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `\'`)
	return "'" + v + "'"
}

func (*postgresqlProber) start(context.Context, component.Host) error { return nil }

func (p *postgresqlProber) shutdown(ctx context.Context) error {
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close(ctx)
	p.conn = nil
	return err
}

func (p *postgresqlProber) password() (string, error) {
	if p.cfg.PasswordFile == "" {
		return string(p.cfg.Password), nil
	}
	// Read at every connect, so that a rotated secret is picked up.
	b, err := os.ReadFile(p.cfg.PasswordFile)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("password_file %q cannot be read: %w", p.cfg.PasswordFile, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (p *postgresqlProber) probe(ctx context.Context) outcome {
	if p.conn == nil || p.conn.IsClosed() {
		p.conn = nil
		pw, err := p.password()
		if err != nil {
			return failedErr(err)
		}
		cc := p.base.Copy()
		cc.Password = pw
		conn, err := pgx.ConnectConfig(ctx, cc)
		if err != nil {
			return failedErr(err)
		}
		p.conn = conn
	}
	var one int
	if err := p.conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		p.drop()
		return failedErr(err)
	}
	version := safetext.Clean(p.conn.PgConn().ParameterStatus("server_version"))
	return outcome{
		ok:      true,
		message: "connected to PostgreSQL " + version,
		details: map[string]any{"server_version": version},
	}
}

// drop closes a connection that failed so that the next run reconnects.
func (p *postgresqlProber) drop() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = p.conn.Close(ctx)
	p.conn = nil
}
