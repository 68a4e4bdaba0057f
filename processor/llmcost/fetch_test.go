package llmcost

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadatatest"
)

// committedData is the genai-prices data file of the repository (the upstream v2 shape).
var committedData = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "..", "third_party", "genai-prices", "data.json"))
})

// gpData is genai-prices data as upstream could publish it next: the committed data
// file with openai's gpt-4o at 2*in USD per million input tokens, a new provider acme
// whose acme-1 costs in, and without the voyageai provider.
func gpData(in float64) string {
	b, err := committedData()
	if err != nil {
		panic(err)
	}
	var providers []map[string]any
	if err := json.Unmarshal(b, &providers); err != nil {
		panic(err)
	}
	out := providers[:0]
	for _, p := range providers {
		if p["id"] == "voyageai" {
			continue
		}
		if p["id"] == "openai" {
			for _, m := range p["models"].([]any) {
				if m := m.(map[string]any); m["id"] == "gpt-4o" {
					m["prices"] = map[string]any{"input_mtok": 2 * in, "output_mtok": 10}
				}
			}
		}
		out = append(out, p)
	}
	out = append(out, map[string]any{"id": "acme", "name": "Acme", "models": []any{
		map[string]any{"id": "acme-1", "prices": map[string]any{"input_mtok": in}}}})
	j, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return string(j)
}

// urlFixture is a processor with one URL price source served by a local server whose
// answers the test sets; the reloader runs in manual mode (the test calls fetch).
type urlFixture struct {
	t       *testing.T
	srv     *httptest.Server
	handler atomic.Pointer[http.HandlerFunc]
	hits    atomic.Int64
	lastReq atomic.Pointer[http.Request]
	p       *llmCostProcessor
	host    *statusHost
	logs    *observer.ObservedLogs
	tel     *componenttest.Telemetry
	clock   *fakeClock
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (f *urlFixture) serve(h http.HandlerFunc) { f.handler.Store(&h) }

func serveBody(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// newURLFixture starts the processor; the server answers with first until the test
// changes it. configure may change the price source and the configuration.
func newURLFixture(t *testing.T, first http.HandlerFunc, configure func(*Config, *PriceFile), hostExt map[component.ID]component.Component) *urlFixture {
	t.Helper()
	f := &urlFixture{t: t, clock: &fakeClock{now: time.Date(2026, 10, 2, 12, 0, 0, 0, time.UTC)}}
	f.serve(first)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.lastReq.Store(r.Clone(context.Background()))
		(*f.handler.Load())(w, r)
	}))
	t.Cleanup(f.srv.Close)
	src := PriceFile{URL: f.srv.URL + "/prices/data.json", Format: "genai_prices"}
	cfg := createDefaultConfig().(*Config)
	if configure != nil {
		configure(cfg, &src)
	}
	cfg.PriceFiles = append([]PriceFile{src}, cfg.PriceFiles...)
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zapcore.InfoLevel)
	f.logs = logs
	f.tel = componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, f.tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(f.tel)
	set.Logger = zap.New(core)
	p, err := newProcessor(set, cfg, signalSpans)
	require.NoError(t, err)
	p.reloader.manual = true
	p.reloader.now = f.clock.Now
	f.p = p
	f.host = &statusHost{Host: extHost{componenttest.NewNopHost(), hostExt}}
	require.NoError(t, p.start(context.Background(), f.host))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return f
}

type extHost struct {
	component.Host
	ext map[component.ID]component.Component
}

func (h extHost) GetExtensions() map[component.ID]component.Component { return h.ext }

func (f *urlFixture) fetch() bool {
	f.t.Helper()
	return f.p.reloader.fetch(context.Background(), f.p.reloader.sources[0])
}

