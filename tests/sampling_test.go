package tests

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// traceIDSink is an OTLP gRPC trace backend that counts the spans it receives per trace.
type traceIDSink struct {
	ptraceotlp.UnimplementedGRPCServer
	mu     sync.Mutex
	traces map[string]int
	spans  int
	// resource attribute key -> values seen
	resource map[string]map[string]bool
}

func (s *traceIDSink) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		for k, v := range rss.At(i).Resource().Attributes().All() {
			if s.resource[k] == nil {
				s.resource[k] = map[string]bool{}
			}
			s.resource[k][v.AsString()] = true
		}
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s.traces[spans.At(k).TraceID().String()]++
				s.spans++
			}
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func (s *traceIDSink) snapshot() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.traces))
	for k, v := range s.traces {
		out[k] = v
	}
	return out, s.spans
}

func (s *traceIDSink) traceIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.traces))
	for id := range s.traces {
		out = append(out, id)
	}
	return out
}

// resourceValues lists the values of resource attribute key seen on any span, sorted.
func (s *traceIDSink) resourceValues(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for v := range s.resource[key] {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func startTraceIDSink(t *testing.T) (*traceIDSink, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	sink := &traceIDSink{traces: map[string]int{}, resource: map[string]map[string]bool{}}
	ptraceotlp.RegisterGRPCServer(srv, sink)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return sink, l.Addr().String()
}

// seededIDs makes trace IDs from a fixed seed, so that which traces the probabilistic
// policy keeps (a hash of the trace ID) is the same on every run.
type seededIDs struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func (g *seededIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(tid[8:], g.rng.Uint64())
	return tid, g.span()
}

func (g *seededIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.span()
}

func (g *seededIDs) span() trace.SpanID {
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.rng.Uint64()|1)
	return sid
}

// samplingCase is one kind of trace the test sends: an HTTP request handled with one
// LLM call, shaped to meet (or just miss) one sampling policy.
type samplingCase struct {
	name     string
	count    int
	duration time.Duration
	model    string
	inTokens int
	failed   bool
}

// sendSamplingTraces sends every case's traces with the OTel Go SDK and returns the
// trace IDs sent, by case name.
func sendSamplingTraces(t *testing.T, c *harness.Collector, service string, cases []samplingCase) map[string][]string {
	t.Helper()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(256), sdktrace.WithBatchTimeout(100*time.Millisecond)),
		sdktrace.WithResource(harness.AppResource(service)),
		sdktrace.WithIDGenerator(&seededIDs{rng: rand.New(rand.NewPCG(6, 11))}),
	)
	tracer := tp.Tracer("e2e-sampling")
	sent := map[string][]string{}
	for _, tc := range cases {
		for i := 0; i < tc.count; i++ {
			end := time.Now()
			start := end.Add(-tc.duration)
			ctx, root := tracer.Start(context.Background(), "POST /api/chat", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithTimestamp(start), trace.WithAttributes(
					attribute.String("http.request.method", "POST"), attribute.String("http.route", "/api/chat")))
			_, llm := tracer.Start(ctx, "chat "+tc.model, trace.WithSpanKind(trace.SpanKindClient),
				trace.WithTimestamp(start.Add(10*time.Millisecond)), trace.WithAttributes(
					attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
					attribute.String("gen_ai.request.model", tc.model),
					attribute.Int("gen_ai.usage.input_tokens", tc.inTokens), attribute.Int("gen_ai.usage.output_tokens", 100)))
			llm.End(trace.WithTimestamp(end.Add(-10 * time.Millisecond)))
			if tc.failed {
				root.SetStatus(codes.Error, "upstream failed")
				root.SetAttributes(attribute.Int("http.response.status_code", 500))
			} else {
				root.SetAttributes(attribute.Int("http.response.status_code", 200))
			}
			root.End(trace.WithTimestamp(end))
			sent[tc.name] = append(sent[tc.name], root.SpanContext().TraceID().String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, tp.Shutdown(ctx))
	return sent
}

// runSampling runs the default config with the traces-backend overlay, sends cases and
// returns, per case name, how many of its traces reached the backend (each whole).
func runSampling(t *testing.T, env map[string]string, service string, cases []samplingCase) map[string]int {
	t.Helper()
	sink, addr := startTraceIDSink(t)
	env["OTLP_TRACES_ENDPOINT"] = addr
	env["OTLP_TRACES_INSECURE"] = "true"
	env["TRACES_DECISION_WAIT"] = "1s"
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), harness.RepoRoot() + "/config/overlays/traces-backend.yaml"},
		Env:     env,
	})
	sent := sendSamplingTraces(t, c, service, cases)
	total := 0
	for _, tc := range cases {
		total += tc.count
	}

	// Wait until tail_sampling has decided every trace and the exporter has delivered
	// what it kept.
	harness.Eventually(t, 60*time.Second, func() string {
		tel, err := harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		decided, _ := tel.Sum("otelcol_processor_tail_sampling_global_count_traces_sampled", nil)
		if decided < float64(total) {
			return fmt.Sprintf("tail_sampling decided %v of %d traces", decided, total)
		}
		exported, _ := tel.Sum("otelcol_exporter_sent_spans", map[string]string{"exporter": "otlp/traces"})
		kept, _ := tel.Sum("otelcol_processor_tail_sampling_global_count_traces_sampled", map[string]string{"sampled": "true"})
		_, got := sink.snapshot()
		if exported != float64(got) || float64(got) < 2*kept {
			return fmt.Sprintf("exporter sent %v spans of %v kept traces, the backend has %d", exported, kept, got)
		}
		return ""
	})

	// Sampling must not touch the metrics: every span and LLM call is counted.
	fams := harness.MustScrape(t, c.MetricsURL())
	calls, _ := fams.Sum("traces_span_metrics_calls_total", map[string]string{"service_name": service})
	assert.Equal(t, float64(2*total), calls, "span metrics must count every span, sampled or not:\n%s", fams.Series("traces_span_metrics_calls_total"))
	llmCalls, _ := fams.Sum("llm_requests_total", map[string]string{"service_name": service})
	assert.Equal(t, float64(total), llmCalls, "llm_requests_total must count every LLM call, sampled or not")

	got, _ := sink.snapshot()
	kept := map[string]int{}
	for name, ids := range sent {
		for _, id := range ids {
			switch n := got[id]; n {
			case 0:
			case 2:
				kept[name]++
			default:
				t.Errorf("%s trace %s reached the backend with %d of its 2 spans", name, id, n)
			}
		}
	}
	c.Stop(30 * time.Second)
	return kept
}

