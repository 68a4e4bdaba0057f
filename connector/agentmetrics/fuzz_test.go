package agentmetrics

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/procode-ai/otelcol-procode/connector/agentmetrics/internal/metadata"
)

// FuzzConsumeTraces feeds batches of LLM, agent, tool, HTTP and database spans with
// arbitrary attribute values (the app may set llm_cost.* itself: llm_cost leaves a
// span that already carries a status alone) through the connector twice, then renders
// the totals. Properties: no panic; every counter and histogram sum is finite and
// >= 0 (no overflow into a negative total); every label value is valid UTF-8 within
// max_label_length, or one of the connector's own bounded values.
func FuzzConsumeTraces(f *testing.F) {
	f.Add("priced", "openai", "gpt-4o", "chat", 0.0042, "1200", 300.0, int64(200), "planner", "search", "GET", int64(200), "/api/chat", "postgresql", "SELECT", int64(5_000_000))
	f.Add("provided", "", "", "", math.NaN(), "-5", math.Inf(1), int64(-1), "", "", "BREW", int64(99999), "", "", "", int64(-1))
	f.Add("priced", "p", "m", "chat", 1e15, "9223372036854775807", 9e18, int64(math.MaxInt64), "a\xffb", "t", "get", int64(-200), string(make([]byte, 300)), "db", "op", int64(math.MaxInt64))
	f.Add("unpriced", "anthropic", "claude", "invoke_agent", 0.0, "0x10", 1.5, int64(0), "agent", "", "POST", int64(503), "/x", "", "", int64(1))

	f.Fuzz(func(t *testing.T, status, provider, model, op string, cost float64, input string, output float64, cached int64,
		agent, tool, method string, code int64, route, dbSystem, dbOp string, durNs int64,
	) {
		cfg := createDefaultConfig().(*Config)
		// Cost dimensions read from the call (tool), its agent span (agent) and the
		// resource (model), two values kept; a budget on one of them; runs observed at once.
		cfg.CostDimensions = CostDimensionsConfig{Attributes: []string{"app.feature", "tenant.id", "deployment.environment.name"}, MaxValues: 2}
		cfg.Budgets = []BudgetConfig{{Name: "b", LimitUSD: 1, Period: "day", Selector: BudgetSelector{Dimension: "tenant.id", Value: agent}}}
		cfg.AgentRunCost.Settle = 0
		c := newConnector(connectortest.NewNopSettings(metadata.Type), cfg, new(consumertest.MetricsSink))
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", route+provider)
		rs.Resource().Attributes().PutStr("deployment.environment.name", model)
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		start := pcommon.Timestamp(1_700_000_000_000_000_000)
		add := func(kind ptrace.SpanKind, id byte, parent byte, fill func(pcommon.Map)) {
			s := spans.AppendEmpty()
			s.SetSpanID(pcommon.SpanID{id})
			s.SetParentSpanID(pcommon.SpanID{parent})
			s.SetKind(kind)
			s.SetStartTimestamp(start)
			s.SetEndTimestamp(pcommon.Timestamp(int64(start) + durNs))
			if code%3 == 0 {
				s.Status().SetCode(ptrace.StatusCodeError)
			}
			fill(s.Attributes())
		}
		add(ptrace.SpanKindInternal, 1, 0, func(m pcommon.Map) {
			m.PutStr("gen_ai.operation.name", "invoke_agent")
			m.PutStr("gen_ai.agent.name", agent)
			m.PutStr("tenant.id", agent)
		})
		add(ptrace.SpanKindClient, 2, 1, func(m pcommon.Map) {
			m.PutStr("llm_cost.status", status)
			m.PutStr("llm_cost.model", model)
			m.PutStr("gen_ai.provider.name", provider)
			m.PutStr("gen_ai.operation.name", op)
			m.PutDouble("gen_ai.usage.cost", cost)
			m.PutStr("gen_ai.usage.input_tokens", input)
			m.PutDouble("gen_ai.usage.output_tokens", output)
			m.PutInt("gen_ai.usage.cache_read.input_tokens", cached)
			m.PutInt("gen_ai.usage.reasoning.output_tokens", cached)
			m.PutStr("app.feature", tool)
		})
		add(ptrace.SpanKindInternal, 3, 1, func(m pcommon.Map) {
			m.PutStr("gen_ai.operation.name", "execute_tool")
			m.PutStr("gen_ai.tool.name", tool)
			m.PutStr("error.type", dbOp)
		})
		add(ptrace.SpanKindServer, 4, 0, func(m pcommon.Map) {
			m.PutStr("http.request.method", method)
			m.PutInt("http.response.status_code", code)
			m.PutStr("http.route", route)
		})
		add(ptrace.SpanKindClient, 5, 4, func(m pcommon.Map) {
			m.PutStr("db.system.name", dbSystem)
			m.PutStr("db.operation.name", dbOp)
		})
		for i := 0; i < 2; i++ { // twice: totals add up across batches
			if err := c.ConsumeTraces(context.Background(), td); err != nil {
				t.Fatal(err)
			}
		}
		md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Unix(1_800_000_000, 0)))
		checkMetrics(t, md, c.cfg.MaxLabelLength)
		// Each dimension's series add up to the cost; so does the budget of all of it.
		total := lookup(md, "llm.cost.usd", nil).sum
		for _, d := range cfg.CostDimensions.Attributes {
			if got := lookup(md, "llm.dimension.cost.usd", map[string]any{"dimension": d}).sum; math.Abs(got-total) > 1e-9*math.Max(1, total) {
				t.Fatalf("dimension %s adds up to %v, llm.cost.usd to %v", d, got, total)
			}
		}
		agents := uint64(2) // the agent span, in two batches
		if op == "invoke_agent" {
			agents = 4 // and the call span, when the fuzzer names it an agent
		}
		if runs := lookup(md, "agent.run.cost.usd", nil); runs.count != agents {
			t.Fatalf("two batches make %d run observations, want %d", runs.count, agents)
		}
	})
}

