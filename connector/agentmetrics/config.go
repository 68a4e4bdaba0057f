package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/component"
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

	// CostDimensions are attributes whose values label separate cost and token series.
	CostDimensions CostDimensionsConfig `mapstructure:"cost_dimensions"`
	// AgentRunCost is the histogram of the LLM cost of each agent run.
	AgentRunCost AgentRunCostConfig `mapstructure:"agent_run_cost"`
	// Budgets are spend limits per UTC period, exported as gauges.
	Budgets []BudgetConfig `mapstructure:"budgets"`
	// Storage is the id of a storage extension (file_storage) that keeps the budgets'
	// spend across restarts. Without it budgets start from zero at each start.
	Storage *component.ID `mapstructure:"storage"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// CostDimensionsConfig lists the attributes that label llm.dimension.* series.
type CostDimensionsConfig struct {
	// Attributes are attribute keys, read from the span, else its invoke_agent
	// ancestor in the batch, else the resource.
	Attributes []string `mapstructure:"attributes"`
	// MaxValues is how many values per dimension keep series of their own; the rest
	// are folded into "_other".
	MaxValues int `mapstructure:"max_values"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// AgentRunCostConfig configures agent.run.cost.usd.
type AgentRunCostConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Buckets are upper bounds in USD.
	Buckets []float64 `mapstructure:"buckets"`
	// Settle is how long a run stays open for late calls after its invoke_agent span arrives.
	Settle time.Duration `mapstructure:"settle"`
	// MaxOpenRuns bounds the open runs, and separately the held calls waiting for their run.
	MaxOpenRuns int `mapstructure:"max_open_runs"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// BudgetConfig is one spend limit.
type BudgetConfig struct {
	Name     string         `mapstructure:"name"`
	LimitUSD float64        `mapstructure:"limit_usd"`
	Period   string         `mapstructure:"period"`
	Selector BudgetSelector `mapstructure:"selector"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// BudgetSelector picks the calls a budget counts: at most one of a dimension value, an
// agent or a model; none selects every call.
type BudgetSelector struct {
	Dimension string `mapstructure:"dimension"`
	Value     string `mapstructure:"value"`
	Agent     string `mapstructure:"agent"`
	Model     string `mapstructure:"model"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Budget periods, UTC.
const (
	periodHour  = "hour"
	periodDay   = "day"
	periodMonth = "month"
)

var budgetName = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

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
	errs = append(errs, cfg.validateDimensions()...)
	errs = append(errs, cfg.validateRunCost()...)
	errs = append(errs, cfg.validateBudgets()...)
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

// maxDimensions bounds cost_dimensions::attributes: each dimension costs a lookup per
// LLM call and (max_values+2) series per service.
const maxDimensions = 10

func (cfg *Config) validateDimensions() []error {
	var errs []error
	d := cfg.CostDimensions
	if len(d.Attributes) > maxDimensions {
		errs = append(errs, fmt.Errorf("cost_dimensions::attributes has %d entries, at most %d are allowed", len(d.Attributes), maxDimensions))
	}
	seen := map[string]bool{}
	for i, a := range d.Attributes {
		switch {
		case a == "":
			errs = append(errs, fmt.Errorf("cost_dimensions::attributes[%d] must not be empty", i))
		case seen[a]:
			errs = append(errs, fmt.Errorf("cost_dimensions::attributes[%d] %q is listed twice", i, a))
		}
		seen[a] = true
	}
	if d.MaxValues < 1 || d.MaxValues > 1000 {
		errs = append(errs, fmt.Errorf("cost_dimensions::max_values %d must be between 1 and 1000 (each new value past them scans the candidates)", d.MaxValues))
	}
	return errs
}

func (cfg *Config) validateRunCost() []error {
	r := cfg.AgentRunCost
	if !r.Enabled {
		return nil
	}
	var errs []error
	switch {
	case len(r.Buckets) == 0:
		errs = append(errs, errors.New("agent_run_cost::buckets must not be empty"))
	case !strictlyIncreasing(r.Buckets):
		errs = append(errs, fmt.Errorf("agent_run_cost::buckets %v must be strictly increasing", r.Buckets))
	case r.Buckets[0] <= 0:
		errs = append(errs, fmt.Errorf("agent_run_cost::buckets %v must be positive (USD)", r.Buckets))
	}
	if r.Settle < 0 {
		errs = append(errs, fmt.Errorf("agent_run_cost::settle %s must not be negative", r.Settle))
	}
	if r.Settle > maxRunWait {
		errs = append(errs, fmt.Errorf("agent_run_cost::settle %s must be at most %s", r.Settle, maxRunWait))
	}
	if r.MaxOpenRuns < 1 {
		errs = append(errs, fmt.Errorf("agent_run_cost::max_open_runs %d must be at least 1", r.MaxOpenRuns))
	}
	return errs
}

func (cfg *Config) validateBudgets() []error {
	var errs []error
	names := map[string]int{}
	dims := map[string]bool{}
	for _, a := range cfg.CostDimensions.Attributes {
		dims[a] = true
	}
	for i, b := range cfg.Budgets {
		field := fmt.Sprintf("budgets[%d]::", i)
		switch {
		case b.Name == "":
			errs = append(errs, fmt.Errorf("%sname is required", field))
		case !budgetName.MatchString(b.Name):
			errs = append(errs, fmt.Errorf("%sname %q may only hold letters, digits, '_', '.' and '-'", field, b.Name))
		default:
			if j, dup := names[b.Name]; dup {
				errs = append(errs, fmt.Errorf("%sname %q is already the name of budgets[%d]", field, b.Name, j))
			}
			names[b.Name] = i
		}
		if !(b.LimitUSD > 0) || b.LimitUSD > 1e12 {
			errs = append(errs, fmt.Errorf("%slimit_usd %v must be a positive amount of USD", field, b.LimitUSD))
		}
		switch b.Period {
		case periodHour, periodDay, periodMonth:
		default:
			errs = append(errs, fmt.Errorf("%speriod %q must be hour, day or month (UTC)", field, b.Period))
		}
		sel := b.Selector
		keys := 0
		for _, set := range []bool{sel.Dimension != "" || sel.Value != "", sel.Agent != "", sel.Model != ""} {
			if set {
				keys++
			}
		}
		if keys > 1 {
			errs = append(errs, fmt.Errorf("%sselector must have at most one of dimension (with value), agent, model", field))
		}
		if sel.Dimension != "" || sel.Value != "" {
			switch {
			case sel.Dimension == "":
				errs = append(errs, fmt.Errorf("%sselector::value needs selector::dimension", field))
			case !dims[sel.Dimension]:
				errs = append(errs, fmt.Errorf("%sselector::dimension %q is not in cost_dimensions::attributes %v", field, sel.Dimension, cfg.CostDimensions.Attributes))
			case sel.Value == "":
				errs = append(errs, fmt.Errorf("%sselector::value is required with selector::dimension", field))
			}
		}
	}
	return errs
}
