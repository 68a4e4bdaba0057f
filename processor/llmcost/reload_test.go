package llmcost

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadatatest"
)

// statusHost records the component status events a component reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) last() *componentstatus.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return nil
	}
	return h.events[len(h.events)-1]
}

// reloadFixture is a processor whose reloader the test drives by calling check.
type reloadFixture struct {
	t    *testing.T
	p    *llmCostProcessor
	host *statusHost
	logs *observer.ObservedLogs
	tel  *componenttest.Telemetry
	path string
}

func newReloadFixture(t *testing.T, content, format string, interval time.Duration) *reloadFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prices.yaml")
	if content != "" {
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{Path: path, Format: format}}
	cfg.ReloadInterval = interval
	core, logs := observer.New(zapcore.InfoLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	p, err := newProcessor(set, cfg, signalSpans)
	require.NoError(t, err)
	host := &statusHost{Host: componenttest.NewNopHost()}
	require.NoError(t, p.start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return &reloadFixture{t: t, p: p, host: host, logs: logs, tel: tel, path: path}
}

// write replaces the file and moves its modification time on, as a new deployment would.
func (f *reloadFixture) write(content string) {
	f.t.Helper()
	require.NoError(f.t, os.WriteFile(f.path, []byte(content), 0o600))
	info, err := os.Stat(f.path)
	require.NoError(f.t, err)
	next := info.ModTime().Add(time.Second)
	require.NoError(f.t, os.Chtimes(f.path, next, next))
}

// cost prices one call of model with 1M input tokens and returns the status and cost.
func (f *reloadFixture) cost(provider, model string) (string, float64) {
	f.t.Helper()
	attrs := pcommon.NewMap()
	require.NoError(f.t, attrs.FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
		"gen_ai.request.model": model, "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0}))
	var rec record
	f.p.eng.process(&rec, attrs, "chat", "test", sept2025.UnixNano())
	st, _ := attrs.Get(attrStatus)
	c, ok := attrs.Get(attrCost)
	if !ok {
		return st.Str(), -1
	}
	return st.Str(), c.Double()
}

func (f *reloadFixture) errorLogs() int {
	return f.logs.FilterMessageSnippet("price file rejected").Len()
}

func (f *reloadFixture) loads(ok, failed int64) {
	f.t.Helper()
	var dps []metricdata.DataPoint[int64]
	if ok > 0 {
		dps = append(dps, metricdata.DataPoint[int64]{Value: ok, Attributes: attribute.NewSet(attribute.String("result", "ok"))})
	}
	if failed > 0 {
		dps = append(dps, metricdata.DataPoint[int64]{Value: failed, Attributes: attribute.NewSet(attribute.String("result", "error"))})
	}
	metadatatest.AssertEqualProcessorLlmCostPriceFileLoads(f.t, f.tel, dps, metricdatatest.IgnoreTimestamp())
}

const acmeV1 = "prices:\n  - id: acme-large\n    provider: acme\n    input_mtok: 1.5\n    output_mtok: 6\n"
const acmeV2 = "prices:\n  - id: acme-large\n    provider: acme\n    input_mtok: 2\n    output_mtok: 8\n  - id: gpt-4o\n    input_mtok: 0.5\n"

func TestReloadSwapsPricesWhenTheFileChanges(t *testing.T) {
	f := newReloadFixture(t, acmeV1, "", 0)
	st, c := f.cost("acme", "acme-large")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 1.5, c, 1e-12)
	st, c = f.cost("openai", "gpt-4o")
	assert.InDelta(t, 2.5, c, 1e-12, "built-in price before the override")

	f.write(acmeV2)
	f.p.reloader.check(context.Background())
	_, c = f.cost("acme", "acme-large")
	assert.InDelta(t, 2, c, 1e-12)
	_, c = f.cost("openai", "gpt-4o")
	assert.InDelta(t, 0.5, c, 1e-12, "the file's entry wins over the built-in table")
	assert.Equal(t, 0, f.errorLogs())
	f.loads(2, 0)
	assert.Nil(t, f.host.last(), "no status change while every file is good")
	_ = st
}

func TestBadFileKeepsPreviousPricesAndReportsOnce(t *testing.T) {
	f := newReloadFixture(t, acmeV1, "", 0)
	f.write("prices:\n  - id: acme-large\n    input_mtok: [oops\n")
	for i := 0; i < 3; i++ {
		f.p.reloader.check(context.Background())
	}
	_, c := f.cost("acme", "acme-large")
	assert.InDelta(t, 1.5, c, 1e-12, "the previous prices stay in force")
	assert.Equal(t, 1, f.errorLogs(), "logged once per change, not once per poll")
	ev := f.host.last()
	require.NotNil(t, ev)
	assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
	// The status (shown by /health) names the file by its place in the configuration,
	// not by its path; the log line has the path.
	assert.Contains(t, ev.Err().Error(), "price_files[0]: ")
	assert.NotContains(t, ev.Err().Error(), f.path)
	assert.Equal(t, f.path, f.logs.FilterMessageSnippet("price file rejected").All()[0].ContextMap()["path"])

	// The same bad content written again (a touch) is not reported again.
	f.write("prices:\n  - id: acme-large\n    input_mtok: [oops\n")
	f.p.reloader.check(context.Background())
	assert.Equal(t, 1, f.errorLogs())

	// A different mistake is a new change: reported once more.
	f.write("prices:\n  - id: acme-large\n    input_mtok: -3\n")
	f.p.reloader.check(context.Background())
	assert.Equal(t, 2, f.errorLogs())
	assert.Contains(t, f.logs.FilterMessageSnippet("price file rejected").All()[1].ContextMap()["error"], "input_mtok -3 must be a finite number >= 0")

	f.write(acmeV2)
	f.p.reloader.check(context.Background())
	_, c = f.cost("acme", "acme-large")
	assert.InDelta(t, 2, c, 1e-12)
	assert.Equal(t, componentstatus.StatusOK, f.host.last().Status(), "recovered once the file is good")
	f.loads(2, 2)
}

func TestMissingFileAtStartUsesBuiltinPrices(t *testing.T) {
	f := newReloadFixture(t, "", "", 0)
	st, c := f.cost("openai", "gpt-4o")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 2.5, c, 1e-12)
	st, _ = f.cost("acme", "acme-large")
	assert.Equal(t, "unpriced", st)
	require.NotNil(t, f.host.last())
	assert.Equal(t, componentstatus.StatusRecoverableError, f.host.last().Status())
	assert.Equal(t, 1, f.errorLogs())
	f.p.reloader.check(context.Background())
	assert.Equal(t, 1, f.errorLogs())

	f.write(acmeV1)
	f.p.reloader.check(context.Background())
	st, c = f.cost("acme", "acme-large")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 1.5, c, 1e-12)
	assert.Equal(t, componentstatus.StatusOK, f.host.last().Status())
}