// Prices (USD per million input tokens): gpt-4o 2.50, gpt-4o-mini 0.15.
// 60000 gpt-4o input tokens cost $0.15; 20000 cost $0.05.

// TestTailSamplingDefaults proves each policy of config/overlays/traces-backend.yaml with
// its defaults (errors, LLM calls over $0.10, traces over 5s, 10% of the rest) on the
// built binary, and that span and LLM metrics still count every span.
func TestTailSamplingDefaults(t *testing.T) {
	cases := []samplingCase{
		{name: "error", count: 30, duration: 200 * time.Millisecond, model: "gpt-4o-mini", inTokens: 1000, failed: true},
		{name: "expensive", count: 30, duration: 200 * time.Millisecond, model: "gpt-4o", inTokens: 60000},
		{name: "slow", count: 30, duration: 6 * time.Second, model: "gpt-4o-mini", inTokens: 1000},
		// The rest: ordinary traces, and traces just under the cost and latency thresholds.
		{name: "ordinary", count: 300, duration: 200 * time.Millisecond, model: "gpt-4o-mini", inTokens: 1000},
		{name: "almost_expensive", count: 150, duration: 200 * time.Millisecond, model: "gpt-4o", inTokens: 20000},
		{name: "almost_slow", count: 150, duration: 4 * time.Second, model: "gpt-4o-mini", inTokens: 1000},
	}
	kept := runSampling(t, map[string]string{}, "e2e-sampling-defaults", cases)
	t.Logf("kept per case: %v", kept)
	assert.Equal(t, 30, kept["error"], "every trace with an error is kept")
	assert.Equal(t, 30, kept["expensive"], "every trace with an LLM call over $0.10 is kept")
	assert.Equal(t, 30, kept["slow"], "every trace over 5s is kept")
	rest := kept["ordinary"] + kept["almost_expensive"] + kept["almost_slow"]
	// 10% of 600 is 60 (binomial sd 7.3); the trace IDs are seeded, so this is stable.
	assert.InDelta(t, 60, rest, 22, "about 10%% of the other 600 traces is kept")
	assert.Less(t, kept["almost_expensive"], 40, "traces under the cost threshold are sampled, not all kept")
	assert.Less(t, kept["almost_slow"], 40, "traces under the latency threshold are sampled, not all kept")
}

// TestTailSamplingConfigured changes every threshold through its environment variable.
func TestTailSamplingConfigured(t *testing.T) {
	cases := []samplingCase{
		// Over the raised thresholds.
		{name: "expensive", count: 20, duration: 200 * time.Millisecond, model: "gpt-4o", inTokens: 100000}, // $0.25
		{name: "slow", count: 20, duration: 2500 * time.Millisecond, model: "gpt-4o-mini", inTokens: 1000},
		// Kept by the defaults, not by these settings.
		{name: "was_expensive", count: 100, duration: 200 * time.Millisecond, model: "gpt-4o", inTokens: 60000}, // $0.15
		{name: "ordinary", count: 300, duration: 200 * time.Millisecond, model: "gpt-4o-mini", inTokens: 1000},
	}
	kept := runSampling(t, map[string]string{
		"TRACES_SAMPLE_PERCENTAGE":  "40",
		"TRACES_EXPENSIVE_COST_USD": "0.2",
		"TRACES_SLOW_THRESHOLD_MS":  "2000",
	}, "e2e-sampling-configured", cases)
	t.Logf("kept per case: %v", kept)
	assert.Equal(t, 20, kept["expensive"], "every trace with an LLM call over $0.20 is kept")
	assert.Equal(t, 20, kept["slow"], "every trace over 2s is kept")
	// 40% of 400 is 160 (binomial sd 9.8).
	assert.InDelta(t, 160, kept["was_expensive"]+kept["ordinary"], 35, "about 40%% of the other 400 traces is kept")
	assert.Less(t, kept["was_expensive"], 70, "a $0.15 call is under the $0.20 threshold")
}
