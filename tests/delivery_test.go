package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// These tests run the built collector with a backend that fails the ways operators meet
// (Sentry unreachable, the traces backend down, a sending queue full, a memory limiter
// refusing data) and read what /health, /ready and the collector's own metrics say.

// deliveryCheck is one check of /health as JSON.
type deliveryCheck map[string]any

func (c deliveryCheck) status() string  { s, _ := c["status"].(string); return s }
func (c deliveryCheck) message() string { s, _ := c["message"].(string); return s }

// healthCheck fetches /health and returns its code, the named check (nil when absent)
// and the whole body.
func healthCheck(t *testing.T, c *harness.Collector, name string) (int, deliveryCheck, string) {
	t.Helper()
	code, body, err := c.Get(c.ReadinessURL("/health"))
	require.NoError(t, err)
	var h struct {
		Checks map[string]deliveryCheck `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &h), body)
	return code, h.Checks[name], body
}

// reportErrorSpans sends n error spans, each with a recorded exception, as an app's SDK
// would.
func reportErrorSpans(t *testing.T, c *harness.Collector, n int) {
	t.Helper()
	tp := harness.TracerProvider(t, c, "billing-api")
	tracer := tp.Tracer("billing")
	for i := range n {
		_, span := tracer.Start(context.Background(), "POST /charge", trace.WithAttributes(attribute.String("http.request.method", "POST")))
		span.RecordError(fmt.Errorf("card processor timeout #%d", i))
		span.SetStatus(codes.Error, "charge failed")
		span.End()
	}
	require.NoError(t, tp.ForceFlush(context.Background()))
}

// readyCode is /ready's status code.
func readyCode(t *testing.T, c *harness.Collector) int {
	t.Helper()
	code, _, err := c.Get(c.ReadinessURL("/ready"))
	require.NoError(t, err)
	return code
}

// TestSentryUnreachableDegradesHealth: the default configuration, Sentry's address
// refusing connections, five error spans. Within 35 seconds (failing_after is 30s)
// /health says the sentry_errors exporter is degraded, why and since when, without the
// DSN's key; /ready and /livez stay 200; the collector's own metrics say the same. Once
// Sentry is back, the first successful send makes it healthy again.
func TestSentryUnreachableDegradesHealth(t *testing.T) {
	t.Parallel()
	srv := harness.NewSentryServer(t)
	gate := harness.NewGate(t, srv.Addr())
	gate.Down()
	dsn := fmt.Sprintf("http://%s@%s/%s", srv.PublicKey, gate.Addr(), srv.ProjectID)
	// A short retry interval only makes the recovery quick to see; the outage is judged
	// with the defaults.
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), "yaml:exporters::sentry_errors::retry_on_failure::max_interval: 2s"},
		Env:     map[string]string{"SENTRY_DSN": dsn},
	})

	_, check, _ := healthCheck(t, c, "exporter:sentry_errors")
	require.NotNil(t, check, "every exporter has a delivery check")
	assert.Equal(t, "healthy", check.status())
	sent := time.Now()
	reportErrorSpans(t, c, 5)

	// Failing, not yet for failing_after: still healthy, and says so.
	var whole string
	harness.Eventually(t, 20*time.Second, func() string {
		_, check, whole = healthCheck(t, c, "exporter:sentry_errors")
		if !strings.HasPrefix(check.message(), "sending has been failing for") {
			return "not failing yet: " + check.message()
		}
		return ""
	})
	assert.Equal(t, "healthy", check.status(), check.message())
	assert.Contains(t, whole, `{"status":"healthy"`, "nor does the exporter's own status degrade /health before failing_after")
	assert.Contains(t, check.message(), "connection refused")

	var degradedAfter time.Duration
	var body string
	harness.Eventually(t, 40*time.Second, func() string {
		_, check, body = healthCheck(t, c, "exporter:sentry_errors")
		if check.status() != "degraded" {
			return check.status() + ": " + check.message()
		}
		degradedAfter = time.Since(sent)
		return ""
	})
	t.Logf("degraded %s after the errors were reported: %s", degradedAfter.Round(100*time.Millisecond), check.message())
	assert.LessOrEqual(t, degradedAfter, 35*time.Second)
	assert.GreaterOrEqual(t, degradedAfter, 30*time.Second, "degraded before failing_after")
	assert.Regexp(t, `^sending failed for 3\ds \(connection refused\)`, check.message())
	assert.NotEmpty(t, check["failing_since"])
	assert.NotContains(t, body, srv.PublicKey, "the DSN's key is in no body")
	assert.Contains(t, body, `"status":"degraded"`)
	assert.Equal(t, http.StatusOK, readyCode(t, c), "an unreachable Sentry does not take the collector out of load balancing")
	code, _, err := c.Get(c.ReadinessURL("/livez"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	_, verbose, err := c.Get(c.ReadinessURL("/health?verbose"))
	require.NoError(t, err)
	assert.Contains(t, verbose, "[+]exporter:sentry_errors degraded: sending failed for")
	own := harness.MustScrape(t, c.TelemetryURL())
	v, ok := own.Sum("otelcol_readiness_check_status", map[string]string{"check": "exporter:sentry_errors"})
	assert.True(t, ok, own.Series("otelcol_readiness_check_status"))
	assert.Equal(t, 1.0, v, "the Prometheus view says degraded")

	// Sentry comes back: healthy once one send succeeded.
	gate.Up()
	back := time.Now()
	harness.Eventually(t, 30*time.Second, func() string {
		_, check, _ = healthCheck(t, c, "exporter:sentry_errors")
		if check.status() != "healthy" {
			return check.status() + ": " + check.message()
		}
		return ""
	})
	accepted := 0
	for _, a := range srv.Attempts() {
		if a.Status == http.StatusOK {
			accepted++
		}
	}
	assert.Positive(t, accepted, "healthy only after a send succeeded")
	assert.True(t, strings.HasPrefix(check.message(), "last send succeeded"), check.message())
	t.Logf("healthy %s after Sentry came back (%d envelopes accepted by then)", time.Since(back).Round(100*time.Millisecond), accepted)
	c.Stop(30 * time.Second)
}

// TestTracesBackendDownDegradesHealth: the default configuration with the traces-backend
// overlay, the backend's address refusing connections, the collector's own metrics
// turned off (service::telemetry::metrics::level: none) and its log at error level in
// JSON (the failed attempts' entries, at info, are never written):
// exporter:otlp/traces is degraded after failing_after, with the reason. Nothing is read
// from /metrics.
func TestTracesBackendDownDegradesHealth(t *testing.T) {
	t.Parallel()
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), filepath.Join(harness.RepoRoot(), "config", "overlays", "traces-backend.yaml"), "yaml:service::telemetry::metrics::level: none",
			"yaml:service::telemetry::logs::level: error", "yaml:service::telemetry::logs::encoding: json"},
		Env: map[string]string{
			"OTLP_TRACES_ENDPOINT": harness.FreeAddr(t), "OTLP_TRACES_INSECURE": "true",
			"TRACES_DECISION_WAIT": "1s", "TRACES_SAMPLE_PERCENTAGE": "100",
		},
	})
	_, err := harness.Scrape(c.TelemetryURL())
	require.Error(t, err, "own metrics are off: nothing serves them")

	sent := time.Now()
	tp := harness.TracerProvider(t, c, "checkout")
	_, span := tp.Tracer("checkout").Start(context.Background(), "GET /cart")
	span.End()
	require.NoError(t, tp.ForceFlush(context.Background()))

	var check deliveryCheck
	harness.Eventually(t, 60*time.Second, func() string {
		_, check, _ = healthCheck(t, c, "exporter:otlp/traces")
		if check.status() != "degraded" {
			return fmt.Sprintf("%s: %s", check.status(), check.message())
		}
		return ""
	})
	t.Logf("degraded %s after the span was sent: %s", time.Since(sent).Round(100*time.Millisecond), check.message())
	assert.Regexp(t, `^sending failed for \d+s \(connection refused\)`, check.message())
	assert.Contains(t, check.message(), "queue ", "the sending queue's fill is shown")
	assert.Contains(t, check["last_error"], "Unavailable")
	assert.Equal(t, []any{"traces"}, check["signals"])
	assert.Equal(t, http.StatusOK, readyCode(t, c))
	c.Stop(30 * time.Second)
}

// blackhole accepts TCP connections and never answers: a backend that hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, conn)
		}
	}()
	t.Cleanup(func() { _ = l.Close(); <-done })
	return l.Addr().String()
}

// fullQueueConfig adds two OTLP exporters to the default traces pipeline: otlp/backend,
// whose backend hangs and whose sending queue holds two requests (so that the third is
// refused), and otlp/closed, whose backend's address refuses connections and which does
// not retry (so that each batch is given up on at once).
func fullQueueConfig(t *testing.T, gate bool) string {
	exporters := append(defaultServiceList(t, "pipelines", "traces", "exporters"), "otlp/backend", "otlp/closed")
	readiness := ""
	if gate {
		readiness = `
extensions:
  readiness:
    gate_readiness: [exporter:otlp/backend]`
	}
	return writeFile(t, "full-queue.yaml", fmt.Sprintf(`%s
exporters:
  otlp/backend:
    endpoint: %s
    tls: {insecure: true}
    timeout: 30s
    sending_queue: {queue_size: 2, num_consumers: 1}
  otlp/closed:
    endpoint: %s
    tls: {insecure: true}
    retry_on_failure: {enabled: false}
service:
  pipelines:
    traces:
      exporters: %s
`, readiness, blackhole(t), harness.FreeAddr(t), yamlList(exporters...)))
}

// keepSending posts one span request every 400 ms (longer than the batch timeout: one
// request per batch) until stop is called.
func keepSending(c *harness.Collector) (stop func()) {
	body, err := ptraceotlp.NewExportRequestFromTraces(onePerSignal()[0].(ptrace.Traces)).MarshalProto()
	if err != nil {
		panic(err)
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 5 * time.Second}
		for {
			if resp, err := client.Post("http://"+c.OTLPHTTPEndpoint()+"/v1/traces", "application/x-protobuf", bytes.NewReader(body)); err == nil {
				_ = resp.Body.Close()
			}
			select {
			case <-quit:
				return
			case <-time.After(400 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// activeAlerts lists Prometheus' pending and firing alerts as name -> label sets.
func activeAlerts(t *testing.T, prom *prometheus) map[string][]map[string]string {
	t.Helper()
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	require.NoError(t, prom.api("/api/v1/alerts", nil, &data))
	out := map[string][]map[string]string{}
	for _, a := range data.Alerts {
		out[a.Labels["alertname"]] = append(out[a.Labels["alertname"]], a.Labels)
	}
	return out
}

// TestFullQueueMakesExporterUnhealthy: a backend that hangs behind a sending queue of two
// requests, and a backend that refuses connections behind an exporter that does not
// retry. /health is 503 with both exporters unhealthy, each with the count of dropped
// spans and why; /ready stays 200; with gate_readiness /ready is 503 too. A real
// Prometheus with config/prometheus/alerts.yaml, scraping the collector, raises the
// exporter alerts about the same exporters from the same signals.
func TestFullQueueMakesExporterUnhealthy(t *testing.T) {
	promBin := harness.RequireCommand(t, "prometheus", "prometheus")
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), fullQueueConfig(t, false)}})
	prom := startPrometheus(t, promBin, c)
	// The counters must rise while Prometheus watches: a series that first appears with a
	// value has no rate yet.
	harness.Eventually(t, 30*time.Second, func() string {
		if v, err := prom.queryScalar(`up{job="otelcol-procode-telemetry"}`); err != nil || v != 1 {
			return fmt.Sprintf("telemetry not scraped yet: %v %v", v, err)
		}
		return ""
	})
	stop := keepSending(c)
	t.Cleanup(stop)

	var (
		backend, closed deliveryCheck
		code            int
	)
	harness.Eventually(t, 30*time.Second, func() string {
		code, backend, _ = healthCheck(t, c, "exporter:otlp/backend")
		_, closed, _ = healthCheck(t, c, "exporter:otlp/closed")
		if backend.status() != "unhealthy" || closed.status() != "unhealthy" {
			return fmt.Sprintf("backend %s: %s; closed %s: %s", backend.status(), backend.message(), closed.status(), closed.message())
		}
		return ""
	})
	t.Logf("/health %d: otlp/backend: %s; otlp/closed: %s", code, backend.message(), closed.message())
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Regexp(t, `dropped [1-9]\d* spans in the last 5m \([1-9]\d* refused by the full sending queue\): sending queue is full`, backend.message())
	assert.Contains(t, backend.message(), "queue 2/2 (100% full)")
	dropped, _ := backend["dropped"].(map[string]any)
	assert.Positive(t, dropped["spans"])
	assert.Regexp(t, `^sending (has been failing|failed) for \d+s \(connection refused\); dropped [1-9]\d* spans in the last 5m \([1-9]\d* given up on after failed sends\): connection refused`, closed.message())
	assert.Equal(t, http.StatusOK, readyCode(t, c), "/ready stays 200 by default")

	// The exporter alerts become active for the same exporters, from the counters and
	// gauges the delivery checks observed in process.
	want := map[string]string{
		"CollectorExporterEnqueueFailures": "otlp/backend",
		"CollectorExporterQueueNearlyFull": "otlp/backend",
		"CollectorExporterSendFailures":    "otlp/closed",
	}
	harness.Eventually(t, 60*time.Second, func() string {
		active := activeAlerts(t, prom)
		for name, exporter := range want {
			found := false
			for _, labels := range active[name] {
				found = found || labels["exporter"] == exporter
			}
			if !found {
				return fmt.Sprintf("%s not active for %s: %v", name, exporter, active[name])
			}
		}
		exporters := map[string]bool{}
		for _, labels := range active["CollectorExporterDeliveryFailing"] {
			exporters[labels["exporter"]] = true
		}
		if !exporters["otlp/backend"] || !exporters["otlp/closed"] {
			return fmt.Sprintf("CollectorExporterDeliveryFailing active for %v", exporters)
		}
		return ""
	})
	stop()
	c.Stop(30 * time.Second)

	// Opted in, the exporter's drops fail /ready.
	c = harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), fullQueueConfig(t, true)}})
	stop = keepSending(c)
	t.Cleanup(stop)
	harness.Eventually(t, 30*time.Second, func() string {
		code, body, err := c.Get(c.ReadinessURL("/ready"))
		if err != nil || code != http.StatusServiceUnavailable {
			return fmt.Sprintf("/ready %d %v %s", code, err, body)
		}
		if !strings.Contains(body, `"exporter:otlp/backend":{"ready":false,"message":"`) {
			return body
		}
		if strings.Contains(body, `"exporter:otlp/closed"`) {
			return "otlp/closed does not gate readiness: " + body
		}
		return ""
	})
	stop()
	c.Stop(30 * time.Second)
}

