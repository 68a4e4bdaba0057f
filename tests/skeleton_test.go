package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

func TestDefaultConfigEndpoints(t *testing.T) {
	c := harness.Start(t, harness.Options{})

	code, body, err := c.Get(c.ReadinessURL("/livez"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	code, body, err = c.Get(c.ReadinessURL("/health"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, body)
	var h struct {
		Status        string                    `json:"status"`
		Timestamp     string                    `json:"timestamp"`
		Version       string                    `json:"version"`
		UptimeSeconds *int64                    `json:"uptime_seconds"`
		Checks        map[string]map[string]any `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &h), body)
	// The default config probes this machine's disk and memory; a nearly full disk
	// degrades the whole, so allow that, but only for that reason.
	if h.Status != "healthy" {
		assert.Equal(t, "degraded", h.Status)
		assert.True(t, h.Checks["disk_space"]["status"] != "healthy" || h.Checks["memory"]["status"] != "healthy",
			"degraded although disk and memory are healthy: %v", h.Checks)
	}
	ts, err := time.Parse(time.RFC3339, h.Timestamp)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ts, time.Minute)
	assert.True(t, strings.HasSuffix(h.Timestamp, "Z"), "timestamp in UTC: %s", h.Timestamp)
	assert.NotEmpty(t, h.Version)
	require.NotNil(t, h.UptimeSeconds)
	for _, name := range []string{"pipeline:traces", "pipeline:metrics", "pipeline:logs"} {
		require.Contains(t, h.Checks, name)
		assert.Equal(t, "healthy", h.Checks[name]["status"])
		assert.Contains(t, h.Checks[name], "latency_ms")
		assert.Contains(t, h.Checks[name], "message")
	}

	code, body, err = c.Get(c.ReadinessURL("/ready"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	var r struct {
		Ready     bool   `json:"ready"`
		Timestamp string `json:"timestamp"`
		Checks    map[string]struct {
			Ready   bool   `json:"ready"`
			Message string `json:"message"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	assert.True(t, r.Ready)
	assert.True(t, r.Checks["pipelines"].Ready)

	code, body, err = c.Get(c.ReadinessURL("/ready?verbose"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "[+]pipelines ok\n")
	assert.True(t, strings.HasSuffix(body, "ready check passed\n"), body)

	code, _, err = c.Get(c.ReadinessURL("/nope"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, code)

	resp, err := http.Post(c.ReadinessURL("/ready"), "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// The bodies carry neither config nor endpoints.
	for _, path := range []string{"/health", "/ready", "/health?verbose", "/ready?verbose"} {
		_, body, err := c.Get(c.ReadinessURL(path))
		require.NoError(t, err)
		assert.NotContains(t, body, "127.0.0.1", path)
		assert.NotContains(t, body, "endpoint", path)
	}

	c.Stop(30 * time.Second)
}

func TestSpanBecomesSpanMetrics(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	tp := harness.TracerProvider(t, c, "e2e-app")
	tracer := tp.Tracer("e2e")
	for i := 0; i < 3; i++ {
		_, span := tracer.Start(context.Background(), "POST /api/chat", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.Int("http.response.status_code", 200)))
		time.Sleep(5 * time.Millisecond)
		span.End()
	}
	require.NoError(t, tp.ForceFlush(context.Background()))

	match := map[string]string{"service_name": "e2e-app", "span_name": "POST /api/chat", "span_kind": "SPAN_KIND_SERVER", "http_request_method": "POST"}
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		calls, _ := fams.Sum("traces_span_metrics_calls_total", match)
		count, _ := fams.Sum("traces_span_metrics_duration_seconds", match)
		if calls != 3 || count != 3 {
			return fmt.Sprintf("calls %v, histogram count %v; have %v\n%s", calls, count, fams.Names(), fams.Series("traces_span_metrics_calls_total"))
		}
		sum, _ := fams.HistogramSum("traces_span_metrics_duration_seconds", match)
		if sum < 0.015 || sum > 5 {
			return fmt.Sprintf("duration sum %v s, want at least 3 x 5ms", sum)
		}
		return ""
	})
	c.Stop(30 * time.Second)
}

// TestSpanMetricsSeriesAreBounded: span metrics keep at most
// SPANMETRICS_MAX_SERIES_PER_SERVICE label sets per service (plus one overflow series),
// whatever the span names: unbounded names once grew /metrics without limit and held
// memory that memory_limiter then refused all data for.
func TestSpanMetricsSeriesAreBounded(t *testing.T) {
	c := harness.Start(t, harness.Options{Env: map[string]string{"SPANMETRICS_MAX_SERVICES": "3", "SPANMETRICS_MAX_SERIES_PER_SERVICE": "5"}})
	for s := 0; s < 8; s++ {
		tp := harness.TracerProvider(t, c, fmt.Sprintf("svc-%d", s))
		for n := 0; n < 20; n++ {
			_, span := tp.Tracer("e2e").Start(context.Background(), fmt.Sprintf("GET /items/%d", n))
			span.End()
		}
		require.NoError(t, tp.ForceFlush(context.Background()))
	}
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if _, ok := fams.Sum("traces_span_metrics_calls_total", map[string]string{"otel_metric_overflow": "true"}); !ok {
			return "no overflow series yet:\n" + fams.Series("traces_span_metrics_calls_total")
		}
		return ""
	})
	fams := harness.MustScrape(t, c.MetricsURL())
	perService := map[string]int{}
	for _, m := range fams["traces_span_metrics_calls_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "job" {
				perService[l.GetValue()]++
			}
		}
	}
	require.NotEmpty(t, perService)
	for svc, n := range perService {
		assert.LessOrEqual(t, n, 5+1, "%s: 20 span names", svc)
	}
	c.Stop(30 * time.Second)
}

