package tests

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// priceServer serves a genai-prices data file (the upstream v2 shape) with an ETag and
// answers conditional requests with 304, as raw.githubusercontent.com does.
type priceServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	body string
	etag string
	gets int
	n304 int
}

func newPriceServer(t *testing.T, addr string) *priceServer {
	t.Helper()
	p := &priceServer{}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.gets++
		if r.Header.Get("If-None-Match") == p.etag {
			p.n304++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", p.etag)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, p.body)
	}))
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		p.srv.Listener = ln
	}
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

// publish sets the data: the repository's genai-prices data file (a source with a
// fraction of its models is refused) and a provider acme whose acme-large costs `in`
// USD per million input tokens.
func (p *priceServer) publish(t *testing.T, in float64, etag string) {
	data, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "third_party", "genai-prices", "data.json"))
	require.NoError(t, err)
	end := bytes.LastIndexByte(data, ']')
	require.Positive(t, end)
	acme := fmt.Sprintf(`,{"id":"acme","provider_match":{"equals":"acme"},"models":[
{"id":"acme-large","match":{"starts_with":"acme-large"},"prices":{"input_mtok":%g,"output_mtok":%g}}]}`, in, 4*in)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body = string(data[:end]) + acme + "]\n"
	p.etag = etag
}

func (p *priceServer) url() string { return p.srv.URL + "/prices/new_data/v2/data.json" }

// spanSink is an OTLP/HTTP trace backend that keeps the attributes of the spans it gets.
type spanSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []map[string]any
}

func newSpanSink(t *testing.T) *spanSink {
	s := &spanSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rss := req.Traces().ResourceSpans()
		s.mu.Lock()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				for k := 0; k < sss.At(j).Spans().Len(); k++ {
					s.spans = append(s.spans, sss.At(j).Spans().At(k).Attributes().AsRaw())
				}
			}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := ptraceotlp.NewExportResponse().MarshalProto()
		_, _ = w.Write(out)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// spanWithID returns the attributes of the span whose test.id is id.
func (s *spanSink) spanWithID(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.spans {
		if a["test.id"] == id {
			return a
		}
	}
	return nil
}

var spanSeq int