func checkMetrics(t *testing.T, md pmetric.Metrics, maxLabel int) {
	t.Helper()
	checkAttrs := func(name string, attrs pcommon.Map) {
		for k, v := range attrs.All() {
			s := v.AsString()
			if !utf8.ValidString(s) {
				t.Fatalf("%s: label %s=%q is not valid UTF-8", name, k, s)
			}
			if len(s) > maxLabel {
				t.Fatalf("%s: label %s is %d bytes, more than max_label_length %d", name, k, len(s), maxLabel)
			}
		}
	}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		checkAttrs("resource", rms.At(i).Resource().Attributes())
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for p := 0; p < m.Sum().DataPoints().Len(); p++ {
						dp := m.Sum().DataPoints().At(p)
						v := dp.DoubleValue()
						if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
							v = float64(dp.IntValue())
						}
						if bad(v) {
							t.Fatalf("%s = %v: a counter must stay a finite total >= 0", m.Name(), v)
						}
						checkAttrs(m.Name(), dp.Attributes())
					}
				case pmetric.MetricTypeHistogram:
					for p := 0; p < m.Histogram().DataPoints().Len(); p++ {
						dp := m.Histogram().DataPoints().At(p)
						if bad(dp.Sum()) {
							t.Fatalf("%s sum = %v", m.Name(), dp.Sum())
						}
						checkAttrs(m.Name(), dp.Attributes())
					}
				}
			}
		}
	}
}

// What FuzzConsumeTraces found: a span that claims 9e18 tokens (with llm_cost.status
// set by the app, which llm_cost then leaves alone) overflowed llm.tokens into a negative
// total, and a label value that is not UTF-8 made the Prometheus exporter drop the series.
func TestHugeTokenCountsAndInvalidUTF8(t *testing.T) {
	c := newConnector(connectortest.NewNopSettings(metadata.Type), createDefaultConfig().(*Config), new(consumertest.MetricsSink))
	b := newBatch("svc\xff")
	for i := 0; i < 2; i++ {
		b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false, llmAttrs("priced", "open\xffai", "gpt-4o", 0.01, 9e18, 10, nil))
	}
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false, llmAttrs("priced", "open\xffai", "gpt-4o", 0.01, 1<<40, 10, nil))
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	checkMetrics(t, md, c.cfg.MaxLabelLength)
	in := lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "input", "gen_ai.provider.name": "open\uFFFDai", "service.name": "svc\uFFFD"})
	assert.Equal(t, float64(1<<40), in.sum, "the two implausible counts are left out, the plausible one counted")
}

