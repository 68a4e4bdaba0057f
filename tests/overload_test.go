package tests

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// rateLimitedSink is an OTLP gRPC trace backend that takes at most rate spans per
// second (requests are served one at a time, each for len/rate seconds): the
// collector's sustainable rate when it forwards traces there. It records every span
// ID it accepted and how often.
type rateLimitedSink struct {
	ptraceotlp.UnimplementedGRPCServer
	rate float64

	serve sync.Mutex // one request at a time
	mu    sync.Mutex
	seen  map[trace.SpanID]int
}

func (s *rateLimitedSink) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.serve.Lock()
	defer s.serve.Unlock()
	n := req.Traces().SpanCount()
	select {
	case <-time.After(time.Duration(float64(n) / s.rate * float64(time.Second))):
	case <-ctx.Done():
		// The exporter gave up on this request and will send it again: do not count it.
		return ptraceotlp.NewExportResponse(), status.Error(codes.DeadlineExceeded, "sink: caller gave up")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s.seen[trace.SpanID(spans.At(k).SpanID())]++
			}
		}
	}
	return ptraceotlp.NewExportResponse(), nil
}

func (s *rateLimitedSink) count(ids map[trace.SpanID]bool) (arrived, missing, duplicates, extra int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.seen {
		if !ids[id] {
			extra += n
			continue
		}
		arrived++
		duplicates += n - 1
	}
	return arrived, len(ids) - arrived, duplicates, extra
}

type rssSample struct {
	at    time.Time
	bytes int64
}

func startRateLimitedSink(t *testing.T, rate float64) (*rateLimitedSink, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	sink := &rateLimitedSink{rate: rate, seen: map[trace.SpanID]int{}}
	ptraceotlp.RegisterGRPCServer(srv, sink)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return sink, l.Addr().String()
}