// price prices 1M input tokens of model and returns status, cost and pricing_version.
func (f *urlFixture) price(provider, model string) (string, float64, string) {
	f.t.Helper()
	attrs := pcommon.NewMap()
	require.NoError(f.t, attrs.FromRaw(map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
		"gen_ai.request.model": model, "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0}))
	var rec record
	f.p.eng.process(&rec, attrs, "chat", sept2025.UnixNano())
	st, _ := attrs.Get(attrStatus)
	v, _ := attrs.Get(attrVersion)
	c, ok := attrs.Get(attrCost)
	if !ok {
		return st.Str(), -1, v.Str()
	}
	return st.Str(), c.Double(), v.Str()
}

func (f *urlFixture) failureLogs() int {
	return f.logs.FilterMessageSnippet("price source failed").Len()
}

func (f *urlFixture) fetches(updated, notModified, failed int64) {
	f.t.Helper()
	var dps []metricdata.DataPoint[int64]
	for _, c := range []struct {
		n int64
		o string
	}{{updated, "updated"}, {notModified, "not_modified"}, {failed, "failed"}} {
		if c.n > 0 {
			dps = append(dps, metricdata.DataPoint[int64]{Value: c.n, Attributes: attribute.NewSet(attribute.String("outcome", c.o))})
		}
	}
	metadatatest.AssertEqualProcessorLlmCostPriceFetches(f.t, f.tel, dps, metricdatatest.IgnoreTimestamp())
}

func (f *urlFixture) gauge(name string) []metricdata.DataPoint[float64] {
	f.t.Helper()
	m, err := f.tel.GetMetric(name)
	require.NoError(f.t, err)
	return m.Data.(metricdata.Gauge[float64]).DataPoints
}

// A genai_prices URL replaces the embedded table: its prices, its own
// pricing_version (URL, Last-Modified date, ETag), and models the embedded table has
// but the source has not are unpriced.
func TestURLSourceReplacesTheEmbeddedTable(t *testing.T) {
	f := newURLFixture(t, serveBody(200, gpData(1), "ETag", `"v1"`, "Last-Modified", "Tue, 29 Sep 2026 08:00:00 GMT"), nil, nil)
	st, c, v := f.price("acme", "acme-1")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 1, c, 1e-12)
	assert.Equal(t, f.srv.URL+`/prices/data.json 2026-09-29 etag "v1"`, v)
	_, c, _ = f.price("openai", "gpt-4o")
	assert.InDelta(t, 2, c, 1e-12, "the source's gpt-4o, not the embedded 2.50")
	st, _, _ = f.price("voyageai", "voyage-3")
	assert.Equal(t, "unpriced", st, "the source replaces the embedded table; it does not add to it")
	assert.Nil(t, f.host.last(), "no status change while the source is good")
	f.fetches(1, 0, 0)
	assert.Equal(t, 1, f.logs.FilterMessageSnippet("price source fetched").Len())
}

// Conditional requests: the ETag and Last-Modified of the content held go back as
// If-None-Match and If-Modified-Since; a 304 keeps the table and makes it current
// again; new content is swapped in.
func TestURLSourceConditionalRequests(t *testing.T) {
	lm := "Tue, 29 Sep 2026 08:00:00 GMT"
	f := newURLFixture(t, serveBody(200, gpData(1), "ETag", `"v1"`, "Last-Modified", lm), nil, nil)
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		serveBody(200, gpData(3), "ETag", `"v2"`)(w, r)
	})
	f.clock.Add(time.Hour)
	require.True(t, f.fetch())
	req := f.lastReq.Load()
	assert.Equal(t, `"v1"`, req.Header.Get("If-None-Match"))
	assert.Equal(t, lm, req.Header.Get("If-Modified-Since"))
	_, c, _ := f.price("acme", "acme-1")
	assert.InDelta(t, 1, c, 1e-12, "not modified: the same prices")
	f.fetches(1, 1, 0)
	// The data is as old as its Last-Modified says, 304 or not.
	lmTime, err := http.ParseTime(lm)
	require.NoError(t, err)
	assert.InDelta(t, f.clock.Now().Sub(lmTime).Seconds(), f.gauge("otelcol_processor_llm_cost_price_table_age")[0].Value, 1e-9)

	// Upstream publishes new prices: the next fetch swaps them in.
	f.serve(serveBody(200, gpData(3), "ETag", `"v2"`))
	f.clock.Add(time.Hour)
	require.True(t, f.fetch())
	_, c, v := f.price("acme", "acme-1")
	assert.InDelta(t, 3, c, 1e-12)
	assert.Equal(t, f.srv.URL+`/prices/data.json 2026-10-02 etag "v2"`, v, "no Last-Modified: the day it was fetched")
	f.fetches(2, 1, 0)
}

// An llm_cost or litellm URL source overrides entries of the embedded table.
func TestURLSourceOfOverrides(t *testing.T) {
	f := newURLFixture(t, serveBody(200, "prices:\n  - id: gpt-4o\n    input_mtok: 0.5\n"), func(_ *Config, s *PriceFile) { s.Format = "llm_cost" }, nil)
	_, c, v := f.price("openai", "gpt-4o")
	assert.InDelta(t, 0.5, c, 1e-12)
	assert.Equal(t, "embedded 2026-09-23", v, "overrides keep the embedded table's version")
	_, c, _ = f.price("openai", "gpt-4o-mini")
	assert.InDelta(t, 0.15, c, 1e-12, "the rest of the embedded table stays")
}

