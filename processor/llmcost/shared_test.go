package llmcost

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The traces and logs instances of one configured component, made by the factory as
// the collector makes them (one *Config for both), share one engine: the price file is
// read once, the resolution cache and the unpriced-model limit are one, and a change
// of prices reaches both pipelines.
func TestTracesAndLogsShareOneEngine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prices.yaml")
	require.NoError(t, os.WriteFile(path, []byte(acmeV1), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{Path: path}}
	cfg.ReloadInterval = time.Second
	cfg.UnpricedModelLimit = 1

	core, logs := observer.New(zapcore.InfoLevel)
	set := processortest.NewNopSettings(NewFactory().Type())
	set.Logger = zap.New(core)
	traces, logsSink := new(consumertest.TracesSink), new(consumertest.LogsSink)
	tp, err := NewFactory().CreateTraces(context.Background(), set, cfg, traces)
	require.NoError(t, err)
	lp, err := NewFactory().CreateLogs(context.Background(), set, cfg, logsSink)
	require.NoError(t, err)
	tHost, lHost := &statusHost{Host: componenttest.NewNopHost()}, &statusHost{Host: componenttest.NewNopHost()}
	require.NoError(t, tp.Start(context.Background(), tHost))
	require.NoError(t, lp.Start(context.Background(), lHost))
	assert.Equal(t, 1, logs.FilterMessageSnippet("price file loaded").Len(), "one poller reads the file once")

	span := func(model string) pcommon.Map {
		td := ptrace.NewTraces()
		s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetName("chat")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(sept2025))
		require.NoError(t, s.Attributes().FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme",
			"gen_ai.request.model": model, "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0}))
		require.NoError(t, tp.ConsumeTraces(context.Background(), td))
		all := traces.AllTraces()
		return all[len(all)-1].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	}
	record := func(model string) pcommon.Map {
		ld := plog.NewLogs()
		r := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(sept2025))
		require.NoError(t, r.Attributes().FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme",
			"gen_ai.request.model": model, "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0}))
		require.NoError(t, lp.ConsumeLogs(context.Background(), ld))
		all := logsSink.AllLogs()
		return all[len(all)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	}
	str := func(m pcommon.Map, k string) string { v, _ := m.Get(k); return v.AsString() }

	// One unpriced-model limit: the first unknown name (from traces) takes the one
	// label; the second (from logs) is "_other".
	assert.Equal(t, "unknown-one", str(span("unknown-one"), attrModel))
	assert.Equal(t, "_other", str(record("unknown-two"), attrModel))
	assert.Equal(t, "1.5", str(record("acme-large"), attrCost))

	// One poller: a new price reaches both pipelines, read once.
	require.NoError(t, os.WriteFile(path, []byte(acmeV2), 0o600))
	next := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, next, next))
	require.Eventually(t, func() bool { return str(span("acme-large"), attrCost) == "2" }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "2", str(record("acme-large"), attrCost))
	assert.Equal(t, 2, logs.FilterMessageSnippet("price file loaded").Len())

	// Its status reaches both pipelines' hosts.
	require.NoError(t, os.WriteFile(path, []byte("prices: [\n"), 0o600))
	next = next.Add(time.Minute)
	require.NoError(t, os.Chtimes(path, next, next))
	require.Eventually(t, func() bool {
		return tHost.last() != nil && lHost.last() != nil && lHost.last().Status() == componentstatus.StatusRecoverableError
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, componentstatus.StatusRecoverableError, tHost.last().Status())
	assert.Equal(t, 1, logs.FilterMessageSnippet("price file rejected").Len(), "reported once, not once per pipeline")

	// The first instance to shut down leaves the other pricing with a live poller; the
	// last stops it.
	require.NoError(t, tp.Shutdown(context.Background()))
	require.NoError(t, os.WriteFile(path, []byte(acmeV1), 0o600))
	next = next.Add(time.Minute)
	require.NoError(t, os.Chtimes(path, next, next))
	require.Eventually(t, func() bool { return str(record("acme-large"), attrCost) == "1.5" }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, lp.Shutdown(context.Background()))
	pricers.mu.Lock()
	assert.NotContains(t, pricers.m, cfg, "the shared engine is released with its last instance")
	pricers.mu.Unlock()
}

// Two configured components (llm_cost and llm_cost/other) have engines of their own.
func TestTwoComponentsHaveTwoEngines(t *testing.T) {
	set := processortest.NewNopSettings(NewFactory().Type())
	a, b := createDefaultConfig().(*Config), createDefaultConfig().(*Config)
	pa, err := newProcessor(set, a, signalSpans)
	require.NoError(t, err)
	pb, err := newProcessor(set, b, signalSpans)
	require.NoError(t, err)
	pl, err := newProcessor(set, a, signalLogs)
	require.NoError(t, err)
	assert.Same(t, pa.eng, pl.eng)
	assert.NotSame(t, pa.eng, pb.eng)
	for _, p := range []*llmCostProcessor{pa, pb, pl} {
		require.NoError(t, p.shutdown(context.Background()))
	}
}

// A status reported before the second instance starts reaches it when it starts.
func TestLateInstanceIsToldTheCurrentStatus(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{Path: filepath.Join(t.TempDir(), "missing.yaml")}}
	set := processortest.NewNopSettings(NewFactory().Type())
	pt, err := newProcessor(set, cfg, signalSpans)
	require.NoError(t, err)
	pl, err := newProcessor(set, cfg, signalLogs)
	require.NoError(t, err)
	h1, h2 := &statusHost{Host: componenttest.NewNopHost()}, &statusHost{Host: componenttest.NewNopHost()}
	require.NoError(t, pt.start(context.Background(), h1))
	require.NotNil(t, h1.last())
	require.NoError(t, pl.start(context.Background(), h2))
	require.NotNil(t, h2.last())
	assert.Equal(t, componentstatus.StatusRecoverableError, h2.last().Status())
	require.NoError(t, pt.shutdown(context.Background()))
	require.NoError(t, pl.shutdown(context.Background()))
}
