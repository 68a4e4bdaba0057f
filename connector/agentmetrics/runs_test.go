package agentmetrics

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func runCost(md pmetric.Metrics, agent string) found {
	return lookup(md, "agent.run.cost.usd", map[string]any{"gen_ai.agent.name": agent})
}

func dropped(md pmetric.Metrics, reason string) float64 {
	return lookup(md, "agent.run.cost.dropped", map[string]any{"reason": reason}).sum
}

// Calls in the same batch as their run, including one under an intermediate span and
// one under a nested agent (which is that agent's run), are observed once settle has
// passed, as one observation per invoke_agent span; never before.
func TestRunCostSameBatch(t *testing.T) {
	c, _ := newTestConnector(t)
	clk := withClock(c)
	b := batchFrom("svc", 0)
	// Children first, as an SDK exports them; the agent span last.
	agentID, wrapID, subID := pcommon.SpanID{0xa}, pcommon.SpanID{0xb}, pcommon.SpanID{0xc}
	b.call(agentID, 0.01, nil)
	b.call(wrapID, 0.02, nil)
	b.call(subID, 0.5, nil)
	sub := b.agent(wrapID, "helper", nil)
	sub.SetSpanID(subID)
	wrap := b.span(ptrace.SpanKindInternal, agentID, time.Second, false, map[string]any{"gen_ai.operation.name": "execute_tool"})
	wrap.SetSpanID(wrapID)
	ag := b.agent(pcommon.SpanID{}, "planner", nil)
	ag.SetSpanID(agentID)
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))

	md, _ := c.snapshot(ts(c))
	assert.Equal(t, uint64(0), runCost(md, "planner").count, "not observed before settle")
	clk.add(c.cfg.AgentRunCost.Settle)
	md, _ = c.snapshot(ts(c))
	planner := runCost(md, "planner")
	assert.Equal(t, uint64(1), planner.count)
	assert.InDelta(t, 0.03, planner.sum, 1e-12)
	// 0.03 is in (0.025, 0.05]: bucket 4.
	assert.Equal(t, uint64(1), planner.hist.BucketCounts().At(4))
	helper := runCost(md, "helper")
	assert.Equal(t, uint64(1), helper.count)
	assert.InDelta(t, 0.5, helper.sum, 1e-12)
	// llm.cost.usd keeps its agent label: the parent's when it is the agent span.
	assert.InDelta(t, 0.01, lookup(md, "llm.cost.usd", map[string]any{"gen_ai.agent.name": "planner"}).sum, 1e-12)
	assert.InDelta(t, 0.02, lookup(md, "llm.cost.usd", map[string]any{"gen_ai.agent.name": "none"}).sum, 1e-12)

	clk.add(time.Hour)
	md, _ = c.snapshot(ts(c))
	assert.Equal(t, uint64(1), runCost(md, "planner").count, "observed once")
	assert.Equal(t, 0.0, dropped(md, dropLate)+dropped(md, dropNoRun)+dropped(md, dropFull))
}

// Calls that arrive before their run (in an earlier batch, here under an intermediate
// span that itself comes later still) are held and added to the run when it arrives.
func TestRunCostEarlierBatches(t *testing.T) {
	c, _ := newTestConnector(t)
	clk := withClock(c)
	ctx := context.Background()
	trace := pcommon.TraceID{1}
	agentID, wrapID := pcommon.SpanID{0xa}, pcommon.SpanID{0xb}

	b1 := batchFrom("svc", 0)
	b1.call(agentID, 0.1, nil).SetTraceID(trace)
	b1.call(wrapID, 0.2, nil).SetTraceID(trace)
	require.NoError(t, c.ConsumeTraces(ctx, b1.td))
	clk.add(5 * time.Second)

	b2 := batchFrom("svc", 10)
	w := b2.span(ptrace.SpanKindInternal, agentID, time.Second, false, nil)
	w.SetSpanID(wrapID)
	w.SetTraceID(trace)
	require.NoError(t, c.ConsumeTraces(ctx, b2.td))
	clk.add(5 * time.Second)

	b3 := batchFrom("svc", 20)
	ag := b3.agent(pcommon.SpanID{}, "planner", nil)
	ag.SetSpanID(agentID)
	ag.SetTraceID(trace)
	// Another trace's span with the same span id is not this run.
	other := b3.call(agentID, 7, nil)
	other.SetTraceID(pcommon.TraceID{2})
	require.NoError(t, c.ConsumeTraces(ctx, b3.td))

	clk.add(c.cfg.AgentRunCost.Settle)
	md, _ := c.snapshot(ts(c))
	run := runCost(md, "planner")
	assert.Equal(t, uint64(1), run.count)
	assert.InDelta(t, 0.3, run.sum, 1e-12)
	assert.Len(t, c.runs.held, 1, "the other trace's call waits for its own run")
}

// Calls that arrive after their run: within settle they add to it; after it they are
// counted as late and the run's observation does not change.
func TestRunCostLaterBatches(t *testing.T) {
	c, _ := newTestConnector(t)
	clk := withClock(c)
	ctx := context.Background()
	agentID := pcommon.SpanID{0xa}

	b1 := batchFrom("svc", 0)
	b1.call(agentID, 0.01, nil)
	b1.agent(pcommon.SpanID{}, "planner", nil).SetSpanID(agentID)
	require.NoError(t, c.ConsumeTraces(ctx, b1.td))

	clk.add(c.cfg.AgentRunCost.Settle - time.Second)
	b2 := batchFrom("svc", 10)
	b2.call(agentID, 0.04, nil)
	require.NoError(t, c.ConsumeTraces(ctx, b2.td))

	clk.add(time.Second)
	md, _ := c.snapshot(ts(c))
	run := runCost(md, "planner")
	assert.Equal(t, uint64(1), run.count)
	assert.InDelta(t, 0.05, run.sum, 1e-12, "a call within settle adds to its run")

	clk.add(time.Second)
	b3 := batchFrom("svc", 20)
	b3.call(agentID, 1, nil)
	require.NoError(t, c.ConsumeTraces(ctx, b3.td))
	md, _ = c.snapshot(ts(c))
	run = runCost(md, "planner")
	assert.Equal(t, uint64(1), run.count)
	assert.InDelta(t, 0.05, run.sum, 1e-12)
	assert.Equal(t, 1.0, dropped(md, dropLate))
	assert.InDelta(t, 1.05, lookup(md, "llm.cost.usd", nil).sum, 1e-12, "a late call's cost still counts everywhere else")
}