// Every kind of bad answer: the previous table stays, the component reports a
// recoverable error with the reason (naming the source by its place, never by its URL,
// which may carry credentials), the failure is counted at every fetch, and logged once
// per change of state. When the source is good again, the status is OK.
func TestURLSourceBadAnswersKeepThePreviousTable(t *testing.T) {
	redirectLoop := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) }
	slow := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`[{"id":"acme",`))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	}
	huge := func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200) // chunked: no length announced
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for i := 0; i < 1024; i++ { // 1 GiB, unless the reader stops first
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	hugeDeclared := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(1<<30))
		w.WriteHeader(200)
		_, _ = w.Write([]byte("[")) // the announced gigabyte never comes
	}
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		reason  string
	}{
		{"unreachable", nil, "fetching: dial: connect: connection refused"},
		{"slow", slow, "within the timeout (300ms)"},
		{"redirect loop", redirectLoop, "fetching: stopped after 10 redirects"},
		{"html", serveBody(200, "<!DOCTYPE html><html><body>Rate limited</body></html>", "Content-Type", "text/html"), "genai_prices format: not JSON"},
		{"empty", serveBody(200, ""), "genai_prices format: the file is empty"},
		{"truncated json", serveBody(200, gpData(1)[:80]), "genai_prices format: unexpected end of JSON input"},
		{"another format", serveBody(200, `{"gpt-4o": {"input_cost_per_token": 2.5e-06}}`), `genai_prices format: an object without a "providers" list`},
		{"no models", serveBody(200, `[{"id":"acme","models":[]}]`), "genai_prices format: no models"},
		{"1 GiB body", huge, "the response is larger than the 33554432 bytes allowed"},
		{"1 GiB announced", hugeDeclared, "the response is 1073741824 bytes, more than the 33554432 allowed"},
		{"prices failing validation", serveBody(200, strings.Replace(gpData(1), `"input_mtok":1}`, `"input_mtok":-1}`, 1)), "price -1 must be a finite number >= 0"},
		{"server error", serveBody(503, "busy"), "HTTP 503 Service Unavailable"},
		{"not found", serveBody(404, "no"), "HTTP 404 Not Found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newURLFixture(t, serveBody(200, gpData(1)), func(_ *Config, s *PriceFile) {
				s.ClientConfig.Timeout = 20 * time.Second
				if c.name == "slow" {
					s.ClientConfig.Timeout = 300 * time.Millisecond
				}
				// Credentials in the URL must not reach a status, a metric or a log line.
				s.URL = strings.Replace(s.URL, "http://", "http://user:hunter2@", 1) + "?token=s3cret"
			}, nil)
			_, c1, v1 := f.price("acme", "acme-1")
			require.InDelta(t, 1, c1, 1e-12)
			if c.handler == nil {
				f.srv.Close()
			} else {
				f.serve(c.handler)
			}
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < 2; i++ {
				assert.False(t, f.fetch())
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(300<<20), "a large body is not read whole")

			st, c2, v2 := f.price("acme", "acme-1")
			assert.Equal(t, "priced", st)
			assert.InDelta(t, 1, c2, 1e-12, "the previous table stays in use")
			assert.Equal(t, v1, v2)
			ev := f.host.last()
			require.NotNil(t, ev)
			assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
			assert.True(t, strings.HasPrefix(ev.Err().Error(), "price_files[0]: "), ev.Err().Error())
			assert.Contains(t, ev.Err().Error(), c.reason)
			assert.Equal(t, 1, f.failureLogs(), "logged once per change of state, not once per fetch")
			f.fetches(1, 0, 2)
			for _, text := range []string{ev.Err().Error(), fmt.Sprint(f.logs.All())} {
				assert.NotContains(t, text, "hunter2")
				assert.NotContains(t, text, "s3cret")
			}
			failing := f.gauge("otelcol_processor_llm_cost_price_source_failing_duration")
			require.Len(t, failing, 1)
			assert.Equal(t, attribute.NewSet(attribute.String("source", "price_files[0]")), failing[0].Attributes)

			if c.handler == nil {
				return // the server is gone
			}
			f.serve(serveBody(200, gpData(2)))
			require.True(t, f.fetch())
			_, c3, _ := f.price("acme", "acme-1")
			assert.InDelta(t, 2, c3, 1e-12)
			assert.Equal(t, componentstatus.StatusOK, f.host.last().Status())
			assert.Equal(t, 1, f.logs.FilterMessageSnippet("price source good again").Len())
		})
	}
}

