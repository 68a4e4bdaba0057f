package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"errors"
	"fmt"
	"net"
	"sort"
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

	// RecoveryDuration is how long a component may stay in RecoverableError before it
	// makes /ready fail and its pipeline check unhealthy. Until then it is degraded.
	// With delivery checks on, an exporter's errors are judged by its delivery check
	// instead (see DeliveryConfig).
	RecoveryDuration time.Duration `mapstructure:"recovery_duration"`

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

	// Exporters holds per-exporter settings, keyed by component ID (for example
	// "otlp/traces").
	Exporters map[string]ExporterDeliveryConfig `mapstructure:"exporters"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ExporterDeliveryConfig is one exporter's delivery settings.
type ExporterDeliveryConfig struct {
	// GateReadiness makes /ready fail while the exporter is unhealthy (dropping data),
	// and lets its component status gate /ready as other components' does. Off, an
	// exporter never takes the collector out of load balancing: every replica shares
	// the backend, and one that cannot reach it is no better out of rotation.
	GateReadiness bool `mapstructure:"gate_readiness"`

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
	return errors.Join(errs...)
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
	ids := make([]string, 0, len(d.Exporters))
	for id := range d.Exporters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var cid component.ID
		if err := cid.UnmarshalText([]byte(id)); err != nil {
			errs = append(errs, fmt.Errorf("delivery::exporters::%s is not an exporter ID (type[/name], for example otlp/traces): %w", id, err))
		}
	}
	return errs
}
