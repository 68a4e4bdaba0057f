// Command loadgen sends realistic LLM agent traces to an OTLP endpoint at a target rate,
// or as fast as the collector accepts them, and reports what it achieved.
//
//	go run ./cmd/loadgen -endpoint localhost:4317 -rate 5000 -duration 30s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/procode-ai/otelcol-procode/internal/agenttraces"
)

type config struct {
	endpoint   string
	protocol   string
	rate       float64
	duration   time.Duration
	batch      int
	conns      int
	seed       int64
	errorRatio float64
	prebuilt   int
	timeout    time.Duration
	out        string
	quiet      bool
}

// Report is what one run achieved; -out writes it as JSON.
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

func main() {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "localhost:4317", "OTLP endpoint: host:port for grpc, host:port or URL for http")
	flag.StringVar(&cfg.protocol, "protocol", "grpc", "grpc or http")
	flag.Float64Var(&cfg.rate, "rate", 1000, "target spans per second over all connections; 0 sends as fast as the collector accepts")
	flag.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to send")
	flag.IntVar(&cfg.batch, "batch", 500, "spans per export request (whole traces, so slightly more)")
	flag.IntVar(&cfg.conns, "conns", 4, "concurrent connections")
	flag.Int64Var(&cfg.seed, "seed", 1, "random seed of the generated traces")
	flag.Float64Var(&cfg.errorRatio, "error-ratio", 0.01, "share of traces that fail with an exception")
	flag.IntVar(&cfg.prebuilt, "prebuilt", 8, "distinct batches pre-built per connection")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of one export call")
	flag.StringVar(&cfg.out, "out", "", "write the report as JSON to this file")
	flag.BoolVar(&cfg.quiet, "quiet", false, "print only the final report")
	flag.Parse()
	if err := validate(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(b))
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
}

func validate(cfg config) error {
	switch {
	case cfg.protocol != "grpc" && cfg.protocol != "http":
		return fmt.Errorf("-protocol %q: use grpc or http", cfg.protocol)
	case cfg.rate < 0:
		return fmt.Errorf("-rate %v must not be negative", cfg.rate)
	case cfg.batch < 1 || cfg.conns < 1 || cfg.prebuilt < 1:
		return errors.New("-batch, -conns and -prebuilt must be at least 1")
	case cfg.duration <= 0:
		return fmt.Errorf("-duration %s must be positive", cfg.duration)
	}
	return nil
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

func newExporter(cfg config) (exporter, error) {
	if cfg.protocol == "http" {
		url := cfg.endpoint
		if !bytes.HasPrefix([]byte(url), []byte("http")) {
			url = "http://" + url
		}
		return &httpExporter{url: url + "/v1/traces", client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}}, nil
	}
	conn, err := grpc.NewClient(cfg.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &grpcExporter{conn: conn, client: ptraceotlp.NewGRPCClient(conn)}, nil
}

func run(ctx context.Context, cfg config) (Report, error) {
	var (
		requests, spans, refused, failed, refusedSpans atomic.Int64
		mu                                             sync.Mutex
		latencies                                      []time.Duration
		lastErr                                        string
	)
	deadline := time.Now().Add(cfg.duration)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.conns; w++ {
		exp, err := newExporter(cfg)
		if err != nil {
			return Report{}, err
		}
		gen := agenttraces.New(agenttraces.Options{Seed: cfg.seed + int64(w), ErrorRatio: cfg.errorRatio, Services: agenttraces.DefaultOptions().Services})
		batches := make([]ptrace.Traces, cfg.prebuilt)
		for i := range batches {
			batches[i] = ptrace.NewTraces()
			gen.Batch(batches[i], cfg.batch)
		}
		var interval time.Duration
		if cfg.rate > 0 {
			perConn := cfg.rate / float64(cfg.conns)
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
				callCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
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
	if !cfg.quiet {
		go progress(ctx, &spans, deadline)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	return Report{
		Protocol:        cfg.protocol,
		TargetRate:      cfg.rate,
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