// A source that never worked leaves the embedded table in use, never an empty one.
func TestURLSourceDownFromTheStartUsesTheEmbeddedTable(t *testing.T) {
	f := newURLFixture(t, serveBody(500, "down"), nil, nil)
	st, c, v := f.price("openai", "gpt-4o")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 2.5, c, 1e-12)
	assert.Equal(t, "embedded 2026-09-23", v)
	require.NotNil(t, f.host.last())
	assert.Equal(t, componentstatus.StatusRecoverableError, f.host.last().Status())
	assert.Equal(t, 1, f.logs.FilterMessageSnippet("the built-in prices apply").Len())

	// The failing gauge grows from the first failure; the age is the embedded data's.
	f.clock.Add(90 * time.Minute)
	f.fetch()
	assert.InDelta(t, 90*60, f.gauge("otelcol_processor_llm_cost_price_source_failing_duration")[0].Value, 1e-6)
	embedded := time.Date(2026, 9, 23, 0, 0, 0, 0, time.UTC)
	assert.InDelta(t, f.clock.Now().Sub(embedded).Seconds(), f.gauge("otelcol_processor_llm_cost_price_table_age")[0].Value, 1e-6)
	assert.InDelta(t, (30 * 24 * time.Hour).Seconds(), f.gauge("otelcol_processor_llm_cost_price_table_stale_after")[0].Value, 0)
}

// memStorage is a storage extension keeping its data in memory, shared by the clients
// it hands out, so that a second processor (a restart) finds what the first stored.
type memStorage struct {
	component.StartFunc
	component.ShutdownFunc
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return memClient{m}, nil
}

type memClient struct{ m *memStorage }

func (c memClient) Get(_ context.Context, k string) ([]byte, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.data[k], nil
}

func (c memClient) Set(_ context.Context, k string, v []byte) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.data[k] = bytes.Clone(v)
	return nil
}

func (c memClient) Delete(_ context.Context, k string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	delete(c.m.data, k)
	return nil
}

func (c memClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		if op.Type == storage.Set {
			if err := c.Set(ctx, op.Key, op.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

func (memClient) Close(context.Context) error { return nil }

// The last good copy is kept in the storage extension: a restart whose fetch fails
// prices from it (with its own pricing_version), and asks the server with its
// validators.
func TestURLSourceRestartsFromItsStoredCopy(t *testing.T) {
	st := &memStorage{data: map[string][]byte{}}
	id := component.MustNewIDWithName("file_storage", "prices")
	ext := map[component.ID]component.Component{id: st}
	useStorage := func(c *Config, _ *PriceFile) { c.Storage = &id }
	first := newURLFixture(t, serveBody(200, gpData(4), "ETag", `"v4"`), useStorage, ext)
	_, _, v := first.price("acme", "acme-1")
	require.NoError(t, first.p.shutdown(context.Background()))
	first.srv.Close()

	// A restart without network: the source fails, the stored copy prices.
	second := newURLFixture(t, serveBody(200, gpData(4), "ETag", `"v4"`), func(c *Config, s *PriceFile) {
		useStorage(c, s)
		s.URL = first.srv.URL + "/prices/data.json"
	}, ext)
	st2, c, v2 := second.price("acme", "acme-1")
	assert.Equal(t, "priced", st2)
	assert.InDelta(t, 4, c, 1e-12)
	assert.Equal(t, v, v2, "the stored copy keeps its provenance")
	require.NotNil(t, second.host.last())
	assert.Equal(t, componentstatus.StatusRecoverableError, second.host.last().Status())
	assert.Equal(t, 1, second.logs.FilterMessageSnippet("loaded from its stored copy").Len())

	// Back online (same URL): the stored validators make the request conditional.
	third := newURLFixture(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v4"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		serveBody(200, gpData(9))(w, r)
	}, useStorage, ext)
	_ = third // its URL differs from the stored one: a new source starts without a copy
	_, c, _ = third.price("acme", "acme-1")
	assert.InDelta(t, 9, c, 1e-12, "a copy stored for another URL is not used")
}

// The conditional request of a restart carries the stored validators.
func TestURLSourceStoredValidators(t *testing.T) {
	st := &memStorage{data: map[string][]byte{}}
	id := component.MustNewID("file_storage")
	ext := map[component.ID]component.Component{id: st}
	var url string
	f := newURLFixture(t, serveBody(200, gpData(5), "ETag", `"v5"`), func(c *Config, _ *PriceFile) { c.Storage = &id }, ext)
	url = f.srv.URL
	require.NoError(t, f.p.shutdown(context.Background()))
	// The same server, now answering 304 to the stored ETag.
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v5"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		serveBody(200, gpData(7))(w, r)
	})
	g := newURLFixture(t, nil, func(c *Config, s *PriceFile) { c.Storage = &id; s.URL = url + "/prices/data.json" }, ext)
	_ = g
	_, c, _ := g.price("acme", "acme-1")
	assert.InDelta(t, 5, c, 1e-12, "304: the stored copy is current")
	assert.Nil(t, g.host.last(), "the source is good")
	assert.Equal(t, `"v5"`, f.lastReq.Load().Header.Get("If-None-Match"))
}