// Label values that differ only in bytes that are not UTF-8 are one label set once
// repaired, so they are one series: four tool names once became four data points with
// the same labels (a duplicate stream), and two services two resources of one name.
func TestInvalidUTF8LabelsShareOneSeries(t *testing.T) {
	c, _ := newTestConnector(t)
	for _, svc := range []string{"svc\xff", "svc\xfe"} {
		b := newBatch(svc)
		for _, tool := range []string{"t\xff", "t\xfe", "t\x80", "t\xc0\xc1"} {
			b.span(ptrace.SpanKindInternal, pcommon.SpanID{}, time.Second, false,
				map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool})
			b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false,
				llmAttrs("priced", "openai", "gpt-4o", 0.5, 10, 10, map[string]any{"gen_ai.agent.name": "a" + tool[1:]}))
		}
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	}
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	checkMetrics(t, md, c.cfg.MaxLabelLength)
	require.Equal(t, 1, md.ResourceMetrics().Len(), "one service")
	points := 0
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == "agent.tool.calls" {
			points = ms.At(i).Sum().DataPoints().Len()
		}
	}
	assert.Equal(t, 1, points)
	calls := lookup(md, "agent.tool.calls", map[string]any{"gen_ai.tool.name": "t\uFFFD", "service.name": "svc\uFFFD"})
	assert.InDelta(t, 8, calls.sum, 0)
	costPoints := 0
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == "llm.cost.usd" {
			costPoints = ms.At(i).Sum().DataPoints().Len()
		}
	}
	assert.Equal(t, 1, costPoints, "one agent")
	cost := lookup(md, "llm.cost.usd", map[string]any{"gen_ai.agent.name": "a\uFFFD"})
	assert.InDelta(t, 8*0.5, cost.sum, 1e-9)
}

// The per-group cache of cost series by agent remembers only series of their own: past
// max_series, agents share the overflow series and are not remembered one by one
// (2,000 models times 2,000 agents once held 4 million entries).
func TestCostSeriesByAgentIsBounded(t *testing.T) {
	const maxSeries = 20
	c, _ := newTestConnector(t, func(cfg *Config) { cfg.MaxSeries = maxSeries })
	for m := 0; m < 10; m++ {
		b := newBatch("svc")
		for a := 0; a < 50; a++ {
			b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false, map[string]any{
				"llm_cost.status": "priced", "gen_ai.provider.name": "openai", "llm_cost.model": fmt.Sprintf("model-%d", m),
				"gen_ai.operation.name": "chat", "gen_ai.usage.cost": 0.01, "gen_ai.agent.name": fmt.Sprintf("agent-%d", a)})
		}
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	}
	entries := 0
	for _, g := range c.groups[gLLM].groups {
		entries += len(g.byAgent)
	}
	assert.LessOrEqual(t, len(c.metrics[mLLMCost].series), maxSeries)
	assert.LessOrEqual(t, entries, maxSeries, "one entry per cost series at most")
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	total := lookup(md, "llm.cost.usd", map[string]any{})
	assert.InDelta(t, 500*0.01, total.sum, 1e-9, "every span's cost is counted, in its own series or the overflow")
}

// TestImplausibleCostNotCounted: a span that claims more than 1000 USD for one call
// (with llm_cost.status set by the client, so that llm_cost left it alone) adds nothing
// to llm.cost.usd; its request is still counted.
func TestImplausibleCostNotCounted(t *testing.T) {
	c, _ := newTestConnector(t)
	b := newBatch("svc")
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false, llmAttrs("priced", "openai", "gpt-4o", 1e15, 10, 10, nil))
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false, llmAttrs("priced", "openai", "gpt-4o", 0.25, 10, 10, nil))
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	cost := lookup(md, "llm.cost.usd", map[string]any{})
	assert.InDelta(t, 0.25, cost.sum, 1e-12)
	reqs := lookup(md, "llm.requests", map[string]any{})
	assert.InDelta(t, 2, reqs.sum, 0)
}

// TestImplausibleDurationsNotObserved: a span without a start time, or one lasting more
// than a day, is counted but has no duration (it once went into the histograms as a
// 56-year call).
func TestImplausibleDurationsNotObserved(t *testing.T) {
	c, _ := newTestConnector(t)
	b := newBatch("svc")
	b.span(ptrace.SpanKindServer, pcommon.SpanID{}, 2*time.Second, false, map[string]any{"http.request.method": "GET", "http.route": "/a"})
	noStart := b.span(ptrace.SpanKindServer, pcommon.SpanID{}, time.Second, false, map[string]any{"http.request.method": "GET", "http.route": "/a"})
	noStart.SetStartTimestamp(0)
	b.span(ptrace.SpanKindServer, pcommon.SpanID{}, 48*time.Hour, false, map[string]any{"http.request.method": "GET", "http.route": "/a"})
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	reqs := lookup(md, "http.server.requests", map[string]any{"http.route": "/a"})
	dur := lookup(md, "http.server.request.duration", map[string]any{"http.route": "/a"})
	assert.InDelta(t, 3, reqs.sum, 0, "every request is counted")
	assert.EqualValues(t, 1, dur.count, "only the plausible span has a duration")
	assert.InDelta(t, 2, dur.hist.Sum(), 1e-9)
}
