package agentmetrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procode-ai/otelcol-procode/connector/agentmetrics/internal/metadata"
)

// batch builds spans the way apps and llm_cost leave them.
type batch struct {
	td    ptrace.Traces
	spans ptrace.SpanSlice
	t0    time.Time
	next  byte
}

func newBatch(service string) *batch {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	if service != "" {
		rs.Resource().Attributes().PutStr("service.name", service)
	}
	return &batch{td: td, spans: rs.ScopeSpans().AppendEmpty().Spans(), t0: time.Unix(1_700_000_000, 0)}
}

func (b *batch) span(kind ptrace.SpanKind, parent pcommon.SpanID, d time.Duration, errored bool, attrs map[string]any) ptrace.Span {
	s := b.spans.AppendEmpty()
	b.next++
	s.SetSpanID(pcommon.SpanID{b.next})
	s.SetParentSpanID(parent)
	s.SetKind(kind)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(b.t0))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(b.t0.Add(d)))
	if errored {
		s.Status().SetCode(ptrace.StatusCodeError)
	}
	_ = s.Attributes().FromRaw(attrs)
	return s
}

func llmAttrs(status, provider, model string, cost float64, in, out int64, extra map[string]any) map[string]any {
	a := map[string]any{"llm_cost.status": status, "gen_ai.provider.name": provider, "llm_cost.model": model,
		"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": in, "gen_ai.usage.output_tokens": out}
	if status == "priced" || status == "provided" {
		a["gen_ai.usage.cost"] = cost
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func newTestConnector(t *testing.T, mutate ...func(*Config)) (*agentMetrics, *observer.ObservedLogs) {
	cfg := createDefaultConfig().(*Config)
	for _, m := range mutate {
		m(cfg)
	}
	core, logs := observer.New(zap.WarnLevel)
	set := connectortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	return newConnector(set, cfg, new(consumertest.MetricsSink)), logs
}

// point finds the data point of metric name whose attributes include all of want.
type found struct {
	sum   float64
	count uint64
	hist  pmetric.HistogramDataPoint
	start pcommon.Timestamp
	attrs map[string]any
	ok    bool
}

func lookup(md pmetric.Metrics, name string, want map[string]any) found {
	var f found
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if m.Name() != name {
					continue
				}
				match := func(attrs pcommon.Map) bool {
					for key, v := range want {
						got, ok := attrs.Get(key)
						if !ok || got.AsRaw() != v {
							return false
						}
					}
					return true
				}
				switch m.Type() {
				case pmetric.MetricTypeSum:
					dps := m.Sum().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						if dp := dps.At(p); match(dp.Attributes()) {
							if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
								f.sum += float64(dp.IntValue())
							} else {
								f.sum += dp.DoubleValue()
							}
							f.start, f.attrs, f.ok = dp.StartTimestamp(), dp.Attributes().AsRaw(), true
						}
					}
				case pmetric.MetricTypeGauge:
					dps := m.Gauge().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						if dp := dps.At(p); match(dp.Attributes()) {
							f.sum += dp.DoubleValue()
							f.start, f.attrs, f.ok = dp.StartTimestamp(), dp.Attributes().AsRaw(), true
						}
					}
				case pmetric.MetricTypeHistogram:
					dps := m.Histogram().DataPoints()
					for p := 0; p < dps.Len(); p++ {
						if dp := dps.At(p); match(dp.Attributes()) {
							f.count += dp.Count()
							f.sum += dp.Sum()
							f.hist, f.attrs, f.ok = dp, dp.Attributes().AsRaw(), true
						}
					}
				}
			}
		}
	}
	return f
}