// Calls whose run never comes are given up after maxRunWait (no_run); calls of no agent
// (their chain ends at a root span) are never held; past max_open_runs held entries,
// calls are counted as open_runs_full.
func TestRunCostBounds(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) { cfg.AgentRunCost.MaxOpenRuns = 2 })
	clk := withClock(c)
	ctx := context.Background()

	b := batchFrom("svc", 0)
	root := b.span(ptrace.SpanKindServer, pcommon.SpanID{}, time.Second, false, nil)
	b.call(root.SpanID(), 0.1, nil)        // no agent: not held
	b.call(pcommon.SpanID{}, 0.1, nil)     // root call: not held
	b.call(pcommon.SpanID{0xe1}, 0.1, nil) // held
	b.call(pcommon.SpanID{0xe1}, 0.1, nil) // held with it
	b.call(pcommon.SpanID{0xe2}, 0.1, nil) // held
	b.call(pcommon.SpanID{0xe3}, 0.1, nil) // no room
	require.NoError(t, c.ConsumeTraces(ctx, b.td))
	assert.Len(t, c.runs.held, 2)
	md, _ := c.snapshot(ts(c))
	assert.Equal(t, 1.0, dropped(md, dropFull))

	// The root of the held calls under 0xe2 arrives: no agent above it, let go.
	b = batchFrom("svc", 10)
	b.span(ptrace.SpanKindServer, pcommon.SpanID{}, time.Second, false, nil).SetSpanID(pcommon.SpanID{0xe2})
	require.NoError(t, c.ConsumeTraces(ctx, b.td))
	assert.Len(t, c.runs.held, 1)

	clk.add(maxRunWait)
	md, _ = c.snapshot(ts(c))
	assert.Equal(t, 2.0, dropped(md, dropNoRun), "two calls waited for a run that never came")
	assert.Empty(t, c.runs.held)

	// Runs past max_open_runs are observed at once rather than dropped.
	b = batchFrom("svc", 20)
	for i := 0; i < 4; i++ {
		ag := b.agent(pcommon.SpanID{}, "planner", nil)
		b.call(ag.SpanID(), 0.01, nil)
	}
	require.NoError(t, c.ConsumeTraces(ctx, b.td))
	assert.LessOrEqual(t, c.runs.runs.count, 2)
	md, _ = c.snapshot(ts(c))
	assert.Equal(t, uint64(2), runCost(md, "planner").count)
	clk.add(c.cfg.AgentRunCost.Settle)
	md, _ = c.snapshot(ts(c))
	assert.Equal(t, uint64(4), runCost(md, "planner").count)
	assert.InDelta(t, 0.04, runCost(md, "planner").sum, 1e-12)
	clk.add(maxRunWait)
	c.snapshot(ts(c))
	assert.Zero(t, c.runs.runs.count, "observed runs are forgotten after maxRunWait")
	assert.Empty(t, c.runs.runs.index)
}

// With settle 0 a run is observed at the end of its batch; with the agent group off
// there is no agent_run_cost series.
func TestRunCostSettleZeroAndDisabled(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) { cfg.AgentRunCost.Settle = 0 })
	withClock(c)
	b := batchFrom("svc", 0)
	ag := b.agent(pcommon.SpanID{}, "planner", nil)
	b.call(ag.SpanID(), 0.2, nil)
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(ts(c))
	assert.Equal(t, uint64(1), runCost(md, "planner").count)

	for _, mutate := range []func(*Config){
		func(cfg *Config) { cfg.AgentRunCost.Enabled = false },
		func(cfg *Config) { cfg.Agent.Enabled = false },
	} {
		c, _ := newTestConnector(t, mutate, func(cfg *Config) { cfg.AgentRunCost.Settle = 0 })
		withClock(c)
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
		md, _ := c.snapshot(ts(c))
		assert.False(t, lookup(md, "agent.run.cost.usd", nil).ok)
		assert.InDelta(t, 0.2, lookup(md, "llm.cost.usd", nil).sum, 1e-12)
	}
}

// At shutdown, runs still within settle are observed with the calls seen so far, and
// calls still held for a run are counted as no_run: a restart loses neither silently.
func TestRunCostAtShutdown(t *testing.T) {
	c, _ := newTestConnector(t)
	withClock(c)
	require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	b := batchFrom("svc", 0)
	ag := b.agent(pcommon.SpanID{}, "a", nil)
	b.call(ag.SpanID(), 0.5, nil)
	b.call(pcommon.SpanID{0xee}, 0.25, nil) // its run has not arrived
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	require.NoError(t, c.Shutdown(context.Background()))
	all := c.next.(*consumertest.MetricsSink).AllMetrics()
	require.NotEmpty(t, all)
	last := all[len(all)-1]
	r := runCost(last, "a")
	assert.Equal(t, uint64(1), r.count, "the open run is observed in the last flush")
	assert.InDelta(t, 0.5, r.sum, 1e-12)
	assert.Equal(t, 1.0, dropped(last, dropNoRun), "the held call is counted")
}
