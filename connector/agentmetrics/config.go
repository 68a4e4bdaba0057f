package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"errors"
	"fmt"
	"time"
)

// Config is the agent_metrics connector's configuration.
type Config struct {
	// FlushInterval is how often the running totals are emitted.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxSeries bounds the label sets kept per metric; label sets past it are folded
	// into one series labelled otel_metric_overflow="true".
	MaxSeries int `mapstructure:"max_series"`
	// MaxLabelLength cuts label values that come from span attributes (agent, tool and
	// route names) to this many bytes.
	MaxLabelLength int `mapstructure:"max_label_length"`

	// Groups of metrics, each on by default.
	LLM   GroupConfig `mapstructure:"llm"`
	Agent GroupConfig `mapstructure:"agent"`
	HTTP  GroupConfig `mapstructure:"http"`
	DB    GroupConfig `mapstructure:"db"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// GroupConfig switches a group of metrics and sets its duration histogram buckets.
type GroupConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Buckets are the explicit upper bounds, in seconds, of the group's duration histogram.
	Buckets []float64 `mapstructure:"buckets"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the configuration at startup.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("flush_interval %s must be positive", cfg.FlushInterval))
	}
	if cfg.MaxSeries < 1 {
		errs = append(errs, fmt.Errorf("max_series %d must be at least 1", cfg.MaxSeries))
	}
	if cfg.MaxLabelLength < 8 {
		errs = append(errs, fmt.Errorf("max_label_length %d must be at least 8", cfg.MaxLabelLength))
	}
	for _, g := range []struct {
		name string
		cfg  GroupConfig
	}{{"llm", cfg.LLM}, {"agent", cfg.Agent}, {"http", cfg.HTTP}, {"db", cfg.DB}} {
		if !g.cfg.Enabled {
			continue
		}
		if len(g.cfg.Buckets) == 0 {
			errs = append(errs, fmt.Errorf("%s::buckets must not be empty", g.name))
			continue
		}
		if !strictlyIncreasing(g.cfg.Buckets) {
			errs = append(errs, fmt.Errorf("%s::buckets %v must be strictly increasing", g.name, g.cfg.Buckets))
		}
		if g.cfg.Buckets[0] <= 0 {
			errs = append(errs, fmt.Errorf("%s::buckets %v must be positive (seconds)", g.name, g.cfg.Buckets))
		}
	}
	if !cfg.LLM.Enabled && !cfg.Agent.Enabled && !cfg.HTTP.Enabled && !cfg.DB.Enabled {
		errs = append(errs, errors.New("every metric group is disabled: enable at least one of llm, agent, http, db"))
	}
	return errors.Join(errs...)
}

func strictlyIncreasing(v []float64) bool {
	for i := 1; i < len(v); i++ {
		if !(v[i] > v[i-1]) {
			return false
		}
	}
	return true
}