func agentTrace(b *batch) {
	root := b.span(ptrace.SpanKindServer, pcommon.SpanID{}, 1800*time.Millisecond, false, map[string]any{
		"http.request.method": "POST", "http.route": "/api/chat", "http.response.status_code": int64(200)})
	agent := b.span(ptrace.SpanKindInternal, root.SpanID(), 1700*time.Millisecond, false, map[string]any{
		"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support_agent",
		// Agent spans repeat their children's usage: never counted as LLM calls.
		"llm_cost.status": "skipped", "gen_ai.usage.input_tokens": int64(3000)})
	// The agent name is only on the parent: the cost is attributed to it.
	b.span(ptrace.SpanKindClient, agent.SpanID(), 500*time.Millisecond, false,
		llmAttrs("priced", "openai", "gpt-4o", 0.0125, 1000, 1000, map[string]any{"gen_ai.usage.cache_read.input_tokens": int64(400)}))
	b.span(ptrace.SpanKindClient, agent.SpanID(), 300*time.Millisecond, true,
		llmAttrs("priced", "anthropic", "claude-sonnet-4-5", 0.018, 1000, 1000, map[string]any{"gen_ai.agent.name": "own_agent"}))
	b.span(ptrace.SpanKindClient, agent.SpanID(), 100*time.Millisecond, false, llmAttrs("unpriced", "acme", "acme-llm", 0, 10, 10, nil))
	b.span(ptrace.SpanKindClient, agent.SpanID(), 100*time.Millisecond, false,
		map[string]any{"llm_cost.status": "invalid", "gen_ai.provider.name": "openai", "llm_cost.model": "gpt-4o-mini", "gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": int64(-5)})
	b.span(ptrace.SpanKindInternal, agent.SpanID(), 40*time.Millisecond, false, map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "web_search"})
	b.span(ptrace.SpanKindInternal, agent.SpanID(), 40*time.Millisecond, true, map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "web_search"})
	b.span(ptrace.SpanKindClient, root.SpanID(), 3*time.Millisecond, false, map[string]any{"db.system.name": "postgresql", "db.operation.name": "SELECT"})
	b.span(ptrace.SpanKindClient, root.SpanID(), 7*time.Millisecond, true, map[string]any{"db.system": "postgresql", "db.operation": "SELECT"})
	// A failure marked only with error.type, status left Unset.
	b.span(ptrace.SpanKindClient, root.SpanID(), 2*time.Millisecond, false, map[string]any{"db.system.name": "mysql", "db.operation.name": "INSERT", "error.type": int64(1062)})
}

func TestOneBatch(t *testing.T) {
	c, _ := newTestConnector(t)
	b := newBatch("procode-agent")
	agentTrace(b)
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, n := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	require.Positive(t, n)

	svc := "procode-agent"
	// LLM calls: skipped agent spans are not calls; invalid ones are calls without cost or tokens.
	assert.Equal(t, 1.0, lookup(md, "llm.requests", map[string]any{"service.name": svc, "gen_ai.provider.name": "openai", "llm_cost.model": "gpt-4o", "outcome": "ok", "gen_ai.operation.name": "chat"}).sum)
	assert.Equal(t, 1.0, lookup(md, "llm.requests", map[string]any{"llm_cost.model": "claude-sonnet-4-5", "outcome": "error"}).sum)
	assert.Equal(t, 4.0, lookup(md, "llm.requests", map[string]any{"service.name": svc}).sum)
	assert.Equal(t, uint64(4), lookup(md, "llm.request.duration", map[string]any{"service.name": svc}).count)
	assert.InDelta(t, 1.0, lookup(md, "llm.request.duration", map[string]any{"service.name": svc}).sum, 1e-9)

	assert.InDelta(t, 0.0125, lookup(md, "llm.cost.usd", map[string]any{"llm_cost.model": "gpt-4o", "gen_ai.agent.name": "support_agent"}).sum, 1e-12, "cost under the parent agent")
	assert.InDelta(t, 0.018, lookup(md, "llm.cost.usd", map[string]any{"llm_cost.model": "claude-sonnet-4-5", "gen_ai.agent.name": "own_agent"}).sum, 1e-12)
	assert.InDelta(t, 0.0305, lookup(md, "llm.cost.usd", nil).sum, 1e-12)

	assert.Equal(t, 2010.0, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "input"}).sum, "priced and unpriced calls; invalid and skipped do not count")
	assert.False(t, lookup(md, "llm.tokens", map[string]any{"llm_cost.model": "gpt-4o-mini"}).ok, "invalid usage is never counted")
	assert.Equal(t, 1.0, lookup(md, "llm.requests", map[string]any{"llm_cost.model": "gpt-4o-mini"}).sum, "but the invalid call is")
	assert.Equal(t, 400.0, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "cache_read", "llm_cost.model": "gpt-4o"}).sum)
	assert.Equal(t, 10.0, lookup(md, "llm.tokens", map[string]any{"llm_cost.model": "acme-llm", "gen_ai.token.type": "output"}).sum)
	assert.Equal(t, 1.0, lookup(md, "llm.unpriced.requests", map[string]any{"llm_cost.model": "acme-llm", "gen_ai.provider.name": "acme"}).sum)

	assert.Equal(t, 1.0, lookup(md, "agent.invocations", map[string]any{"gen_ai.agent.name": "support_agent", "outcome": "ok"}).sum)
	assert.Equal(t, uint64(1), lookup(md, "agent.duration", map[string]any{"gen_ai.agent.name": "support_agent"}).count)
	assert.Equal(t, 1.0, lookup(md, "agent.tool.calls", map[string]any{"gen_ai.tool.name": "web_search", "outcome": "ok"}).sum)
	assert.Equal(t, 1.0, lookup(md, "agent.tool.calls", map[string]any{"gen_ai.tool.name": "web_search", "outcome": "error"}).sum)

	assert.Equal(t, 1.0, lookup(md, "http.server.requests", map[string]any{"http.request.method": "POST", "http.route": "/api/chat", "http.status_class": "2xx"}).sum)
	h := lookup(md, "http.server.request.duration", map[string]any{"http.route": "/api/chat"})
	assert.Equal(t, uint64(1), h.count)
	assert.InDelta(t, 1.8, h.sum, 1e-9)
	// 1.8s falls in (1, 2.5]: bucket index 10 of the HTTP boundaries.
	assert.Equal(t, uint64(1), h.hist.BucketCounts().At(10))

	db := lookup(md, "db.client.operation.duration", map[string]any{"db.system.name": "postgresql", "db.operation.name": "SELECT"})
	assert.Equal(t, uint64(2), db.count, "new and deprecated attribute names count together")
	assert.Equal(t, 1.0, lookup(md, "db.client.errors", map[string]any{"db.system.name": "postgresql"}).sum)
	assert.Equal(t, 1.0, lookup(md, "db.client.errors", map[string]any{"db.system.name": "mysql", "db.operation.name": "INSERT"}).sum, "error.type marks a failure")

	// Every point carries service.name, and the resource does too.
	assert.Equal(t, svc, md.ResourceMetrics().At(0).Resource().Attributes().AsRaw()["service.name"])
}

