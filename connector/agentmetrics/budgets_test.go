package agentmetrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func budgetValue(md pmetric.Metrics, metric, name string) found {
	return lookup(md, metric, map[string]any{"budget": name})
}

func spend(md pmetric.Metrics, name string) float64 {
	return budgetValue(md, "llm.budget.spend.usd", name).sum
}

var testBudgets = func(cfg *Config) {
	cfg.CostDimensions.Attributes = []string{"tenant.id"}
	cfg.CostDimensions.MaxValues = 1
	cfg.Budgets = []BudgetConfig{
		{Name: "all-daily", LimitUSD: 10, Period: "day"},
		{Name: "acme-hourly", LimitUSD: 2, Period: "hour", Selector: BudgetSelector{Dimension: "tenant.id", Value: "acme"}},
		// A raw value longer than max_label_length, and a value folded into _other: the
		// selector sees the value as sent.
		{Name: "long-tenant", LimitUSD: 1, Period: "month", Selector: BudgetSelector{Dimension: "tenant.id", Value: strings.Repeat("t", 100)}},
		{Name: "planner", LimitUSD: 5, Period: "day", Selector: BudgetSelector{Agent: "planner"}},
		{Name: "claude", LimitUSD: 5, Period: "day", Selector: BudgetSelector{Model: "claude-sonnet-4-5"}},
	}
}

// budgetBatch: acme $1 under the planner agent, a long tenant $0.25 with a claude call,
// and a duplicate span of acme's call (with usage and cost) that must not count.
func budgetBatch(first byte) ptrace.Traces {
	b := batchFrom("svc", first)
	ag := b.agent(pcommon.SpanID{}, "planner", map[string]any{"tenant.id": "acme"})
	acme := b.call(ag.SpanID(), 1, nil)
	dup := llmAttrs("duplicate", "openai", "gpt-4o", 1, 100, 10, map[string]any{"gen_ai.usage.cost": 1.0, "tenant.id": "acme"})
	b.span(ptrace.SpanKindClient, acme.SpanID(), time.Second, false, dup)
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false,
		llmAttrs("priced", "anthropic", "claude-sonnet-4-5", 0.25, 10, 10, map[string]any{"tenant.id": strings.Repeat("t", 100)}))
	return b.td
}

func TestBudgetsSelectorsAndPeriods(t *testing.T) {
	c, _ := newTestConnector(t, testBudgets)
	clk := withClock(c)
	clk.t = time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	require.NoError(t, c.ConsumeTraces(context.Background(), budgetBatch(0)))
	md, _ := c.snapshot(ts(c))

	assert.InDelta(t, 1.25, spend(md, "all-daily"), 1e-12, "the duplicate span is not counted")
	assert.InDelta(t, 1, spend(md, "acme-hourly"), 1e-12)
	assert.InDelta(t, 0.25, spend(md, "long-tenant"), 1e-12, "raw values, not cut or folded")
	assert.InDelta(t, 1, spend(md, "planner"), 1e-12, "the agent of the call's invoke_agent ancestor")
	assert.InDelta(t, 0.25, spend(md, "claude"), 1e-12)
	assert.Equal(t, 2.0, budgetValue(md, "llm.budget.limit.usd", "acme-hourly").sum)
	assert.InDelta(t, 0.5, budgetValue(md, "llm.budget.used_ratio", "acme-hourly").sum, 1e-12)
	r := budgetValue(md, "llm.budget.used_ratio", "long-tenant")
	assert.Equal(t, map[string]any{"budget": "long-tenant", "period": "month", "service.name": budgetService}, r.attrs)

	// Past midnight UTC at the end of January: the hour, the day and the month restart.
	clk.t = time.Date(2026, 2, 1, 0, 0, 1, 0, time.UTC)
	md, _ = c.snapshot(ts(c))
	for _, name := range []string{"all-daily", "acme-hourly", "long-tenant", "planner", "claude"} {
		assert.Zero(t, spend(md, name), name)
		assert.Zero(t, budgetValue(md, "llm.budget.used_ratio", name).sum, name)
	}
	require.NoError(t, c.ConsumeTraces(context.Background(), budgetBatch(50)))
	clk.add(59 * time.Minute)
	require.NoError(t, c.ConsumeTraces(context.Background(), budgetBatch(100)))
	md, _ = c.snapshot(ts(c))
	assert.InDelta(t, 2, spend(md, "acme-hourly"), 1e-12)
	assert.InDelta(t, 1, budgetValue(md, "llm.budget.used_ratio", "acme-hourly").sum, 1e-12)
	clk.add(time.Minute) // 01:00: a new hour, the same day
	md, _ = c.snapshot(ts(c))
	assert.Zero(t, spend(md, "acme-hourly"))
	assert.InDelta(t, 2.5, spend(md, "all-daily"), 1e-12)
}

