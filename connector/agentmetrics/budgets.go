package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"
)

// Budgets: spend per UTC period (llm.budget.*). A call counts at the time it arrives
// (the connector's clock), in the period current then; a budget restarts from zero at
// its period's boundary. With a storage extension the spend of the current period is
// saved at each flush and at shutdown, and loaded at start; a saved period that is over
// is not loaded.

// budgetService is the service.name of the budget series: a budget spans services.
const budgetService = "agent_metrics"

type budget struct {
	cfg BudgetConfig
	dim int // index of the selector's dimension, or -1
	// spend in the period that started at start and ends at end (unix ns).
	spend      float64
	start, end int64
}

func newBudgets(cfg *Config) []*budget {
	var bs []*budget
	for _, bc := range cfg.Budgets {
		b := &budget{cfg: bc, dim: -1}
		for i, a := range cfg.CostDimensions.Attributes {
			if a == bc.Selector.Dimension {
				b.dim = i
			}
		}
		bs = append(bs, b)
	}
	return bs
}

// matches reports whether a call of LLM group g, counted under agent, with dimension
// values dims (raw, as read: not cut, not folded) counts for the budget.
func (b *budget) matches(g *group, agent string, dims []string) bool {
	s := &b.cfg.Selector
	switch {
	case b.dim >= 0:
		return dims[b.dim] == s.Value
	case s.Agent != "":
		return agent == s.Agent
	case s.Model != "":
		return g.key[2] == s.Model
	}
	return true
}

// periodBounds returns the UTC period of kind p that holds t, as unix ns.
func periodBounds(p string, t time.Time) (start, end int64) {
	t = t.UTC()
	var s, e time.Time
	switch p {
	case periodHour:
		s = t.Truncate(time.Hour)
		e = s.Add(time.Hour)
	case periodDay:
		s = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		e = s.AddDate(0, 0, 1)
	default: // month
		s = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		e = s.AddDate(0, 1, 0)
	}
	return s.UnixNano(), e.UnixNano()
}

// roll starts a new period when wall is past the current one.
func (b *budget) roll(wall time.Time) {
	if ns := wall.UnixNano(); ns >= b.end || ns < b.start {
		b.start, b.end = periodBounds(b.cfg.Period, wall)
		b.spend = 0
	}
}

func (b *budget) add(cost float64, wall time.Time) {
	b.roll(wall)
	b.spend += cost
}

// updateBudgets sets the budget gauges for a snapshot at wall.
func (c *agentMetrics) updateBudgets(wall time.Time, now pcommon.Timestamp) {
	for _, b := range c.budgets {
		b.roll(wall)
		set := func(m int, v float64) {
			k := labelKey{budgetService, b.cfg.Name, b.cfg.Period}
			c.metrics[m].get(&k, now, c.cfg.MaxSeries, c.overflow).dblSum = v
		}
		set(mBudgetSpend, b.spend)
		set(mBudgetLimit, b.cfg.LimitUSD)
		set(mBudgetRatio, b.spend/b.cfg.LimitUSD)
	}
}

// The stored state: one key for all budgets of this connector.
const budgetsKey = "budgets"

type storedBudget struct {
	Name        string  `json:"name"`
	Period      string  `json:"period"`
	PeriodStart int64   `json:"period_start_unix_nano"`
	SpendUSD    float64 `json:"spend_usd"`
}

type storedBudgets struct {
	Version int            `json:"version"`
	Budgets []storedBudget `json:"budgets"`
}

// startStorage gets the storage client and loads the budgets' spend, or says once that
// budgets start from zero.
func (c *agentMetrics) startStorage(ctx context.Context, host component.Host) error {
	if c.cfg.Storage == nil {
		if len(c.budgets) > 0 {
			c.logger.Info("agent_metrics: no storage extension configured: budgets start from zero at each start (set storage: file_storage to keep their spend across restarts)")
		}
		return nil
	}
	ext, ok := host.GetExtensions()[*c.cfg.Storage]
	if !ok {
		return fmt.Errorf("storage: extension %q is not configured (add it under extensions and service::extensions)", c.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: extension %q is not a storage extension", c.cfg.Storage.String())
	}
	client, err := se.GetClient(ctx, component.KindConnector, c.id, "")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	c.storage = client
	c.loadBudgets(ctx)
	return nil
}

func (c *agentMetrics) loadBudgets(ctx context.Context) {
	if len(c.budgets) == 0 {
		return
	}
	data, err := c.storage.Get(ctx, budgetsKey)
	if err != nil {
		c.logger.Warn("agent_metrics: budgets' spend could not be read from storage; they start from zero", zap.Error(err))
		return
	}
	if data == nil {
		return
	}
	var st storedBudgets
	if err := json.Unmarshal(data, &st); err != nil || st.Version != 1 {
		c.logger.Warn("agent_metrics: stored budgets' spend is not readable; they start from zero", zap.Error(err))
		return
	}
	wall := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	loaded := 0
	for _, b := range c.budgets {
		b.roll(wall)
		for _, s := range st.Budgets {
			// A state from an older period (or another period kind) is not carried over.
			if s.Name == b.cfg.Name && s.Period == b.cfg.Period && s.PeriodStart == b.start &&
				s.SpendUSD >= 0 && s.SpendUSD < 1e15 {
				b.spend = s.SpendUSD
				loaded++
			}
		}
	}
	c.logger.Info("agent_metrics: budgets' spend loaded from storage", zap.Int("budgets", loaded))
}

// saveBudgets writes the budgets' spend to storage (at each flush and at shutdown).
func (c *agentMetrics) saveBudgets(ctx context.Context) {
	if c.storage == nil || len(c.budgets) == 0 {
		return
	}
	wall := c.clock()
	c.mu.Lock()
	st := storedBudgets{Version: 1}
	for _, b := range c.budgets {
		b.roll(wall)
		st.Budgets = append(st.Budgets, storedBudget{Name: b.cfg.Name, Period: b.cfg.Period, PeriodStart: b.start, SpendUSD: b.spend})
	}
	c.mu.Unlock()
	data, err := json.Marshal(st)
	if err == nil {
		err = c.storage.Set(ctx, budgetsKey, data)
	}
	if err != nil {
		c.logger.Warn("agent_metrics: budgets' spend could not be saved to storage", zap.Error(err))
	}
}
