// Package loadgen sends realistic LLM agent traces (internal/agenttraces) to an OTLP
// endpoint at a target rate, or as fast as the receiver accepts them, and reports what
// it achieved. cmd/loadgen is its command line; the end-to-end benchmarks drive it too.
package loadgen // import "github.com/procode-ai/otelcol-procode/internal/loadgen"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/procode-ai/otelcol-procode/internal/agenttraces"
)

// Config is one run's settings.
type Config struct {
	Endpoint   string        // host:port for grpc; host:port or URL for http
	Protocol   string        // grpc or http
	Rate       float64       // target spans per second over all connections; 0: as fast as accepted
	Duration   time.Duration // how long to send
	Batch      int           // spans per export request (whole traces, so slightly more)
	Conns      int           // concurrent connections
	Seed       int64         // random seed of the generated traces
	ErrorRatio float64       // share of traces that fail with an exception
	Prebuilt   int           // distinct batches pre-built per connection
	Timeout    time.Duration // timeout of one export call
	Progress   bool          // print progress to stderr every 5s
}

// DefaultConfig is cmd/loadgen's defaults.
func DefaultConfig() Config {
	return Config{Endpoint: "localhost:4317", Protocol: "grpc", Rate: 1000, Duration: 30 * time.Second,
		Batch: 500, Conns: 4, Seed: 1, ErrorRatio: 0.01, Prebuilt: 8, Timeout: 10 * time.Second}
}

// Validate names the first bad setting.
func (cfg Config) Validate() error {
	switch {
	case cfg.Protocol != "grpc" && cfg.Protocol != "http":
		return fmt.Errorf("protocol %q: use grpc or http", cfg.Protocol)
	case cfg.Rate < 0:
		return fmt.Errorf("rate %v must not be negative", cfg.Rate)
	case cfg.Batch < 1 || cfg.Conns < 1 || cfg.Prebuilt < 1:
		return errors.New("batch, conns and prebuilt must be at least 1")
	case cfg.Duration <= 0:
		return fmt.Errorf("duration %s must be positive", cfg.Duration)
	}
	return nil
}

// Report is what one run achieved.
type Report struct {
	Protocol        string  `json:"protocol"`
	TargetRate      float64 `json:"target_spans_per_second"`
	DurationSeconds float64 `json:"duration_seconds"`
	Requests        int64   `json:"requests"`
	SpansSent       int64   `json:"spans_sent"`
	SpansPerSecond  float64 `json:"spans_per_second"`
	Refused         int64   `json:"refused_requests"`
	Failed          int64   `json:"failed_requests"`
	RefusedSpans    int64   `json:"refused_spans"`
	LatencyP50Ms    float64 `json:"export_latency_p50_ms"`
	LatencyP90Ms    float64 `json:"export_latency_p90_ms"`
	LatencyP99Ms    float64 `json:"export_latency_p99_ms"`
	LatencyMaxMs    float64 `json:"export_latency_max_ms"`
	LastError       string  `json:"last_error,omitempty"`
}

type exporter interface {
	export(ctx context.Context, td ptrace.Traces) (refused bool, err error)
	close()
}

type grpcExporter struct {
	conn   *grpc.ClientConn
	client ptraceotlp.GRPCClient
}

func (e *grpcExporter) export(ctx context.Context, td ptrace.Traces) (bool, error) {
	_, err := e.client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	if err == nil {
		return false, nil
	}
	switch status.Code(err) {
	case codes.ResourceExhausted, codes.Unavailable:
		return true, err
	}
	return false, err
}

func (e *grpcExporter) close() { _ = e.conn.Close() }

type httpExporter struct {
	url    string
	client *http.Client
}

func (e *httpExporter) export(ctx context.Context, td ptrace.Traces) (bool, error) {
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := e.client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return true, fmt.Errorf("http status %d", resp.StatusCode)
	default:
		return false, fmt.Errorf("http status %d", resp.StatusCode)
	}
}

func (e *httpExporter) close() { e.client.CloseIdleConnections() }

func newExporter(cfg Config) (exporter, error) {
	if cfg.Protocol == "http" {
		url := cfg.Endpoint
		if !strings.HasPrefix(url, "http") {
			url = "http://" + url
		}
		return &httpExporter{url: url + "/v1/traces", client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}}, nil
	}
	conn, err := grpc.NewClient(cfg.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &grpcExporter{conn: conn, client: ptraceotlp.NewGRPCClient(conn)}, nil
}

// Run sends for cfg.Duration (or until ctx ends) and reports what was achieved.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	var (
		requests, spans, refused, failed, refusedSpans atomic.Int64
		mu                                             sync.Mutex
		latencies                                      []time.Duration
		lastErr                                        string
	)
	deadline := time.Now().Add(cfg.Duration)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.Conns; w++ {
		exp, err := newExporter(cfg)
		if err != nil {
			return Report{}, err
		}
		gen := agenttraces.New(agenttraces.Options{Seed: cfg.Seed + int64(w), ErrorRatio: cfg.ErrorRatio, Services: agenttraces.DefaultOptions().Services})
		batches := make([]ptrace.Traces, cfg.Prebuilt)
		for i := range batches {
			batches[i] = ptrace.NewTraces()
			gen.Batch(batches[i], cfg.Batch)
		}
		var interval time.Duration
		if cfg.Rate > 0 {
			perConn := cfg.Rate / float64(cfg.Conns)
			interval = time.Duration(float64(batches[0].SpanCount()) / perConn * float64(time.Second))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer exp.close()
			next := time.Now()
			local := make([]time.Duration, 0, 1024)
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
						}
					}
					next = next.Add(interval)
				}
				td := batches[i%len(batches)]
				gen.Refresh(td)
				callCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				t0 := time.Now()
				isRefused, err := exp.export(callCtx, td)
				local = append(local, time.Since(t0))
				cancel()
				requests.Add(1)
				switch {
				case err == nil:
					spans.Add(int64(td.SpanCount()))
				case isRefused:
					refused.Add(1)
					refusedSpans.Add(int64(td.SpanCount()))
				default:
					failed.Add(1)
				}
				if err != nil {
					mu.Lock()
					lastErr = err.Error()
					mu.Unlock()
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	if cfg.Progress {
		go progress(ctx, &spans, deadline)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	return Report{
		Protocol:        cfg.Protocol,
		TargetRate:      cfg.Rate,
		DurationSeconds: elapsed,
		Requests:        requests.Load(),
		SpansSent:       spans.Load(),
		SpansPerSecond:  float64(spans.Load()) / elapsed,
		Refused:         refused.Load(),
		Failed:          failed.Load(),
		RefusedSpans:    refusedSpans.Load(),
		LatencyP50Ms:    quantileMs(latencies, 0.50),
		LatencyP90Ms:    quantileMs(latencies, 0.90),
		LatencyP99Ms:    quantileMs(latencies, 0.99),
		LatencyMaxMs:    quantileMs(latencies, 1),
		LastError:       lastErr,
	}, nil
}

func progress(ctx context.Context, spans *atomic.Int64, deadline time.Time) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if time.Now().After(deadline) {
				return
			}
			n := spans.Load()
			fmt.Fprintf(os.Stderr, "loadgen: %d spans sent, %.0f spans/s\n", n, float64(n-last)/5)
			last = n
		}
	}
}

func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}