// llm_requests_total counts calls, not spans: a duplicate span of a call (the same call
// described by two layers, llm_cost's status duplicate) adds no request, tokens or
// cost, a pending or aggregate span (skipped) none either, and a call without token
// counts (no_usage) is one request without tokens or cost.
func TestCallsNotSpansAreCounted(t *testing.T) {
	c, _ := newTestConnector(t)
	b := newBatch("svc")
	priced := b.span(ptrace.SpanKindClient, pcommon.SpanID{}, 200*time.Millisecond, false,
		llmAttrs("priced", "anthropic", "claude-sonnet-4-5", 0.0105, 5050, 300, nil))
	dup := llmAttrs("priced", "anthropic", "claude-sonnet-4-5", 0.0105, 5050, 300, nil)
	dup["llm_cost.status"], dup["llm_cost.duplicate_of"] = "duplicate", priced.SpanID().String()
	delete(dup, "gen_ai.usage.cost")
	b.span(ptrace.SpanKindClient, priced.SpanID(), 200*time.Millisecond, false, dup)
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, 0, false, map[string]any{"llm_cost.status": "skipped",
		"gen_ai.operation.name": "chat", "llm_cost.model": "gpt-4o", "logfire.span_type": "pending_span"})
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, 100*time.Millisecond, false, map[string]any{"llm_cost.status": "no_usage",
		"gen_ai.provider.name": "openai", "llm_cost.model": "gpt-4o-mini", "gen_ai.operation.name": "chat"})
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	assert.Equal(t, 2.0, lookup(md, "llm.requests", nil).sum, "one priced call and one without usage")
	assert.Equal(t, 1.0, lookup(md, "llm.requests", map[string]any{"llm_cost.model": "claude-sonnet-4-5"}).sum)
	assert.Equal(t, 1.0, lookup(md, "llm.requests", map[string]any{"llm_cost.model": "gpt-4o-mini"}).sum)
	assert.Equal(t, uint64(2), lookup(md, "llm.request.duration", nil).count)
	assert.InDelta(t, 0.0105, lookup(md, "llm.cost.usd", nil).sum, 1e-12)
	assert.Equal(t, 5050.0, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "input"}).sum)
	assert.False(t, lookup(md, "llm.tokens", map[string]any{"llm_cost.model": "gpt-4o-mini"}).ok)
	assert.False(t, lookup(md, "llm.unpriced.requests", nil).ok, "no_usage is not unpriced")
}

func TestCumulativeAcrossBatches(t *testing.T) {
	c, _ := newTestConnector(t)
	var first pcommon.Timestamp
	for round := 1; round <= 5; round++ {
		b := newBatch("svc")
		agentTrace(b)
		require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
		md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
		r := lookup(md, "llm.requests", map[string]any{"llm_cost.model": "gpt-4o", "outcome": "ok"})
		assert.Equal(t, float64(round), r.sum, "round %d", round)
		assert.InDelta(t, 0.0305*float64(round), lookup(md, "llm.cost.usd", nil).sum, 1e-9)
		if round == 1 {
			first = r.start
		}
		assert.Equal(t, first, r.start, "the start time of a cumulative series never moves")
		m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
		assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality())
		assert.True(t, m.Sum().IsMonotonic())
	}
}

