package agentmetrics

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the tests")

// testClock is a clock the test moves.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time      { return c.t }
func (c *testClock) add(d time.Duration) { c.t = c.t.Add(d) }
func withClock(c *agentMetrics) *testClock {
	clk := &testClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	c.clock = clk.now
	return clk
}
func ts(c *agentMetrics) pcommon.Timestamp        { return pcommon.NewTimestampFromTime(c.clock()) }
func batchFrom(service string, first byte) *batch { b := newBatch(service); b.next = first; return b }

// only keeps the metrics named.
func only(md pmetric.Metrics, names ...string) pmetric.Metrics {
	out := pmetric.NewMetrics()
	md.CopyTo(out)
	out.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				for _, n := range names {
					if m.Name() == n {
						return false
					}
				}
				return true
			})
			return sm.Metrics().Len() == 0
		})
		return rm.ScopeMetrics().Len() == 0
	})
	return out
}

func compareGolden(t *testing.T, name string, md pmetric.Metrics) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".yaml")
	if *update {
		require.NoError(t, golden.WriteMetrics(t, path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md, pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreResourceMetricsOrder(), pmetrictest.IgnoreMetricsOrder()), name)
}

// call adds an LLM call under parent with cost and 100 input tokens, with attrs.
func (b *batch) call(parent pcommon.SpanID, cost float64, attrs map[string]any) ptrace.Span {
	return b.span(ptrace.SpanKindClient, parent, time.Second, false, llmAttrs("priced", "openai", "gpt-4o", cost, 100, 10, attrs))
}

func (b *batch) agent(parent pcommon.SpanID, name string, attrs map[string]any) ptrace.Span {
	a := map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name, "llm_cost.status": "skipped"}
	for k, v := range attrs {
		a[k] = v
	}
	return b.span(ptrace.SpanKindInternal, parent, 2*time.Second, false, a)
}

func dimsCfg(maxValues int, attrs ...string) func(*Config) {
	return func(cfg *Config) {
		cfg.CostDimensions.Attributes = attrs
		cfg.CostDimensions.MaxValues = maxValues
	}
}

var dimMetrics = []string{"llm.dimension.cost.usd", "llm.dimension.tokens"}

// TestDimensionsGolden: which values keep series of their own (the first max_values,
// then the top spenders with a factor two of hysteresis), folding into _other, the
// lookup order (span, invoke_agent ancestor, resource, else unknown), and that the
// series of a dimension always add up to llm.cost.usd, flush after flush.
func TestDimensionsGolden(t *testing.T) {
	c, _ := newTestConnector(t, dimsCfg(2, "tenant.id"))
	clk := withClock(c)
	ctx := context.Background()

	// Flush 1: acme (on the span) and globex (on the agent span above the call) take the
	// two places; initech (on the resource) is folded into _other; a call with no tenant
	// anywhere is unknown. A duplicate span of acme's call and a skipped aggregate add nothing.
	b := batchFrom("svc", 0)
	b.td.ResourceSpans().At(0).Resource().Attributes().PutStr("tenant.id", "initech")
	acme := b.call(pcommon.SpanID{}, 1, map[string]any{"tenant.id": "acme"})
	dup := llmAttrs("duplicate", "openai", "gpt-4o", 1, 100, 10, map[string]any{"tenant.id": "acme", "gen_ai.usage.cost": 1.0})
	b.span(ptrace.SpanKindClient, acme.SpanID(), time.Second, false, dup)
	ag := b.agent(pcommon.SpanID{}, "planner", map[string]any{"tenant.id": "globex", "gen_ai.usage.cost": 5.0})
	b.call(ag.SpanID(), 0.5, nil)
	b.call(pcommon.SpanID{}, 0.25, nil) // resource: initech
	require.NoError(t, c.ConsumeTraces(ctx, b.td))
	b = batchFrom("svc", 50)
	b.call(pcommon.SpanID{}, 0.125, nil) // no tenant anywhere
	require.NoError(t, c.ConsumeTraces(ctx, b.td))

	md, _ := c.snapshot(ts(c))
	compareGolden(t, "dimensions_flush1", only(md, dimMetrics...))
	dim := map[string]any{"dimension": "tenant.id"}
	val := func(md pmetric.Metrics, v string) found {
		return lookup(md, "llm.dimension.cost.usd", map[string]any{"dimension": "tenant.id", "dimension_value": v})
	}
	assert.Equal(t, 1.0, val(md, "acme").sum)
	assert.Equal(t, 0.5, val(md, "globex").sum)
	assert.Equal(t, 0.25, val(md, "_other").sum)
	assert.Equal(t, 0.125, val(md, "unknown").sum)
	assert.False(t, val(md, "initech").ok)
	assert.InDelta(t, lookup(md, "llm.cost.usd", nil).sum, lookup(md, "llm.dimension.cost.usd", dim).sum, 1e-12)
	assert.Equal(t, 4*100.0, lookup(md, "llm.dimension.tokens", map[string]any{"gen_ai.token.type": "input"}).sum, "the duplicate span's tokens are not counted")

	// Flush 2: initech spends $3 (still in _other: it has no series yet); at the flush it
	// has spent more than twice globex's $0.50, so it takes globex's place once this
	// flush is exported: globex's series is exported a last time, its total not moved.
	clk.add(time.Second)
	b = batchFrom("svc", 100)
	b.call(pcommon.SpanID{}, 3, map[string]any{"tenant.id": "initech"})
	require.NoError(t, c.ConsumeTraces(ctx, b.td))
	md, _ = c.snapshot(ts(c))
	compareGolden(t, "dimensions_flush2", only(md, dimMetrics...))
	assert.Equal(t, 1.0, val(md, "acme").sum)
	assert.Equal(t, 0.5, val(md, "globex").sum, "globex's last point, before it loses its series")
	assert.Equal(t, 0.25+3, val(md, "_other").sum)
	assert.InDelta(t, lookup(md, "llm.cost.usd", nil).sum, lookup(md, "llm.dimension.cost.usd", dim).sum, 1e-12)

	// Flush 3 and 4: globex spends $0.60 more ($1.10 in all) but not twice acme's $1:
	// the places stay as they are, flush after flush. globex's series is gone; its $0.50
	// stays out of _other (moving it would be new spend to increase() in Prometheus).
	clk.add(time.Second)
	b = batchFrom("svc", 150)
	b.call(pcommon.SpanID{}, 1, map[string]any{"tenant.id": "initech"})
	b.call(pcommon.SpanID{}, 0.6, map[string]any{"tenant.id": "globex"})
	require.NoError(t, c.ConsumeTraces(ctx, b.td))
	md, _ = c.snapshot(ts(c))
	compareGolden(t, "dimensions_flush3", only(md, dimMetrics...))
	assert.False(t, val(md, "globex").ok, "globex lost its series")
	assert.Equal(t, 1.0, val(md, "initech").sum, "initech's own series counts from its promotion")
	assert.Equal(t, 0.25+3+0.6, val(md, "_other").sum, "only calls made while folded")
	for i := 0; i < 3; i++ {
		clk.add(15 * time.Second)
		again, _ := c.snapshot(ts(c))
		compareGolden(t, "dimensions_flush3", only(again, dimMetrics...))
	}
	assert.InDelta(t, lookup(md, "llm.cost.usd", nil).sum, 0.5+lookup(md, "llm.dimension.cost.usd", dim).sum, 1e-12,
		"the series exported now, and globex's last point, add up to the cost")
}

