package agentmetrics

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Period bounds in UTC for months of 28, 29, 30 and 31 days, the year's end and the hour.
func TestEdgePeriodBounds(t *testing.T) {
	u := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	for _, tc := range []struct {
		p          string
		at         time.Time
		start, end time.Time
	}{
		{"month", u(2026, 2, 28, 23, 59), u(2026, 2, 1, 0, 0), u(2026, 3, 1, 0, 0)},
		{"month", u(2028, 2, 29, 12, 0), u(2028, 2, 1, 0, 0), u(2028, 3, 1, 0, 0)},
		{"month", u(2026, 4, 30, 23, 59), u(2026, 4, 1, 0, 0), u(2026, 5, 1, 0, 0)},
		{"month", u(2026, 1, 31, 23, 59), u(2026, 1, 1, 0, 0), u(2026, 2, 1, 0, 0)},
		{"month", u(2026, 12, 31, 23, 59), u(2026, 12, 1, 0, 0), u(2027, 1, 1, 0, 0)},
		{"day", u(2026, 12, 31, 23, 59), u(2026, 12, 31, 0, 0), u(2027, 1, 1, 0, 0)},
		{"hour", u(2026, 3, 10, 10, 59), u(2026, 3, 10, 10, 0), u(2026, 3, 10, 11, 0)},
		// A local time that is not UTC: the UTC period.
		{"day", time.Date(2026, 3, 10, 1, 0, 0, 0, time.FixedZone("X", 5*3600)), u(2026, 3, 9, 0, 0), u(2026, 3, 10, 0, 0)},
		{"hour", time.Date(2026, 3, 10, 1, 30, 0, 0, time.FixedZone("Y", 5*3600+1800)), u(2026, 3, 9, 20, 0), u(2026, 3, 9, 21, 0)},
	} {
		s, e := periodBounds(tc.p, tc.at)
		assert.Equal(t, tc.start.UnixNano(), s, "%s %s", tc.p, tc.at)
		assert.Equal(t, tc.end.UnixNano(), e, "%s %s", tc.p, tc.at)
	}
}

// memStorage is a storage client holding one preset value.
type memStorage struct {
	storage.Client
	data   []byte
	getErr error
}

func (m *memStorage) Get(context.Context, string) ([]byte, error) { return m.data, m.getErr }
func (m *memStorage) Set(_ context.Context, _ string, v []byte) error {
	m.data = v
	return nil
}
func (*memStorage) Close(context.Context) error { return nil }

type memExt struct {
	component.StartFunc
	component.ShutdownFunc
	client *memStorage
}

func (e memExt) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return e.client, nil
}

