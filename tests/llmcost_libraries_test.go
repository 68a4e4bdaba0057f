package tests

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.yaml.in/yaml/v3"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// The real instrumentation libraries (npm packages pinned by tests/node/llm's lockfile)
// around the real openai and @anthropic-ai/sdk clients and the Vercel AI SDK call fake
// OpenAI, Anthropic and Gemini servers that answer with the providers' wire shapes,
// and export their spans to the built collector. Per call, exactly one span is counted
// with the status the compatibility table below gives, at the price
// @pydantic/genai-prices computes from the usage the fake server returned (its own
// extractors read the response), run on third_party/genai-prices/data.json, the data
// the embedded table is generated from, so that a difference is one of reading or
// arithmetic, never of the data's date; every other LLM span of the call is a
// duplicate of it or skipped; and /metrics counts each call once and adds up their
// costs.

var updateCompat = flag.Bool("update-compat", false, "rewrite the compatibility table in processor/llmcost/README.md")

// outcome is what llm_cost makes of one call through one library.
type outcome string

const (
	// The call is priced at the oracle's price of the usage the provider returned.
	pricedFull outcome = "priced"
	// Priced, but the library leaves out the cached tokens: they are priced as input.
	pricedNoCache outcome = "priced, cache not reported"
	// Priced, but the library does not tell 1-hour cache writes apart.
	pricedNo1h outcome = "priced, 1-hour writes not told apart"
	// Priced at the flex tier (half the standard price).
	pricedFlex outcome = "priced at flex"
	// Priced at gpt-4.1's priority prices.
	pricedPriority outcome = "priced at priority"
	// The library reports no token counts for the call: counted, not priced.
	noUsage outcome = "no_usage"
	// The library writes no span for the call.
	notTraced outcome = "not traced"
)

// libraryCase is one library's scenario (tests/node/llm/libraries.cjs): its pinned
// versions and the outcome of each of its calls.
type libraryCase struct {
	name     string // as libraries.cjs names it
	title    string
	versions map[string]string
	calls    map[string]outcome // by call spec (calls.cjs id, "vercel:" for the AI SDK)
	notes    string
}

var openaiCalls = []string{"oa-chat", "oa-chat-stream", "oa-flex", "oa-priority", "oa-embed", "oa-responses", "oa-responses-stream"}