// A storage id that names no storage extension fails the start with a clear error.
func TestURLSourceStorageMustExist(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	id := component.MustNewID("file_storage")
	cfg.Storage = &id
	cfg.PriceFiles = []PriceFile{{URL: "http://127.0.0.1:1/p.json"}}
	p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, signalSpans)
	require.NoError(t, err)
	err = p.start(context.Background(), componenttest.NewNopHost())
	assert.ErrorContains(t, err, `llm_cost storage: no extension "file_storage" in the service's extensions`)
	require.NoError(t, p.shutdown(context.Background()))
}

// The loop fetches at start and again every reload_interval, without a restart.
func TestURLSourceLoopPicksUpChanges(t *testing.T) {
	var body atomic.Value
	body.Store(gpData(1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body.Load().(string))) }))
	defer srv.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{URL: srv.URL, Format: "genai_prices", ReloadInterval: time.Second}}
	p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, signalSpans)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.shutdown(context.Background())) }()
	f := &urlFixture{t: t, p: p}
	require.Eventually(t, func() bool { _, c, _ := f.price("acme", "acme-1"); return c == 1 }, 10*time.Second, 20*time.Millisecond)
	body.Store(gpData(6))
	require.Eventually(t, func() bool { _, c, _ := f.price("acme", "acme-1"); return c == 6 }, 10*time.Second, 20*time.Millisecond)
}

// Shutdown does not wait for a fetch in flight to time out.
func TestURLSourceShutdownCancelsAFetch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() { // accepts and never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{URL: "http://" + ln.Addr().String() + "/p.json"}}
	p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, signalSpans)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, p.shutdown(ctx))
	assert.Less(t, time.Since(start), 5*time.Second)
}

// The upstream HTTP client settings apply: a CA file for an https URL, headers, and a
// proxy.
func TestURLSourceUsesTheHTTPClientSettings(t *testing.T) {
	var gotAuth atomic.Value
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(gpData(8)))
	}))
	defer tlsSrv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600))

	price := func(src PriceFile) (string, float64) {
		cfg := createDefaultConfig().(*Config)
		cfg.PriceFiles = []PriceFile{src}
		require.NoError(t, cfg.Validate())
		p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, signalSpans)
		require.NoError(t, err)
		p.reloader.manual = true
		host := &statusHost{Host: componenttest.NewNopHost()}
		require.NoError(t, p.start(context.Background(), host))
		defer func() { require.NoError(t, p.shutdown(context.Background())) }()
		f := &urlFixture{t: t, p: p}
		_, c, _ := f.price("acme", "acme-1")
		errText := ""
		if ev := host.last(); ev != nil && ev.Err() != nil {
			errText = ev.Err().Error()
		}
		return errText, c
	}

	// Without the CA the certificate is refused; with it the source is fetched, with
	// the configured header.
	src := PriceFile{URL: tlsSrv.URL + "/data.json", Format: "genai_prices"}
	errText, _ := price(src)
	assert.Contains(t, errText, "certificate")
	src.ClientConfig.TLS.CAFile = caFile
	src.ClientConfig.Headers = configopaque.MapList{{Name: "Authorization", Value: "Bearer price-token"}}
	errText, c := price(src)
	assert.Empty(t, errText)
	assert.InDelta(t, 8, c, 1e-12)
	assert.Equal(t, "Bearer price-token", gotAuth.Load())

	// Through a proxy: the proxy answers for the origin, which does not exist.
	var proxied atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Store(r.URL.String())
		_, _ = w.Write([]byte(gpData(9)))
	}))
	defer proxy.Close()
	via := PriceFile{URL: "http://prices.invalid/data.json", Format: "genai_prices"}
	via.ClientConfig.ProxyURL = proxy.URL
	errText, c = price(via)
	assert.Empty(t, errText)
	assert.InDelta(t, 9, c, 1e-12)
	assert.Equal(t, "http://prices.invalid/data.json", proxied.Load())
}