func TestLabelsAreBounded(t *testing.T) {
	c, logs := newTestConnector(t, func(cfg *Config) { cfg.MaxSeries = 3 })
	b := newBatch(strings.Repeat("s", 200))
	for i := 0; i < 6; i++ {
		b.span(ptrace.SpanKindInternal, pcommon.SpanID{}, time.Second, false,
			map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": string(rune('a'+i)) + strings.Repeat("t", 100)})
	}
	b.span(ptrace.SpanKindServer, pcommon.SpanID{}, time.Second, false, map[string]any{"http.request.method": "BREW", "http.route": "/pot", "http.response.status_code": int64(418)})
	b.span(ptrace.SpanKindServer, pcommon.SpanID{}, time.Second, false, map[string]any{"http.method": "get", "http.status_code": int64(999)})
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))

	tools := lookup(md, "agent.tool.calls", nil)
	assert.Equal(t, 6.0, tools.sum, "every call is counted, in its own series or the overflow one")
	over := lookup(md, "agent.tool.calls", map[string]any{overflowAttr: true})
	assert.Equal(t, 3.0, over.sum, "three label sets past max_series fold into one series")
	assert.Equal(t, 1, logs.FilterMessageSnippet("max_series").Len(), "said once")

	// Every label value is capped at max_label_length (64) bytes.
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		for _, v := range rms.At(i).Resource().Attributes().AsRaw() {
			assert.LessOrEqual(t, len(v.(string)), 64)
		}
	}
	assert.Equal(t, 1.0, lookup(md, "http.server.requests", map[string]any{"http.request.method": "_OTHER", "http.status_class": "4xx", "http.route": "/pot"}).sum)
	assert.Equal(t, 1.0, lookup(md, "http.server.requests", map[string]any{"http.request.method": "_OTHER", "http.status_class": "unknown", "http.route": "unknown"}).sum,
		"methods outside HTTP's set, codes outside 100-599 and missing routes never become free-text labels")
}

func TestMissingServiceAndBadValues(t *testing.T) {
	c, _ := newTestConnector(t)
	b := newBatch("")
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, time.Second, false, map[string]any{
		"llm_cost.status": "priced", "gen_ai.usage.cost": "NaN", "gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": 3.5})
	b.span(ptrace.SpanKindClient, pcommon.SpanID{}, -time.Second, false, map[string]any{"llm_cost.status": "provided", "gen_ai.usage.cost": -1.0, "llm_cost.model": "backwards"})
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	assert.Equal(t, 1.0, lookup(md, "llm.requests", map[string]any{"service.name": "unknown", "gen_ai.provider.name": "unknown", "llm_cost.model": "unknown"}).sum)
	assert.False(t, lookup(md, "llm.cost.usd", nil).ok, "NaN and negative costs are never added")
	assert.Equal(t, 12.0, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "input"}).sum, "numeric strings count")
	assert.False(t, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "output"}).ok, "fractional token counts do not")
	back := lookup(md, "llm.request.duration", map[string]any{"llm_cost.model": "backwards"})
	assert.Equal(t, uint64(1), back.count)
	assert.Equal(t, 0.0, back.sum, "an end before the start counts as zero")
}

func TestGroupsCanBeDisabled(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) { cfg.HTTP.Enabled, cfg.LLM.Enabled = false, false })
	b := newBatch("svc")
	agentTrace(b)
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	assert.False(t, lookup(md, "http.server.requests", nil).ok)
	assert.False(t, lookup(md, "llm.requests", nil).ok)
	assert.True(t, lookup(md, "agent.invocations", nil).ok)
	assert.True(t, lookup(md, "db.client.operation.duration", nil).ok)
}

func TestFlushLoopAndShutdown(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = 20 * time.Millisecond
	sink := new(consumertest.MetricsSink)
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))

	assert.Never(t, func() bool { return sink.DataPointCount() > 0 }, 100*time.Millisecond, 10*time.Millisecond, "nothing to flush yet")
	b := newBatch("svc")
	agentTrace(b)
	require.NoError(t, conn.ConsumeTraces(context.Background(), b.td))
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 5*time.Second, 10*time.Millisecond)

	sink.Reset()
	require.NoError(t, conn.Shutdown(context.Background()))
	require.Len(t, sink.AllMetrics(), 1, "shutdown flushes the totals once more")
	require.NoError(t, conn.Shutdown(context.Background()), "a second shutdown is harmless")
}