// TestMemoryLimiterRefusalDegradesHealth: a memory limit below what the collector
// already uses. Requests are refused with a retryable 503, and /health is degraded with
// the memory limiter's reason and the count; /ready stays 200.
func TestMemoryLimiterRefusalDegradesHealth(t *testing.T) {
	c := harness.Start(t, harness.Options{Env: map[string]string{"MEMORY_LIMIT_MIB": "2", "MEMORY_SPIKE_LIMIT_MIB": "1"}})
	for _, d := range onePerSignal() {
		assert.Equal(t, http.StatusServiceUnavailable, postOTLP(t, c.OTLPHTTPEndpoint(), d), "a refused request is answered 503")
	}
	var check deliveryCheck
	var code int
	harness.Eventually(t, 10*time.Second, func() string {
		code, check, _ = healthCheck(t, c, "processor:memory_limiter")
		if check.status() != "degraded" || !strings.Contains(check.message(), "refused") {
			return fmt.Sprintf("%s: %s", check.status(), check.message())
		}
		return ""
	})
	t.Logf("/health %d: %s", code, check.message())
	assert.Equal(t, http.StatusOK, code)
	assert.Regexp(t, `^refusing data for \d+s \(memory usage \d+ MiB is above the soft limit\); refused [1-9]\d* log records, [1-9]\d* metric points, [1-9]\d* spans in the last 5m`, check.message())
	assert.Equal(t, http.StatusOK, readyCode(t, c))
	c.Stop(30 * time.Second)
}

