package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/confmap"

	"github.com/procode-ai/otelcol-procode/internal/strictconf"
)

// Config is the readiness extension's configuration.
type Config struct {
	// ServerConfig is the HTTP server the endpoints are served on; endpoint defaults to
	// localhost:13133. TLS, CORS and the other upstream server settings apply.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// Paths of the three endpoints.
	Paths PathsConfig `mapstructure:"paths"`

	// WarmupTimeout bounds how long /ready waits for every registered dependency probe
	// to report its first result. 0 means: do not wait for probes.
	WarmupTimeout time.Duration `mapstructure:"warmup_timeout"`

	// RecoveryDuration is how long a component may stay in RecoverableError before it
	// makes /ready fail and its pipeline check unhealthy. Until then it is degraded.
	RecoveryDuration time.Duration `mapstructure:"recovery_duration"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// PathsConfig names the URL path of each endpoint.
type PathsConfig struct {
	Livez  string `mapstructure:"livez"`
	Health string `mapstructure:"health"`
	Ready  string `mapstructure:"ready"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal decodes conf and rejects keys the extension does not know, which confmap
// would otherwise ignore because the server settings are squashed (see strictconf).
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if err := strictconf.Check(conf, cfg); err != nil {
		return err
	}
	type plain Config // same fields, without this Unmarshal method
	return conf.Unmarshal((*plain)(cfg))
}

// Validate checks the configuration at startup and names the bad field and value.
func (cfg *Config) Validate() error {
	var errs []error
	endpoint := cfg.ServerConfig.NetAddr.Endpoint
	if endpoint == "" {
		errs = append(errs, errors.New(`endpoint must not be empty: use host:port, for example "localhost:13133"`))
	} else if cfg.ServerConfig.NetAddr.Transport != "unix" {
		if _, port, err := net.SplitHostPort(endpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint %q is not host:port: %w", endpoint, err))
		} else if port == "" {
			errs = append(errs, fmt.Errorf("endpoint %q has no port: use host:port, for example \"localhost:13133\"", endpoint))
		}
	}

	seen := map[string]string{}
	for _, p := range []struct{ field, value string }{
		{"paths::livez", cfg.Paths.Livez},
		{"paths::health", cfg.Paths.Health},
		{"paths::ready", cfg.Paths.Ready},
	} {
		switch {
		case !strings.HasPrefix(p.value, "/"):
			errs = append(errs, fmt.Errorf("%s %q must start with \"/\"", p.field, p.value))
		case strings.ContainsAny(p.value, "?# "):
			errs = append(errs, fmt.Errorf("%s %q must be a plain path without query, fragment or spaces", p.field, p.value))
		case seen[p.value] != "":
			errs = append(errs, fmt.Errorf("%s %q is already used by %s: each endpoint needs its own path", p.field, p.value, seen[p.value]))
		default:
			seen[p.value] = p.field
		}
	}

	if cfg.WarmupTimeout < 0 {
		errs = append(errs, fmt.Errorf("warmup_timeout %s must not be negative (0 disables waiting for probes)", cfg.WarmupTimeout))
	}
	if cfg.RecoveryDuration < 0 {
		errs = append(errs, fmt.Errorf("recovery_duration %s must not be negative", cfg.RecoveryDuration))
	}
	return errors.Join(errs...)
}