// A dimension whose values are huge, binary or new on every call keeps at most
// max_values+2 series per service and tracks at most 2 x max_values values, each cut to
// max_label_length and valid UTF-8; the sum still equals the cost.
func TestDimensionValuesAreBounded(t *testing.T) {
	const maxValues = 5
	c, _ := newTestConnector(t, dimsCfg(maxValues, "enduser.id"))
	withClock(c)
	total := 0.0
	for round := 0; round < 20; round++ {
		b := batchFrom("svc", 0)
		for i := 0; i < 200; i++ {
			v := fmt.Sprintf("%d-%d-%s\xff\xfe", round, i, strings.Repeat("x", 10_000))
			b.call(pcommon.SpanID{}, 0.01, map[string]any{"enduser.id": v})
			total += 0.01
		}
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
		c.snapshot(ts(c))
	}
	d := c.dims[0]
	assert.LessOrEqual(t, len(d.values), 2*maxValues)
	for name := range d.values {
		assert.LessOrEqual(t, len(name), c.cfg.MaxLabelLength)
	}
	md, _ := c.snapshot(ts(c))
	checkMetrics(t, md, c.cfg.MaxLabelLength)
	n := 0
	ms := only(md, "llm.dimension.cost.usd").ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	n = ms.At(0).Sum().DataPoints().Len()
	assert.LessOrEqual(t, n, maxValues+2)
	assert.InDelta(t, total, lookup(md, "llm.dimension.cost.usd", nil).sum, 1e-9)
	assert.InDelta(t, total, lookup(md, "llm.cost.usd", nil).sum, 1e-9)
}

// A value that spends more than any other is found whatever the order of arrival, even
// among many one-off values that fill the candidates (Space-Saving).
func TestTopSpenderFoundAmongManyValues(t *testing.T) {
	c, _ := newTestConnector(t, dimsCfg(3, "tenant.id"))
	withClock(c)
	for round := 0; round < 10; round++ {
		b := batchFrom("svc", 0)
		for i := 0; i < 50; i++ {
			b.call(pcommon.SpanID{}, 0.001, map[string]any{"tenant.id": fmt.Sprintf("small-%d-%d", round, i)})
		}
		b.call(pcommon.SpanID{}, 1, map[string]any{"tenant.id": "big"})
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
		c.snapshot(ts(c))
	}
	md, _ := c.snapshot(ts(c))
	big := lookup(md, "llm.dimension.cost.usd", map[string]any{"dimension_value": "big"})
	require.True(t, big.ok, "the top spender has a series of its own")
	assert.Greater(t, big.sum, 5.0)
}

// Past maxServicesPerValue services, a value's calls go to the metrics' overflow series:
// still counted, never a series per service beyond the bound.
func TestDimensionServicesAreBounded(t *testing.T) {
	c, _ := newTestConnector(t, dimsCfg(2, "tenant.id"), func(cfg *Config) { cfg.MaxSeries = 100_000 })
	withClock(c)
	for s := 0; s < maxServicesPerValue+20; s++ {
		b := batchFrom(fmt.Sprintf("svc-%d", s), 0)
		b.call(pcommon.SpanID{}, 0.5, map[string]any{"tenant.id": "acme"})
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	}
	md, _ := c.snapshot(ts(c))
	assert.InDelta(t, 0.5*float64(maxServicesPerValue+20), lookup(md, "llm.dimension.cost.usd", nil).sum, 1e-9)
	assert.InDelta(t, 0.5*20, lookup(md, "llm.dimension.cost.usd", map[string]any{overflowAttr: true}).sum, 1e-9)
	assert.Len(t, c.dims[0].values["acme"].bySvc, maxServicesPerValue)
}