func TestMetricsAndLogsAccepted(t *testing.T) {
	c := harness.Start(t, harness.Options{})

	mp := harness.MeterProvider(t, c, "e2e-app")
	counter, err := mp.Meter("e2e").Int64Counter("app.signups")
	require.NoError(t, err)
	counter.Add(context.Background(), 7, metricAttr("plan", "pro"))
	require.NoError(t, mp.ForceFlush(context.Background()))

	lp := harness.LoggerProvider(t, c, "e2e-app")
	var rec otellog.Record
	rec.SetSeverity(otellog.SeverityInfo)
	rec.SetBody(attribute.StringValue("hello from the e2e test"))
	lp.Logger("e2e").Emit(context.Background(), rec)
	require.NoError(t, lp.ForceFlush(context.Background()))

	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if v, _ := fams.Sum("app_signups_total", map[string]string{"plan": "pro"}); v != 7 {
			return fmt.Sprintf("app_signups_total = %v; have %v", v, fams.Names())
		}
		own, err := harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		if v, _ := own.Sum("otelcol_receiver_accepted_log_records", map[string]string{"receiver": "otlp"}); v != 1 {
			return fmt.Sprintf("accepted log records = %v; have %v", v, own.Names())
		}
		return ""
	})
	c.Stop(30 * time.Second)
}

// TestReadyTurnsUnavailableOnSIGTERM holds the shutdown open with an export that cannot
// finish (a trace backend that accepts TCP and never answers), then checks that /ready
// answers 503 while /livez still answers 200, before the process exits cleanly.
func TestReadyTurnsUnavailableOnSIGTERM(t *testing.T) {
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer blackhole.Close()
	go func() {
		for {
			conn, err := blackhole.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()

	overlay := writeFile(t, "overlay.yaml", fmt.Sprintf(`
exporters:
  otlp/blackhole:
    endpoint: %s
    tls: {insecure: true}
    timeout: 4s
    retry_on_failure: {enabled: false}
    sending_queue: {enabled: false}
service:
  pipelines:
    traces:
      exporters: [spanmetrics, agent_metrics, otlp/blackhole]
`, blackhole.Addr()))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})

	tp := harness.TracerProvider(t, c, "e2e-app")
	_, span := tp.Tracer("e2e").Start(context.Background(), "stuck export")
	span.End()
	require.NoError(t, tp.ForceFlush(context.Background()))
	time.Sleep(500 * time.Millisecond) // past the batch timeout: the export is now blocked

	c.Signal(os.Interrupt)
	var saw503, livezOK bool
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !saw503 {
		code, body, err := c.Get(c.ReadinessURL("/ready"))
		if err == nil && code == http.StatusServiceUnavailable {
			saw503 = strings.Contains(body, "shutting down")
			lcode, _, lerr := c.Get(c.ReadinessURL("/livez"))
			livezOK = lerr == nil && lcode == http.StatusOK
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.True(t, saw503, "/ready did not answer 503 shutting down after SIGTERM")
	assert.True(t, livezOK, "/livez must stay 200 while draining")
	select {
	case <-c.Done():
		t.Fatal("the process should still be draining its export")
	default:
	}
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("collector did not exit after SIGTERM")
	}
}

func TestInvalidReadinessConfigFailsValidation(t *testing.T) {
	bin := harness.Binary(t)
	tests := []struct {
		name, overlay, want string
	}{
		{"path without slash", "extensions::readiness::paths::ready: ready", `paths::ready "ready" must start with "/"`},
		{"negative duration", "extensions::readiness::warmup_timeout: -5s", `warmup_timeout -5s must not be negative`},
		{"bad endpoint", "extensions::readiness::endpoint: localhost", `endpoint "localhost" is not host:port`},
		{"unknown key", "extensions::readiness::warmup: 5s", `has invalid keys: warmup`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin, "validate", "--config="+harness.DefaultConfig(), "--config=yaml:"+tt.overlay).CombinedOutput()
			require.Error(t, err, "validate must fail:\n%s", out)
			assert.Contains(t, string(out), tt.want)
			assert.Contains(t, string(out), "readiness")
		})
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}