// A genai-prices data file given by path (format auto: a JSON array is genai-prices')
// replaces the embedded table too, and names itself in pricing_version.
func TestGenAIPricesFileSource(t *testing.T) {
	f := newReloadFixture(t, gpData(3), "", 0)
	st, c := f.cost("acme", "acme-1")
	assert.Equal(t, "priced", st)
	assert.InDelta(t, 3, c, 1e-12)
	info, err := os.Stat(f.path)
	require.NoError(t, err)
	assert.Equal(t, "file prices.yaml "+info.ModTime().UTC().Format(time.DateOnly), f.p.eng.table().Version)
	st, _ = f.cost("voyageai", "voyage-3")
	assert.Equal(t, "unpriced", st, "the file's table replaced the embedded one")

	// A version without models is refused: the previous table stays.
	f.write(`[{"id":"acme","models":[]}]`)
	f.p.reloader.check(context.Background())
	_, c = f.cost("acme", "acme-1")
	assert.InDelta(t, 3, c, 1e-12)
	assert.Equal(t, componentstatus.StatusRecoverableError, f.host.last().Status())
	assert.Contains(t, f.host.last().Err().Error(), "price_files[0]: genai_prices format: no models")
}

// The headers and authenticator of a price source are set on every request by the
// client's round trippers, redirects included (Go strips only its own sensitive
// headers on a redirect to another host): a redirect to another host is not followed,
// so a token meant for the price server never reaches another one.
func TestURLSourceRedirectElsewhereKeepsTheHeaders(t *testing.T) {
	var leaked atomic.Value
	leaked.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") + r.Header.Get("X-Api-Key"))
		_, _ = w.Write([]byte(gpData(7)))
	}))
	defer other.Close()
	f := newURLFixture(t, serveBody(200, gpData(1)), func(_ *Config, s *PriceFile) {
		s.ClientConfig.Headers = configopaque.MapList{{Name: "Authorization", Value: "Bearer price-token"}, {Name: "X-Api-Key", Value: "k3y"}}
	}, nil)
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere.json", http.StatusFound)
	})
	assert.False(t, f.fetch())
	assert.Empty(t, leaked.Load(), "the price source's headers went to another host")
	_, c, _ := f.price("acme", "acme-1")
	assert.InDelta(t, 1, c, 1e-12, "the previous table stays in use")
	require.NotNil(t, f.host.last())
	assert.Contains(t, f.host.last().Err().Error(), "redirect to "+other.URL+" not followed")

	// A redirect on the same host is followed, headers and all.
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/moved.json" {
			http.Redirect(w, r, "/moved.json", http.StatusMovedPermanently)
			return
		}
		serveBody(200, gpData(2))(w, r)
	})
	assert.True(t, f.fetch())
	assert.Equal(t, "Bearer price-token", f.lastReq.Load().Header.Get("Authorization"))
	_, c, _ = f.price("acme", "acme-1")
	assert.InDelta(t, 2, c, 1e-12)
}

// A stored copy read in another format than the entry now names (its format was
// changed in the configuration) is not used: the source is fetched unconditionally and
// read in the configured format, so a 304 cannot confirm a copy the configuration no
// longer describes. A stored copy that is not readable is said so in the log.
func TestURLSourceStoredCopyOfAnotherFormat(t *testing.T) {
	st := &memStorage{data: map[string][]byte{}}
	id := component.MustNewID("file_storage")
	ext := map[component.ID]component.Component{id: st}
	f := newURLFixture(t, serveBody(200, gpData(5), "ETag", `"v5"`), func(c *Config, _ *PriceFile) { c.Storage = &id }, ext)
	url := f.srv.URL + "/prices/data.json"
	require.NoError(t, f.p.shutdown(context.Background()))
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v5"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		serveBody(200, gpData(5), "ETag", `"v5"`)(w, r)
	})
	g := newURLFixture(t, nil, func(c *Config, s *PriceFile) { c.Storage = &id; s.URL = url; s.Format = "litellm" }, ext)
	assert.Empty(t, f.lastReq.Load().Header.Get("If-None-Match"), "the stored copy of another format is not asked about")
	_, c, v := g.price("acme", "acme-1")
	assert.Equal(t, -1.0, c, "the genai_prices copy does not price under format litellm")
	assert.Equal(t, "embedded 2026-09-23", v)
	require.NotNil(t, g.host.last())
	assert.Contains(t, g.host.last().Err().Error(), "price_files[0]: ")
	require.NoError(t, g.p.shutdown(context.Background()))

	// A stored copy whose record is not readable is said so, and fetched again.
	for k := range st.data {
		if strings.HasSuffix(k, "/meta") {
			st.data[k] = []byte("{not json")
		}
	}
	h := newURLFixture(t, nil, func(c *Config, s *PriceFile) { c.Storage = &id; s.URL = url }, ext)
	assert.Equal(t, 1, h.logs.FilterMessageSnippet("stored copy of a price source is unusable").Len())
	_, c, _ = h.price("acme", "acme-1")
	assert.InDelta(t, 5, c, 1e-12)
}