var libraryCases = []libraryCase{
	{
		name: "anthropic-sdk", title: "@anthropic-ai/sdk (its own spans, no instrumentation)",
		versions: map[string]string{"@anthropic-ai/sdk": "1.16.0"},
		calls:    map[string]outcome{"an-cache": pricedFull, "an-long": pricedFull, "an-stream": pricedFull},
		notes:    "Input includes the cache (OTel meaning); 5-minute and 1-hour writes apart; `anthropic.response.service_tier`.",
	},
	{
		name: "otel", title: "@opentelemetry/instrumentation-openai (OTel contrib)",
		versions: map[string]string{"@opentelemetry/instrumentation-openai": "0.21.0", "openai": "6.49.0", "@anthropic-ai/sdk": "1.16.0"},
		calls: map[string]outcome{"oa-chat": pricedNoCache, "oa-chat-stream": pricedFull, "oa-flex": pricedNoCache,
			"oa-priority": pricedFull, "oa-embed": pricedFull, "oa-responses": pricedNoCache, "oa-responses-stream": pricedFull,
			"an-cache": pricedFull, "an-long": pricedFull, "an-stream": pricedFull},
		notes: "No cached or reasoning tokens, no service tier (priced as standard). Anthropic calls: the SDK's own spans. 0.22 needs Node 22; openai 7 is not patched (`>=4.19 <7`).",
	},
	{
		name: "openllmetry", title: "OpenLLMetry JS (@traceloop/instrumentation-openai, -anthropic)",
		versions: map[string]string{"@traceloop/instrumentation-openai": "0.27.0", "@traceloop/instrumentation-anthropic": "0.27.0",
			"openai": "6.49.0", "anthropic-sdk-0": "0.137.0"},
		calls: map[string]outcome{"oa-chat": pricedNoCache, "oa-chat-stream": noUsage, "oa-flex": pricedNoCache,
			"oa-priority": pricedFull, "oa-embed": notTraced, "oa-responses": pricedNoCache, "oa-responses-stream": noUsage,
			"an-cache": pricedFull, "an-long": pricedFull, "an-stream": pricedFull},
		notes: "Anthropic input without the cache (read as such); its Anthropic spans are duplicates of the SDK's own. Streams without usage; embeddings not traced; no tier. " +
			"The Anthropic instrumentation throws on @anthropic-ai/sdk 1.x (it patches `Anthropic.Completions`, gone in 1.0): pinned to @anthropic-ai/sdk 0.137.0, which traces its own calls too.",
	},
	{
		name: "openinference", title: "OpenInference JS (@arizeai/openinference-instrumentation-openai, -anthropic)",
		versions: map[string]string{"@arizeai/openinference-instrumentation-openai": "4.2.7",
			"@arizeai/openinference-instrumentation-anthropic": "0.2.8", "openai": "6.49.0", "@anthropic-ai/sdk": "1.16.0"},
		calls: map[string]outcome{"oa-chat": pricedFull, "oa-chat-stream": noUsage, "oa-flex": pricedFlex,
			"oa-priority": pricedPriority, "oa-embed": noUsage, "oa-responses": pricedFull, "oa-responses-stream": pricedFull,
			"an-cache": pricedFull, "an-long": pricedFull, "an-stream": pricedFull},
		notes: "Cache and reasoning reported; the requested tier read from `llm.invocation_parameters`. Chat streams and embeddings without token counts. Its Anthropic spans are duplicates of the SDK's own (which tell 1-hour writes apart).",
	},
	{
		name: "openlit", title: "OpenLIT JS (openlit)",
		versions: map[string]string{"openlit": "1.15.0", "openai": "6.49.0", "@anthropic-ai/sdk": "1.16.0"},
		calls: map[string]outcome{"oa-chat": pricedFull, "oa-chat-stream": pricedFull, "oa-flex": pricedFlex,
			"oa-priority": pricedPriority, "oa-embed": pricedFull, "oa-responses": pricedFull, "oa-responses-stream": pricedFull,
			"an-cache": pricedFull, "an-long": pricedFull, "an-stream": pricedFull},
		notes: "Its own `gen_ai.usage.cost` kept in `llm_cost.provided_cost` (it ignores long-context prices; 0 without its price file). Anthropic input without the cache; Anthropic stream output one token too high. Its Anthropic spans are duplicates of the SDK's own (same response id).",
	},
	{
		name: "vercel", title: "Vercel AI SDK (ai, @ai-sdk/openai, -anthropic, -google)",
		versions: map[string]string{"ai": "6.0.333", "@ai-sdk/openai": "3.0.141", "@ai-sdk/anthropic": "3.0.140", "@ai-sdk/google": "3.0.141"},
		calls: map[string]outcome{"oa-chat": pricedFull, "oa-chat-stream": pricedFull, "oa-embed": pricedFull,
			"oa-responses": pricedFull, "oa-responses-stream": pricedFull, "an-cache": pricedFull, "an-long": pricedFull,
			"an-stream": pricedFull, "gm-chat": pricedFull, "gm-long": pricedFull},
		notes: "`do*` spans priced, outer `ai.generateText`/`ai.embed` skipped; 1-hour writes and the tier from `ai.response.providerMetadata`. ai 7 needs Node 22: pinned to ai 6.",
	},
	{
		name: "logfire", title: "Logfire JS (logfire span processing, with the OTel OpenAI instrumentation and the Vercel AI SDK)",
		versions: map[string]string{"logfire": "0.22.9", "@opentelemetry/instrumentation-openai": "0.21.0", "ai": "6.0.333"},
		calls: map[string]outcome{"oa-chat": pricedNoCache, "oa-chat-stream": pricedFull, "oa-embed": pricedFull,
			"an-cache": pricedFull, "vercel:oa-responses": pricedFull, "vercel:an-stream": pricedFull, "vercel:oa-embed": pricedFull},
		notes: "Every span's pending copy (`logfire.span_type=pending_span`) skipped.",
	},
}