// extHost is a host with extensions.
type extHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h extHost) GetExtensions() map[component.ID]component.Component { return h.exts }

// startFileStorage starts the contrib file_storage extension on dir.
func startFileStorage(t *testing.T, dir string) (component.Component, extHost) {
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	id := component.MustNewID("file_storage")
	return ext, extHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: ext}}
}

// Budgets survive a restart through file_storage (the extension restarted too, on the
// same directory), and a saved period that is over starts from zero.
func TestBudgetsSurviveRestartWithFileStorage(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	withStorage := func(cfg *Config) {
		id := component.MustNewID("file_storage")
		cfg.Storage = &id
	}
	day := time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC)
	run := func(at time.Time, batches int) pmetric.Metrics {
		ext, host := startFileStorage(t, dir)
		c, logs := newTestConnector(t, testBudgets, withStorage)
		defer func() { assert.Zero(t, logs.Len(), "no warning") }()
		// The same connector id at each start (test settings have a random one).
		c.id = component.MustNewIDWithName("agent_metrics", "spend")
		clk := withClock(c)
		clk.t = at
		require.NoError(t, c.Start(ctx, host))
		for i := 0; i < batches; i++ {
			require.NoError(t, c.ConsumeTraces(ctx, budgetBatch(byte(i*10))))
		}
		md, _ := c.snapshot(ts(c))
		require.NoError(t, c.Shutdown(ctx))
		require.NoError(t, ext.Shutdown(ctx))
		return md
	}
	md := run(day, 2)
	assert.InDelta(t, 2.5, spend(md, "all-daily"), 1e-12)
	md = run(day.Add(10*time.Minute), 1)
	assert.InDelta(t, 3.75, spend(md, "all-daily"), 1e-12, "the spend before the restart is kept")
	assert.InDelta(t, 3, spend(md, "acme-hourly"), 1e-12)
	md = run(day.Add(40*time.Minute), 0)
	assert.InDelta(t, 3.75, spend(md, "all-daily"), 1e-12)
	assert.Zero(t, spend(md, "acme-hourly"), "the hour of the saved state is over")
	assert.InDelta(t, 0.75, spend(md, "long-tenant"), 1e-12)
	md = run(day.Add(24*time.Hour), 0)
	assert.Zero(t, spend(md, "all-daily"), "the day of the saved state is over")
	assert.InDelta(t, 0.75, spend(md, "long-tenant"), 1e-12, "the month is not")
}

func TestBudgetsWithoutStorageSayOnce(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	c, _ := newTestConnector(t, testBudgets)
	c.logger = zap.New(core)
	require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, c.Shutdown(context.Background()))
	assert.Equal(t, 1, logs.FilterMessageSnippet("budgets start from zero").Len())

	// A storage id that names no extension, or one that is not storage, fails the start.
	for _, exts := range []map[component.ID]component.Component{
		{},
		{component.MustNewID("file_storage"): notStorage{}},
	} {
		c, _ := newTestConnector(t, testBudgets, func(cfg *Config) {
			id := component.MustNewID("file_storage")
			cfg.Storage = &id
		})
		err := c.Start(context.Background(), extHost{Host: componenttest.NewNopHost(), exts: exts})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `storage: extension "file_storage"`)
	}
}

type notStorage struct {
	component.StartFunc
	component.ShutdownFunc
}

// An agent budget counts the calls its agent makes through a tool or chain span too (the
// nearest invoke_agent ancestor, as agent_run_cost_usd does), while llm_cost_usd_total's
// agent label stays the call's own or its direct parent's.
func TestAgentBudgetCountsCallsUnderToolSpans(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) {
		cfg.Budgets = []BudgetConfig{{Name: "planner", LimitUSD: 5, Period: "day", Selector: BudgetSelector{Agent: "planner"}}}
	})
	withClock(c)
	b := batchFrom("svc", 0)
	ag := b.agent(pcommon.SpanID{}, "planner", nil)
	tool := b.span(ptrace.SpanKindInternal, ag.SpanID(), time.Second, false,
		map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"})
	b.call(tool.SpanID(), 0.5, nil)
	b.call(ag.SpanID(), 1, nil)
	b.call(pcommon.SpanID{}, 2, nil) // no agent at all
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(ts(c))
	assert.InDelta(t, 1.5, spend(md, "planner"), 1e-12, "the call under the tool span is the planner's spend")
	assert.InDelta(t, 1, lookup(md, "llm.cost.usd", map[string]any{"gen_ai.agent.name": "planner"}).sum, 1e-12)
	assert.InDelta(t, 2.5, lookup(md, "llm.cost.usd", map[string]any{"gen_ai.agent.name": "none"}).sum, 1e-12)
}