// The age of a genai_prices file's data is counted from the file's modification date
// (the date its pricing_version names), not from when the collector read it: a file
// copied once and never updated grows stale across restarts too.
func TestGenAIPricesFileAgeIsItsModificationDate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.json")
	require.NoError(t, os.WriteFile(path, []byte(gpData(3)), 0o600))
	written := time.Now().Add(-60 * 24 * time.Hour)
	require.NoError(t, os.Chtimes(path, written, written))
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{Path: path}}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	p, err := newProcessor(metadatatest.NewSettings(tel), cfg, signalSpans)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	f := &urlFixture{t: t, p: p, tel: tel}
	_, c, _ := f.price("acme", "acme-1")
	require.InDelta(t, 3, c, 1e-12, "the file's table is in use")
	assert.InDelta(t, (60 * 24 * time.Hour).Seconds(), f.gauge("otelcol_processor_llm_cost_price_table_age")[0].Value, 60)
}

// The collector's own telemetry carries no credentials of a source's URL: the HTTP
// client of a price source makes no spans or metrics of its requests (which would hold
// the full URL, query tokens included); the component's own metrics say how fetches go.
func TestURLSourceCredentialsStayOutOfOwnTelemetry(t *testing.T) {
	f := newURLFixture(t, serveBody(200, gpData(1)), func(_ *Config, s *PriceFile) {
		s.URL = strings.Replace(s.URL, "http://", "http://user:hunter2@", 1) + "?token=s3cret"
	}, nil)
	require.True(t, f.fetch())
	for _, s := range f.tel.SpanRecorder.Ended() {
		text := fmt.Sprint(s.Name(), s.Attributes(), s.Events())
		assert.NotContains(t, text, "s3cret")
		assert.NotContains(t, text, "hunter2")
	}
	assert.Empty(t, f.tel.SpanRecorder.Ended(), "no span per fetch")
}

// The age of a URL source's data counts from when its content last changed (its
// Last-Modified, else when that content was first fetched), not from the last 304: a
// file upstream no longer updates (prices/data.json today, the v2 file once upstream
// moves to v3) answers 304 for ever and must still grow stale. A failing source is the
// other alert's business.
func TestURLSourceAgeIsTheContentsAge(t *testing.T) {
	f := newURLFixture(t, serveBody(200, gpData(1), "ETag", `"v1"`), nil, nil)
	age := func() float64 { return f.gauge("otelcol_processor_llm_cost_price_table_age")[0].Value }
	assert.InDelta(t, 0, age(), 1e-6)
	f.serve(serveBody(http.StatusNotModified, ""))
	for range 40 {
		f.clock.Add(24 * time.Hour)
		require.True(t, f.fetch())
	}
	assert.InDelta(t, (40 * 24 * time.Hour).Seconds(), age(), 1e-6, "40 days of 304s: the data is 40 days old")
	// The same content served again without validators is no newer either.
	f.serve(serveBody(200, gpData(1), "ETag", `"v1"`))
	require.True(t, f.fetch())
	assert.InDelta(t, (40 * 24 * time.Hour).Seconds(), age(), 1e-6)
	f.fetches(1, 41, 0)

	// New content: new data, dated by the server's Last-Modified when it gives one.
	f.serve(serveBody(200, gpData(2), "ETag", `"v2"`, "Last-Modified", f.clock.Now().Add(-2*time.Hour).Format(http.TimeFormat)))
	require.True(t, f.fetch())
	assert.InDelta(t, (2 * time.Hour).Seconds(), age(), 1e-6)
}