// TestDeliveryBodiesCarryNoCredentials: an otlphttp exporter whose endpoint carries
// userinfo and a query secret, with an Authorization header, towards a closed port.
// /health, /ready and their verbose forms name the failure without any of them.
func TestDeliveryBodiesCarryNoCredentials(t *testing.T) {
	const (
		password = "pw-Secret-4711"
		apiKey   = "ak-Secret-0815"
		token    = "tok-Secret-1234"
	)
	exporters := append(defaultServiceList(t, "pipelines", "traces", "exporters"), "otlphttp/vendor")
	overlay := writeFile(t, "secret-backend.yaml", fmt.Sprintf(`
extensions:
  readiness:
    gate_readiness: [exporter:otlphttp/vendor]
    delivery:
      failing_after: 1s
exporters:
  otlphttp/vendor:
    traces_endpoint: http://ingest:%s@%s/v1/traces?api_key=%s
    headers: {Authorization: "Bearer %s"}
    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 1s}
service:
  pipelines:
    traces:
      exporters: %s
`, password, harness.FreeAddr(t), apiKey, token, yamlList(exporters...)))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})
	td := onePerSignal()[0]
	assert.Equal(t, http.StatusOK, postOTLP(t, c.OTLPHTTPEndpoint(), td))
	harness.Eventually(t, 20*time.Second, func() string {
		_, check, _ := healthCheck(t, c, "exporter:otlphttp/vendor")
		if check.status() != "unhealthy" {
			return fmt.Sprintf("%s: %s", check.status(), check.message())
		}
		return ""
	})
	for _, path := range []string{"/health", "/ready", "/health?verbose", "/ready?verbose"} {
		_, body, err := c.Get(c.ReadinessURL(path))
		require.NoError(t, err)
		for _, secret := range []string{password, apiKey, token, "ingest:"} {
			assert.NotContains(t, body, secret, path)
		}
		assert.Contains(t, body, "connection refused", path)
	}
	c.Stop(30 * time.Second)
}
