package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
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

	// RecoveryDuration is how long a component that gates readiness (a receiver, an
	// extension, or one listed in GateReadiness) may stay in RecoverableError before it
	// makes /ready fail and its pipeline check unhealthy. Until then it is degraded.
	RecoveryDuration time.Duration `mapstructure:"recovery_duration"`

	// GateReadiness lists processors, connectors and exporters, named as /health names
	// them ("processor:llm_cost", "exporter:otlp/traces"), whose errors fail /ready as a
	// receiver's do; for an exporter also its delivery check when it drops data. The
	// others' errors degrade /health and leave /ready alone: the collector still takes
	// data, and their causes (a backend, a price source, load) are usually shared by
	// every replica, so taking one out of rotation helps nothing.
	GateReadiness []string `mapstructure:"gate_readiness"`

	// Delivery configures the delivery check of each exporter and the refusal check of
	// each memory limiter.
	Delivery DeliveryConfig `mapstructure:"delivery"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeliveryConfig configures the delivery checks.
type DeliveryConfig struct {
	// Enabled adds an exporter:<id> check per exporter and a processor:<id> check per
	// memory limiter to /health.
	Enabled bool `mapstructure:"enabled"`

	// FailingAfter is how long sends may keep failing before the exporter is degraded.
	// A memory limiter stays degraded this long after its last refusal.
	FailingAfter time.Duration `mapstructure:"failing_after"`

	// QueueThreshold is the fill of a sending queue (size / capacity) from which the
	// exporter is degraded.
	QueueThreshold float64 `mapstructure:"queue_threshold"`

	// LossWindow: data dropped within it (refused by a full sending queue, or given up
	// on after a permanent error or exhausted retries) makes the exporter unhealthy.
	LossWindow time.Duration `mapstructure:"loss_window"`

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
	errs = append(errs, cfg.Delivery.validate()...)
	for i, name := range cfg.GateReadiness {
		if err := checkComponentName(name); err != nil {
			errs = append(errs, fmt.Errorf("gate_readiness[%d] %q: %w", i, name, err))
		}
	}
	return errors.Join(errs...)
}

// gatingKinds are the kinds a gate_readiness entry may name.
var gatingKinds = []string{"receiver", "processor", "exporter", "connector", "extension"}

// checkComponentName checks a component name as /health writes it, kind:type[/name].
func checkComponentName(name string) error {
	kind, id, found := strings.Cut(name, ":")
	if !found || !slices.Contains(gatingKinds, kind) {
		return fmt.Errorf("must be a component as /health names it, kind:id with kind one of %s, for example \"exporter:otlp/traces\" or \"processor:llm_cost\"", strings.Join(gatingKinds, ", "))
	}
	var cid component.ID
	if err := cid.UnmarshalText([]byte(id)); err != nil {
		return fmt.Errorf("%q is not a component ID (type[/name]): %w", id, err)
	}
	return nil
}

func (d *DeliveryConfig) validate() []error {
	var errs []error
	if d.FailingAfter < 0 {
		errs = append(errs, fmt.Errorf("delivery::failing_after %s must not be negative (0 degrades at the first failed send)", d.FailingAfter))
	}
	if !(d.QueueThreshold > 0 && d.QueueThreshold <= 1) {
		errs = append(errs, fmt.Errorf("delivery::queue_threshold %g must be above 0 and at most 1 (a share of the queue's capacity, for example 0.8)", d.QueueThreshold))
	}
	if d.LossWindow <= 0 {
		errs = append(errs, fmt.Errorf("delivery::loss_window %s must be positive", d.LossWindow))
	}
	return errs
}