// nodeReport is what tests/node/llm/run.cjs prints.
type nodeReport struct {
	Library  string            `json:"library"`
	Versions map[string]string `json:"versions"`
	Prices   string            `json:"prices"`
	Calls    []struct {
		Spec     string `json:"spec"`
		ID       string `json:"id"`
		TraceID  string `json:"traceId"`
		Error    string `json:"error"`
		Expected struct {
			Usage       map[string]float64 `json:"usage"`
			Model       string             `json:"model"`
			Cost        float64            `json:"cost"`
			CostNoCache float64            `json:"costNoCache"`
			CostNo1h    float64            `json:"costNo1h"`
			Error       string             `json:"error"`
		} `json:"expected"`
	} `json:"calls"`
}

// libSpanSink is an OTLP/HTTP trace backend keeping every span the collector exports.
type libSpanSink struct {
	mu    sync.Mutex
	spans map[string][]ptrace.Span // by trace id (hex)
	keep  []ptrace.Traces
}

func (s *libSpanSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	td := req.Traces()
	s.mu.Lock()
	s.keep = append(s.keep, td)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				id := span.TraceID().String()
				s.spans[id] = append(s.spans[id], span)
			}
		}
	}
	s.mu.Unlock()
	resp, _ := ptraceotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func (s *libSpanSink) trace(id string) []ptrace.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ptrace.Span(nil), s.spans[id]...)
}

// nodeLLMDir returns tests/node/llm with its packages installed: under CI a missing
// node or node_modules fails the test, elsewhere it skips it with what to run.
func nodeLLMDir(t *testing.T) string {
	t.Helper()
	harness.RequireCommand(t, "node", "nodejs")
	dir := filepath.Join(harness.RepoRoot(), "tests", "node", "llm")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@pydantic", "genai-prices")); err != nil {
		msg := "tests/node/llm/node_modules is missing: run make node-deps"
		if harness.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// servicetiers reads gpt-4.1's priority prices from processor/llmcost/servicetiers.yaml.
func priorityPrices(t *testing.T) (in, out float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "processor", "llmcost", "servicetiers.yaml"))
	require.NoError(t, err)
	var tiers map[string]map[string]struct {
		Models map[string]map[string]float64 `yaml:"models"`
	}
	require.NoError(t, yaml.Unmarshal(b, &tiers))
	p := tiers["openai"]["priority"].Models["gpt-4.1"]
	return p["input_mtok"], p["output_mtok"]
}