// A genai_prices source that is valid but holds a fraction of the data (a bad upstream
// commit, a file of one provider) is refused rather than replacing a table of 1,700
// models with one of 3: the previous table stays, and the status says why.
func TestURLSourceNearlyEmptyTableIsRefused(t *testing.T) {
	small := `[{"id":"acme","models":[{"id":"acme-1","prices":{"input_mtok":9}},{"id":"acme-2","prices":{"input_mtok":9}},{"id":"acme-3","prices":{"input_mtok":9}}]}]`
	f := newURLFixture(t, serveBody(200, small), nil, nil)
	st, c, v := f.price("voyageai", "voyage-3")
	assert.Equal(t, "priced", st, "the embedded table stays in use")
	assert.Greater(t, c, 0.0)
	assert.Equal(t, "embedded 2026-09-23", v)
	require.NotNil(t, f.host.last())
	assert.Contains(t, f.host.last().Err().Error(), "price_files[0]: genai_prices format: 3 models, fewer than half")

	// After good data, a shrunken version keeps the good one.
	f.serve(serveBody(200, gpData(1)))
	require.True(t, f.fetch())
	f.serve(serveBody(200, small))
	assert.False(t, f.fetch())
	_, c, _ = f.price("acme", "acme-1")
	assert.InDelta(t, 1, c, 1e-12)
}

// A URL with surrounding white space (an environment variable holding a trailing
// newline, url: ${env:PRICES_URL}) passes validation trimmed, and is fetched trimmed:
// not refused at every fetch with an error that repeats it, query token and all.
func TestURLSourceWithSurroundingSpace(t *testing.T) {
	f := newURLFixture(t, serveBody(200, gpData(4)), func(_ *Config, s *PriceFile) {
		s.URL = " " + s.URL + "?token=s3cret\n"
	}, nil)
	if ev := f.host.last(); ev != nil && ev.Err() != nil {
		assert.NotContains(t, ev.Err().Error(), "s3cret")
		t.Errorf("the source failed: %v", ev.Err())
	}
	_, c, v := f.price("acme", "acme-1")
	assert.InDelta(t, 4, c, 1e-12)
	assert.NotContains(t, v, "s3cret")
	assert.NotContains(t, fmt.Sprint(f.logs.All()), "s3cret")
}

// After a failed fetch the source is tried again after 15 s, 30 s, 1 min, ... up to its
// interval, and stays at the interval however long it keeps failing (the wait doubled
// without end once, and overflowed into a negative wait after 31 failures, about a day
// into an outage: a burst of back-to-back fetches).
func TestRetryWaitStaysWithinTheInterval(t *testing.T) {
	var waits []time.Duration
	var w time.Duration
	for range 200 {
		w = nextRetry(w, time.Hour)
		waits = append(waits, w)
	}
	assert.Equal(t, []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour}, waits[:9])
	for i, w := range waits[9:] {
		require.Equal(t, time.Hour, w, "wait after failure %d", i+10)
	}
	assert.Equal(t, 2*time.Second, nextRetry(0, 2*time.Second), "an interval shorter than the first retry bounds it")
}

// The component status, which /health shows, says what failed without the host names
// and addresses of the price server (or of the DNS server): like probe URLs and price
// file paths, they are configuration an outsider should not learn from a health
// endpoint. The log line has them. A DNS timeout's text names a new local port at every
// try; without addresses it is one state, logged once.
func TestURLSourceStatusNamesNoAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	for _, c := range []struct {
		url, want, hidden string
	}{
		{"http://tenant-acme-prices.invalid:8443/data.json", "price_files[0]: fetching: dial: DNS lookup: ", "tenant-acme-prices"},
		{"http://" + closedAddr + "/data.json", "price_files[0]: fetching: dial: connect: connection refused", closedAddr},
	} {
		cfg := createDefaultConfig().(*Config)
		cfg.PriceFiles = []PriceFile{{URL: c.url}}
		core, logs := observer.New(zapcore.InfoLevel)
		set := metadatatest.NewSettings(componenttest.NewTelemetry())
		set.Logger = zap.New(core)
		p, err := newProcessor(set, cfg, signalSpans)
		require.NoError(t, err)
		p.reloader.manual = true
		host := &statusHost{Host: componenttest.NewNopHost()}
		require.NoError(t, p.start(context.Background(), host))
		require.NotNil(t, host.last())
		status := host.last().Err().Error()
		assert.True(t, strings.HasPrefix(status, c.want), status)
		assert.NotContains(t, status, c.hidden)
		assert.NotContains(t, status, ":53", "the DNS server's address")
		assert.Contains(t, fmt.Sprint(logs.All()), c.hidden, "the log line says where")
		require.NoError(t, p.shutdown(context.Background()))
	}
}