// A stored value that is corrupt, of another version, or out of range does not stop the
// start: the budgets start from zero and the connector says so.
func TestEdgeCorruptStoredBudgets(t *testing.T) {
	for name, data := range map[string]string{
		"not json":     "\x00\xffgarbage",
		"truncated":    `{"version":1,"budgets":[{"name":"all-daily"`,
		"version 2":    `{"version":2,"budgets":[]}`,
		"null":         `null`,
		"wrong types":  `{"version":1,"budgets":[{"name":"all-daily","period":"day","period_start_unix_nano":"x","spend_usd":"1"}]}`,
		"huge float":   `{"version":1,"budgets":[{"name":"all-daily","period":"day","period_start_unix_nano":0,"spend_usd":1e400}]}`,
		"budgets obj":  `{"version":1,"budgets":{"a":1}}`,
		"empty object": `{}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, logs := newTestConnector(t, testBudgets, func(cfg *Config) {
				id := component.MustNewID("file_storage")
				cfg.Storage = &id
			})
			withClock(c)
			client := &memStorage{data: []byte(data)}
			host := extHost{exts: map[component.ID]component.Component{component.MustNewID("file_storage"): memExt{client: client}}}
			require.NoError(t, c.Start(context.Background(), host))
			md, _ := c.snapshot(ts(c))
			assert.Zero(t, spend(md, "all-daily"))
			assert.Equal(t, 1, logs.FilterMessageSnippet("start from zero").Len(), "says so")
			require.NoError(t, c.Shutdown(context.Background()))
		})
	}
}

// Negative spend in an otherwise readable state is not loaded (the log says 0 budgets loaded).
func TestEdgeStoredNegativeSpendIsSaid(t *testing.T) {
	c, logs := newTestConnector(t, testBudgets, func(cfg *Config) {
		id := component.MustNewID("file_storage")
		cfg.Storage = &id
	})
	clk := withClock(c)
	s, _ := periodBounds("day", clk.t)
	client := &memStorage{data: []byte(`{"version":1,"budgets":[{"name":"all-daily","period":"day","period_start_unix_nano":` +
		itoa(s) + `,"spend_usd":-5}]}`)}
	host := extHost{exts: map[component.ID]component.Component{component.MustNewID("file_storage"): memExt{client: client}}}
	require.NoError(t, c.Start(context.Background(), host))
	md, _ := c.snapshot(ts(c))
	assert.Zero(t, spend(md, "all-daily"))
	assert.Zero(t, logs.Len())
	require.NoError(t, c.Shutdown(context.Background()))
}

func itoa(v int64) string { return pcommon.NewValueInt(v).AsString() }

// Dimension attributes that are ints, bools or doubles are read as their text, on the
// span and on the resource; an empty string is absent (unknown).
func TestEdgeDimensionValueTypes(t *testing.T) {
	c, _ := newTestConnector(t, dimsCfg(10, "tenant.id", "beta", "empty"))
	withClock(c)
	b := batchFrom("svc", 0)
	b.td.ResourceSpans().At(0).Resource().Attributes().PutBool("beta", true)
	b.call(pcommon.SpanID{}, 1, map[string]any{"tenant.id": int64(42), "empty": ""})
	b.call(pcommon.SpanID{}, 2, map[string]any{"tenant.id": 1.5})
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(ts(c))
	get := func(d, v string) float64 {
		return lookup(md, "llm.dimension.cost.usd", map[string]any{"dimension": d, "dimension_value": v}).sum
	}
	assert.InDelta(t, 1, get("tenant.id", "42"), 1e-12)
	assert.InDelta(t, 2, get("tenant.id", "1.5"), 1e-12)
	assert.InDelta(t, 3, get("beta", "true"), 1e-12)
	assert.InDelta(t, 3, get("empty", "unknown"), 1e-12)
}

// A budget on a dimension whose attribute is an int matches its text.
func TestEdgeBudgetOnIntDimension(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) {
		cfg.CostDimensions.Attributes = []string{"tenant.id"}
		cfg.Budgets = []BudgetConfig{{Name: "t42", LimitUSD: 10, Period: "day", Selector: BudgetSelector{Dimension: "tenant.id", Value: "42"}}}
	})
	withClock(c)
	b := batchFrom("svc", 0)
	b.call(pcommon.SpanID{}, 1, map[string]any{"tenant.id": int64(42)})
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	md, _ := c.snapshot(ts(c))
	assert.InDelta(t, 1, spend(md, "t42"), 1e-12)
}

// A run whose calls are all unpriced (or without usage) is observed, at 0 USD; an
// invoke_agent span without an agent name is a run of agent "unknown".
func TestEdgeRunOfUnpricedCalls(t *testing.T) {
	c, _ := newTestConnector(t)
	clk := withClock(c)
	b := batchFrom("svc", 0)
	ag := b.agent(pcommon.SpanID{}, "cheap", nil)
	b.span(2, ag.SpanID(), time.Second, false, llmAttrs("unpriced", "openai", "mystery", 0, 100, 10, nil))
	b.span(2, ag.SpanID(), time.Second, false, llmAttrs("no_usage", "openai", "gpt-4o", 0, 0, 0, nil))
	noName := b.span(1, pcommon.SpanID{}, time.Second, false, map[string]any{"gen_ai.operation.name": "invoke_agent", "llm_cost.status": "skipped"})
	b.call(noName.SpanID(), 0.5, nil)
	require.NoError(t, c.ConsumeTraces(context.Background(), b.td))
	clk.add(time.Minute)
	md, _ := c.snapshot(ts(c))
	r := runCost(md, "cheap")
	assert.Equal(t, uint64(1), r.count, "observed")
	assert.Zero(t, r.sum, "at 0 USD")
	assert.Equal(t, uint64(1), r.hist.BucketCounts().At(0))
	u := runCost(md, "unknown")
	assert.Equal(t, uint64(1), u.count)
	assert.InDelta(t, 0.5, u.sum, 1e-12)
}