func TestLLMCostRealLibraries(t *testing.T) {
	dir := nodeLLMDir(t)

	sink := &libSpanSink{spans: map[string][]ptrace.Span{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	overlay := writeFile(t, "sink.yaml", fmt.Sprintf(`
exporters:
  otlphttp/sink:
    endpoint: http://%s
    compression: none
service:
  pipelines:
    traces:
      exporters: [spanmetrics, agent_metrics, sentry_errors, otlphttp/sink]
`, l.Addr()))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})
	priorityIn, priorityOut := priorityPrices(t)
	// The oracle prices with the data the embedded table is generated from.
	pricesData := filepath.Join(harness.RepoRoot(), "third_party", "genai-prices", "data.json")

	wantRequests := map[string]float64{}
	wantCost := map[string]float64{}
	for _, lib := range libraryCases {
		t.Run(lib.name, func(t *testing.T) {
			service := "llm-" + lib.name
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "run.cjs", "--library", lib.name, "--otlp", "http://"+c.OTLPHTTPEndpoint(),
				"--prices", pricesData)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "OTEL_SERVICE_NAME="+service)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			require.NoError(t, err, "node run.cjs --library %s: %s", lib.name, stderr.String())
			var report nodeReport
			require.NoError(t, json.Unmarshal(out, &report), "report: %s", out)
			require.Equal(t, pricesData, report.Prices, "the oracle's price data")
			for pkg, v := range lib.versions {
				assert.Equal(t, v, report.Versions[pkg], "%s is pinned at the version this test describes", pkg)
			}
			require.Len(t, report.Calls, len(lib.calls), "calls of %s", lib.name)
			for _, call := range report.Calls {
				want, ok := lib.calls[call.Spec]
				require.True(t, ok, "no expectation for %s through %s", call.Spec, lib.name)
				require.Empty(t, call.Error, "%s: the call failed", call.Spec)
				require.Empty(t, call.Expected.Error, "%s: the oracle", call.Spec)
				expected := map[outcome]float64{
					pricedFull: call.Expected.Cost, pricedNoCache: call.Expected.CostNoCache, pricedNo1h: call.Expected.CostNo1h,
					pricedFlex:     0.5 * call.Expected.Cost,
					pricedPriority: (call.Expected.Usage["input_tokens"]*priorityIn + call.Expected.Usage["output_tokens"]*priorityOut) / 1e6,
				}[want]
				checkCall(t, sink, call.TraceID, call.Spec, want, expected)
				if want != notTraced {
					wantRequests[service]++
				}
				wantCost[service] += expected
			}
		})
	}

	// /metrics counts each call once, and adds up the calls' costs.
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		var problems []string
		for _, lib := range libraryCases {
			service := "llm-" + lib.name
			svc := map[string]string{"service_name": service}
			if got, _ := fams.Sum("llm_requests_total", svc); got != wantRequests[service] {
				problems = append(problems, fmt.Sprintf("%s: llm_requests_total %v, want %v", service, got, wantRequests[service]))
			}
			if got, _ := fams.Sum("llm_cost_usd_total", svc); math.Abs(got-wantCost[service]) > 1e-9*math.Max(1, wantCost[service]) {
				problems = append(problems, fmt.Sprintf("%s: llm_cost_usd_total %v, want %v", service, got, wantCost[service]))
			}
		}
		if len(problems) > 0 {
			return strings.Join(problems, "\n") + "\n" + fams.Series("llm_requests_total")
		}
		return ""
	})
	checkCompatibilityTable(t)
}

// checkCall waits for the spans of one call's trace and checks that exactly one span is
// counted, with the expected status and cost, and that every other LLM span is a
// duplicate of it or skipped.
func checkCall(t *testing.T, sink *libSpanSink, traceID, spec string, want outcome, cost float64) {
	t.Helper()
	var spans []ptrace.Span
	var counted []ptrace.Span
	harness.Eventually(t, 20*time.Second, func() string {
		spans = sink.trace(traceID)
		counted = counted[:0]
		root := false
		for _, s := range spans {
			if _, ok := s.Attributes().Get("test.call.id"); ok && !isPending(s) {
				root = true
			}
			if st := llmStatus(s); st != "" && st != "skipped" && st != "duplicate" {
				counted = append(counted, s)
			}
		}
		switch {
		case !root:
			return fmt.Sprintf("%s: the call's root span has not arrived", spec)
		case want != notTraced && len(counted) == 0:
			return fmt.Sprintf("%s: no counted LLM span yet (%d spans)", spec, len(spans))
		}
		return ""
	})
	// Spans of one call end within milliseconds: once one is here, give the rest of the
	// batch a moment.
	time.Sleep(300 * time.Millisecond)
	spans = sink.trace(traceID)
	counted = counted[:0]
	for _, s := range spans {
		if st := llmStatus(s); st != "" && st != "skipped" && st != "duplicate" {
			counted = append(counted, s)
		}
	}
	if want == notTraced {
		assert.Empty(t, counted, "%s: the library traces no such call", spec)
		return
	}
	if !assert.Len(t, counted, 1, "%s: one call, one counted span: %s", spec, describe(spans)) {
		return
	}
	one := counted[0]
	if want == noUsage {
		assert.Equal(t, "no_usage", llmStatus(one), "%s: %s", spec, describe(spans))
	} else {
		assert.Equal(t, "priced", llmStatus(one), "%s: %s", spec, describe(spans))
		got, ok := one.Attributes().Get("gen_ai.usage.cost")
		if assert.True(t, ok, "%s: no cost: %s", spec, describe(spans)) {
			assert.InDelta(t, cost, got.Double(), 1e-9*math.Max(cost, 1e-6), "%s (%s): cost of %s", spec, want, describe(spans))
		}
	}
	for _, s := range spans {
		if llmStatus(s) == "duplicate" {
			assert.Equal(t, one.SpanID().String(), attr(s, "llm_cost.duplicate_of"), "%s: a duplicate names the counted span", spec)
		}
	}
}