func TestLiteLLMPriceFile(t *testing.T) {
	f := newReloadFixture(t, `{"sample_spec": {"mode": "chat"},
	  "acme/acme-large": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "acme"}}`, "litellm", 0)
	st, c := f.cost("acme", "acme/acme-large")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 1, c, 1e-9)
}

// The reloader's own ticker picks up a change without anyone calling check.
func TestReloadLoopPicksUpChanges(t *testing.T) {
	f := newReloadFixture(t, acmeV1, "", time.Second)
	f.write(acmeV2)
	require.Eventually(t, func() bool {
		_, c := f.cost("acme", "acme-large")
		return c == 2
	}, 10*time.Second, 50*time.Millisecond)
}

// Spans priced while tables are swapped see either the old or the new table, never a
// mix or a torn read (run with -race).
func TestSwapWhileProcessing(t *testing.T) {
	f := newReloadFixture(t, acmeV1, "", 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rec record
			for {
				select {
				case <-stop:
					return
				default:
				}
				attrs := pcommon.NewMap()
				_ = attrs.FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "acme",
					"gen_ai.request.model": "acme-large", "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0})
				f.p.eng.process(&rec, attrs, "chat", "test", sept2025.UnixNano())
				c, _ := attrs.Get(attrCost)
				if v := c.Double(); v != 1.5 && v != 2 {
					t.Errorf("cost %v is neither the old nor the new price", v)
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if i%2 == 0 {
			f.write(acmeV2)
		} else {
			f.write(acmeV1)
		}
		f.p.reloader.check(context.Background())
	}
	close(stop)
	wg.Wait()
}