// TestOverloadIsRefusedRetryablyAndLosesNothing offers the collector twice the rate
// its trace backend takes, with spans of 4 KiB, for 15 seconds. The sending queue
// grows until memory_limiter refuses new data with a retryable gRPC status; the
// collector's RSS stays bounded; the app's OpenTelemetry SDK exporter, with its retry
// enabled, retries every refused request; once the backlog drains, every span the SDK
// was told was accepted has reached the backend.
func TestOverloadIsRefusedRetryablyAndLosesNothing(t *testing.T) {
	const (
		sustainable = 1000.0 // spans/s the backend takes
		offered     = 2 * sustainable
		batch       = 100 // spans per OTLP request
		loadFor     = 16 * time.Second
		limitMiB    = 40
	)
	sink, addr := startRateLimitedSink(t, sustainable)
	exporters := append(defaultServiceList(t, "pipelines", "traces", "exporters"), "otlp/sink")
	overlay := writeFile(t, "overload.yaml", fmt.Sprintf(`
processors:
  memory_limiter:
    check_interval: 100ms
exporters:
  otlp/sink:
    endpoint: %s
    tls: {insecure: true}
    timeout: 30s
    retry_on_failure: {initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}
    sending_queue: {queue_size: 100000}
service:
  pipelines:
    traces:
      exporters: %s
`, addr, yamlList(exporters...)))
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), overlay},
		Env:     map[string]string{"MEMORY_LIMIT_MIB": fmt.Sprint(limitMiB), "MEMORY_SPIKE_LIMIT_MIB": "8"},
	})
	idleRSS, err := harness.RSS(c.PID())
	require.NoError(t, err)

	// The app: the SDK's OTLP exporter with retry on, called directly so that no SDK
	// queue can drop a span; each call returns once the collector accepted the batch
	// or the retry gave up. The interceptor sees every answer of every attempt.
	var answers sync.Map // codes.Code -> *atomic.Int64
	countAnswer := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		n, _ := answers.LoadOrStore(status.Code(err), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		return err
	}
	exp, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithTimeout(2*time.Minute), // one export, retries included
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: 250 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 2 * time.Minute}),
		otlptracegrpc.WithDialOption(grpc.WithUnaryInterceptor(countAnswer)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })

	payload := strings.Repeat("x", 4096)
	var traceID trace.TraceID
	_, _ = rand.Read(traceID[:])
	var next atomic.Uint64
	makeBatch := func() ([]sdktrace.ReadOnlySpan, []trace.SpanID) {
		stubs := make(tracetest.SpanStubs, batch)
		ids := make([]trace.SpanID, batch)
		now := time.Now()
		for i := range stubs {
			binary.BigEndian.PutUint64(ids[i][:], next.Add(1))
			stubs[i] = tracetest.SpanStub{
				Name:        "GET /api/search",
				SpanKind:    trace.SpanKindServer,
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: ids[i], TraceFlags: trace.FlagsSampled}),
				StartTime:   now.Add(-5 * time.Millisecond),
				EndTime:     now,
				Attributes:  []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("app.payload", payload)},
				Resource:    harness.AppResource("overload-app"),
			}
		}
		return stubs.Snapshots(), ids
	}

	var (
		mu       sync.Mutex
		accepted = map[trace.SpanID]bool{}
		failed   int
		rss      []rssSample
		readyBad []string
		degraded bool
		// limiterMessage is the memory limiter's /health check while it refused data.
		limiterMessage string
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// New spans are generated at the offered rate whatever happens to earlier ones, as
	// an app's request handlers keep ending spans; each batch is exported on its own,
	// retrying until the collector takes it.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) * batch / offered))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			spans, ids := makeBatch()
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := exp.ExportSpans(context.Background(), spans)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed += len(ids)
					t.Logf("export gave up: %v", err)
					return
				}
				for _, id := range ids {
					accepted[id] = true
				}
			}()
		}
	}()
	watch := make(chan struct{})
	go func() {
		defer close(watch)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if v, err := harness.RSS(c.PID()); err == nil {
				mu.Lock()
				rss = append(rss, rssSample{time.Now(), v})
				mu.Unlock()
			}
			if code, body, err := c.Get(c.ReadinessURL("/ready")); err != nil || code != http.StatusOK {
				mu.Lock()
				readyBad = append(readyBad, fmt.Sprintf("%d %v %s", code, err, body))
				mu.Unlock()
			}
			if _, body, err := c.Get(c.ReadinessURL("/health")); err == nil {
				var h struct {
					Checks map[string]deliveryCheck `json:"checks"`
				}
				if json.Unmarshal([]byte(body), &h) == nil && h.Checks["processor:memory_limiter"].status() == "degraded" {
					mu.Lock()
					degraded = true
					limiterMessage = h.Checks["processor:memory_limiter"].message()
					mu.Unlock()
				}
			}
		}
	}()
	loadStart := time.Now()
	time.Sleep(loadFor)
	firstThird, lastThird := loadStart.Add(loadFor/3), loadStart.Add(loadFor*2/3)
	close(stop)
	wg.Wait() // every export returned: accepted, or given up by the SDK's retry
	<-watch

	mu.Lock()
	sent := len(accepted)
	mu.Unlock()
	generated := int(next.Load())
	t.Logf("generated %d spans in %s (%.0f/s, the backend takes %.0f/s); all exports returned after %s: %d spans accepted, %d given up",
		generated, loadFor, float64(generated)/loadFor.Seconds(), sustainable, time.Since(loadStart).Round(100*time.Millisecond), sent, failed)
	harness.Eventually(t, 90*time.Second, func() string {
		arrived, missing, _, _ := sink.count(accepted)
		if missing > 0 {
			return fmt.Sprintf("%d of %d spans at the backend so far", arrived, sent)
		}
		return ""
	})
	time.Sleep(time.Second)
	arrived, missing, duplicates, extra := sink.count(accepted)

	var codesSeen []string
	retryable := int64(0)
	answers.Range(func(k, v any) bool {
		code, n := k.(codes.Code), v.(*atomic.Int64).Load()
		codesSeen = append(codesSeen, fmt.Sprintf("%s x%d", code, n))
		switch code {
		case codes.OK:
		case codes.Unavailable, codes.ResourceExhausted:
			retryable += n
		default:
			t.Errorf("the collector answered %s %d times: not a retryable refusal", code, n)
		}
		return true
	})
	var peakFirst, peakLast, peakRSS int64
	for _, s := range rss {
		peakRSS = max(peakRSS, s.bytes)
		if s.at.Before(firstThird) {
			peakFirst = max(peakFirst, s.bytes)
		} else if !s.at.Before(lastThird) {
			peakLast = max(peakLast, s.bytes)
		}
	}
	own := harness.MustScrape(t, c.TelemetryURL())
	refused, _ := own.Sum("otelcol_receiver_refused_spans", map[string]string{"receiver": "otlp"})
	limiterRefused, _ := own.Sum("otelcol_processor_memory_limiter_refused_spans", nil)
	t.Logf("answers to the SDK: %v; receiver refused %v spans, memory_limiter %v; RSS idle %d MiB, peak %d MiB in the first third of the load, %d MiB in the last (limit_mib %d); at the backend %d, duplicates %d",
		codesSeen, refused, limiterRefused, idleRSS>>20, peakFirst>>20, peakLast>>20, limitMiB, arrived, duplicates)

	assert.Greater(t, retryable, int64(0), "memory_limiter never refused: the load was not above what the collector could hold")
	assert.Greater(t, limiterRefused, 0.0, "memory_limiter's own count of refused spans:\n%s", own.Series("otelcol_processor_memory_limiter_refused_spans"))
	assert.Zero(t, failed, "the SDK's retry gave up on some batches")
	assert.Equal(t, generated, sent, "every generated span was accepted in the end")
	assert.Zero(t, missing, "spans the collector accepted but never delivered")
	assert.Zero(t, extra, "spans the backend received that the SDK never had accepted")
	// Bounded: RSS levels off once memory_limiter refuses. Without it the backlog of
	// 1000 spans/s makes RSS grow to the end (measured with the limit lifted: 146 MiB in
	// the first third, 209 MiB in the last, from 97 MiB idle); with it, RSS stays within
	// the heap limit, the Go GC's headroom and the receive buffers.
	assert.LessOrEqual(t, peakLast, peakFirst+32<<20, "RSS kept growing to the end of the load")
	assert.LessOrEqual(t, peakRSS, idleRSS+3*limitMiB<<20, "RSS grew past idle + 3 x limit_mib")
	assert.Empty(t, readyBad, "/ready stays 200 while memory_limiter refuses (recovery_duration is 5m)")
	assert.True(t, degraded, "/health shows the refusing memory limiter as degraded")
	assert.Regexp(t, `^refusing data for \d+s \(memory usage \d+ MiB is above the soft limit\); refused \d+ spans in the last 5m`, limiterMessage)
	t.Logf("/health while refusing: processor:memory_limiter %s", limiterMessage)
	c.Stop(60 * time.Second)
}