// priceCall sends one acme-large call of 1M input tokens and returns the attributes
// the collector delivered for it.
func priceCall(t *testing.T, c *harness.Collector, sink *spanSink) map[string]any {
	t.Helper()
	spanSeq++
	id := fmt.Sprintf("call-%d", spanSeq)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "price-source-test")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("chat acme-large")
	s.SetTraceID([16]byte{9, byte(spanSeq)})
	s.SetSpanID([8]byte{9, byte(spanSeq)})
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Second)))
	require.NoError(t, s.Attributes().FromRaw(map[string]any{"test.id": id, "gen_ai.operation.name": "chat",
		"gen_ai.provider.name": "acme", "gen_ai.request.model": "acme-large",
		"gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0}))
	require.Equal(t, http.StatusOK, postOTLP(t, c.OTLPHTTPEndpoint(), td))
	var got map[string]any
	harness.Eventually(t, 20*time.Second, func() string {
		if got = sink.spanWithID(id); got == nil {
			return "span " + id + " not delivered"
		}
		return ""
	})
	return got
}

func priceSourceConfig(t *testing.T, url, storageDir, sink string, interval time.Duration) string {
	return writeFile(t, "price-source.yaml", fmt.Sprintf(`
extensions:
  file_storage/prices:
    directory: %s
    create_directory: true
processors:
  llm_cost:
    price_files:
      - url: %s
        format: genai_prices
        reload_interval: %s
        timeout: 2s
    storage: file_storage/prices
exporters:
  otlphttp/sink:
    endpoint: %s
    compression: none
    retry_on_failure: {enabled: false}
service:
  extensions: [readiness, file_storage/prices]
  pipelines:
    traces: {receivers: [otlp], processors: [llm_cost], exporters: [otlphttp/sink]}
`, storageDir, url, interval, sink))
}

// TestPriceSourceByURL runs the built collector with a genai_prices URL source served by
// a local server: it prices with the fetched data, picks up a changed price within its
// reload interval without a restart, keeps pricing from its last good copy when the
// URL is down (saying so on /health and once in its log), and after a restart with the
// URL still down starts from the copy kept by the file_storage extension.
func TestPriceSourceByURL(t *testing.T) {
	prices := newPriceServer(t, "")
	prices.publish(t, 1.5, `"v1"`)
	sink := newSpanSink(t)
	storageDir := t.TempDir()
	const interval = 2 * time.Second
	configs := []string{writeFile(t, "base.yaml", ownTelemetryOnly), priceSourceConfig(t, prices.url(), storageDir, sink.srv.URL, interval)}
	c := harness.Start(t, harness.Options{Configs: configs})

	// Priced from the URL's data once fetched (the start does not wait for the network),
	// which says where it came from.
	harness.Eventually(t, 10*time.Second, func() string {
		if !c.ContainsLine("price source fetched") {
			return "the URL source is not fetched yet"
		}
		return ""
	})
	a := priceCall(t, c, sink)
	assert.Equal(t, "priced", a["llm_cost.status"])
	assert.InDelta(t, 1.5, a["gen_ai.usage.cost"], 1e-9)
	version := fmt.Sprint(a["llm_cost.pricing_version"])
	assert.True(t, strings.HasPrefix(version, prices.url()+" "), version)
	assert.True(t, strings.HasSuffix(version, ` etag "v1"`), version)

	// A new price is picked up within the reload interval (plus a send), no restart.
	pid := c.Pid()
	prices.publish(t, 2, `"v2"`)
	changed := time.Now()
	harness.Eventually(t, 3*interval+5*time.Second, func() string {
		if got := priceCall(t, c, sink)["gen_ai.usage.cost"]; got != 2.0 {
			return fmt.Sprintf("cost %v, want 2 (the new price)", got)
		}
		return ""
	})
	t.Logf("new price in use %s after it was published (reload_interval %s)", time.Since(changed).Round(100*time.Millisecond), interval)
	assert.Equal(t, pid, c.Pid(), "no restart")
	v2 := fmt.Sprint(priceCall(t, c, sink)["llm_cost.pricing_version"])
	assert.True(t, strings.HasSuffix(v2, ` etag "v2"`), v2)
	// Unchanged data is not downloaded again.
	harness.Eventually(t, 3*interval+5*time.Second, func() string {
		prices.mu.Lock()
		defer prices.mu.Unlock()
		if prices.n304 == 0 {
			return "no conditional request answered 304 yet"
		}
		return ""
	})

	// The URL goes down: the last good copy keeps pricing; /health says why.
	addr := prices.srv.Listener.Addr().String()
	prices.srv.Close()
	harness.Eventually(t, 3*interval+10*time.Second, func() string {
		code, body, err := c.Get(c.ReadinessURL("/health?verbose"))
		if err != nil || !strings.Contains(body, "price_files[0]: fetching: ") {
			return fmt.Sprintf("/health %d %v: %s", code, err, body)
		}
		assert.NotContains(t, body, "/prices/new_data/v2/data.json", "/health names the source by its place, not its URL")
		return ""
	})
	a = priceCall(t, c, sink)
	assert.Equal(t, "priced", a["llm_cost.status"])
	assert.InDelta(t, 2, a["gen_ai.usage.cost"], 1e-9, "the last good copy prices")
	assert.Equal(t, v2, a["llm_cost.pricing_version"])
	time.Sleep(2 * interval) // more failed fetches: still one log line for the change of state
	assert.Equal(t, 1, strings.Count(c.Logs(), "price source failed"), c.Logs())
	own := harness.MustScrape(t, c.TelemetryURL())
	failed, _ := own.Sum("otelcol_processor_llm_cost_price_fetches", map[string]string{"outcome": "failed"})
	assert.GreaterOrEqual(t, failed, 2.0, "every failed fetch is counted")
	failing, _ := own.Sum("otelcol_processor_llm_cost_price_source_failing_duration", map[string]string{"source": "price_files[0]"})
	assert.Greater(t, failing, 0.0)

	// A restart with the URL still down starts from the copy on disk.
	c.Signal(syscall.SIGTERM)
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the collector did not stop")
	}
	c2 := harness.Start(t, harness.Options{Configs: configs})
	a = priceCall(t, c2, sink)
	assert.Equal(t, "priced", a["llm_cost.status"])
	assert.InDelta(t, 2, a["gen_ai.usage.cost"], 1e-9, "priced from the stored copy, not the embedded table (which has no acme)")
	assert.Equal(t, v2, a["llm_cost.pricing_version"])
	assert.True(t, c2.ContainsLine("price source loaded from its stored copy"), c2.Logs())

	// The URL comes back (same address): the stored ETag makes the first request
	// conditional, and the status is OK again.
	back := newPriceServer(t, addr)
	back.publish(t, 2, `"v2"`)
	harness.Eventually(t, 3*interval+20*time.Second, func() string {
		back.mu.Lock()
		n := back.n304
		back.mu.Unlock()
		_, body, _ := c2.Get(c2.ReadinessURL("/health?verbose"))
		if n == 0 || strings.Contains(body, "price_files[0]") {
			return fmt.Sprintf("304s %d, /health: %s", n, body)
		}
		return ""
	})
}

// TestPriceSourceUnreachableAtFirstStart: a URL source that was never fetched and no
// stored copy: the embedded table prices (never an empty one), and the collector is
// up and ready, saying what failed.
func TestPriceSourceUnreachableAtFirstStart(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + closed.Addr().String() + "/data.json"
	require.NoError(t, closed.Close())
	sink := newSpanSink(t)
	c := harness.Start(t, harness.Options{Configs: []string{writeFile(t, "base.yaml", ownTelemetryOnly),
		priceSourceConfig(t, url, filepath.Join(t.TempDir(), "store"), sink.srv.URL, time.Hour)}})
	code, _, err := c.Get(c.ReadinessURL("/ready"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "a price source never stops the collector")

	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("chat gpt-4o")
	s.SetTraceID([16]byte{7})
	s.SetSpanID([8]byte{7})
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	require.NoError(t, s.Attributes().FromRaw(map[string]any{"test.id": "embedded", "gen_ai.operation.name": "chat",
		"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
		"gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0}))
	require.Equal(t, http.StatusOK, postOTLP(t, c.OTLPHTTPEndpoint(), td))
	var a map[string]any
	harness.Eventually(t, 20*time.Second, func() string {
		if a = sink.spanWithID("embedded"); a == nil {
			return "not delivered"
		}
		return ""
	})
	assert.InDelta(t, 2.5, a["gen_ai.usage.cost"], 1e-9)
	assert.Equal(t, "embedded 2026-09-23", a["llm_cost.pricing_version"])
	_, body, _ := c.Get(c.ReadinessURL("/health?verbose"))
	assert.Contains(t, body, "price_files[0]: fetching: ")
}