// attr is a span's string attribute, "" when absent.
func attr(s ptrace.Span, key string) string {
	if v, ok := s.Attributes().Get(key); ok {
		return v.AsString()
	}
	return ""
}

func llmStatus(s ptrace.Span) string { return attr(s, "llm_cost.status") }

func isPending(s ptrace.Span) bool { return attr(s, "logfire.span_type") == "pending_span" }

func describe(spans []ptrace.Span) string {
	var parts []string
	for _, s := range spans {
		if st := llmStatus(s); st != "" {
			parts = append(parts, fmt.Sprintf("[%s %s %s cost=%s %s]", s.Name(), s.SpanID(), st, attr(s, "gen_ai.usage.cost"), attr(s, "llm_cost.note")))
		}
	}
	return strings.Join(parts, " ")
}

// compatibilityTable renders the expectations above as the README's compatibility
// table: a row per library, a column per call.
func compatibilityTable() string {
	cols := append([]string{}, openaiCalls...)
	cols = append(cols, "an-cache", "an-long", "an-stream", "gm-chat", "gm-long")
	short := map[outcome]string{pricedFull: "priced", pricedNoCache: "priced, no cache", pricedNo1h: "priced, no 1h",
		pricedFlex: "priced, flex", pricedPriority: "priced, priority", noUsage: "`no_usage`", notTraced: "not traced"}
	var b strings.Builder
	b.WriteString("| library (versions tested) | " + strings.Join(cols, " | ") + " | notes |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(cols)) + "---|\n")
	for _, lib := range libraryCases {
		var pkgs []string
		for p, v := range lib.versions {
			pkgs = append(pkgs, p+" "+v)
		}
		sort.Strings(pkgs)
		b.WriteString("| " + lib.title + " (" + strings.Join(pkgs, ", ") + ")")
		for _, col := range cols {
			cell := "–"
			if o, ok := lib.calls[col]; ok {
				cell = short[o]
			} else if o, ok := lib.calls["vercel:"+col]; ok {
				cell = short[o] + " (AI SDK)"
			}
			b.WriteString(" | " + cell)
		}
		b.WriteString(" | " + lib.notes + " |\n")
	}
	return b.String()
}

const (
	compatBegin = "<!-- compatibility table: generated by tests/llmcost_libraries_test.go (go test ./tests -run TestLLMCostRealLibraries -update-compat) -->\n"
	compatEnd   = "<!-- end compatibility table -->"
)

// checkCompatibilityTable holds the README's table to the expectations this test
// checked.
func checkCompatibilityTable(t *testing.T) {
	t.Helper()
	path := filepath.Join(harness.RepoRoot(), "processor", "llmcost", "README.md")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	readme := string(b)
	start, end := strings.Index(readme, compatBegin), strings.Index(readme, compatEnd)
	require.True(t, start >= 0 && end > start, "the README has no compatibility table markers")
	want := compatibilityTable()
	got := readme[start+len(compatBegin) : end]
	if *updateCompat {
		require.NoError(t, os.WriteFile(path, []byte(readme[:start+len(compatBegin)]+want+readme[end:]), 0o644))
		return
	}
	assert.Equal(t, want, got, "processor/llmcost/README.md's compatibility table differs from what this test checks (-update-compat rewrites it)")
}
