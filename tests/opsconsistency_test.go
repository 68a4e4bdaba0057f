package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/internal/agenttraces"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestOpsMetricNamesExist is the consistency test of the operations bundle: it runs the
// built collector, drives representative traffic through it (an agent application's
// traces, LLM and agent spans with failures, HTTP and database spans with errors, the
// app metrics of docs/app-metrics.md sent with the OpenTelemetry SDK, probes of every
// category), makes a second and third collector fail the ways the collector alerts are
// about (an unreachable backend with a full queue; a memory limiter refusing data), runs
// the default configuration with each overlay of config/overlays/, and scrapes the metric
// endpoints of all of them. Then every query of
// config/prometheus/alerts.yaml, of every Grafana dashboard under config/grafana/, and of
// every runbook must select metrics, labels and label values that really exist.
func TestOpsMetricNamesExist(t *testing.T) {
	root := harness.RepoRoot()
	// The collector alerts are about failures: make two collectors fail those ways.
	failures := []harness.Families{failingExporterTelemetry(t), refusingMemoryLimiterTelemetry(t), failingPriceSourceTelemetry(t)}
	// The overlays of config/overlays/ add components with telemetry of their own.
	failures = append(failures, overlayScrapes(t)...)

	c := startWithAllProbes(t)
	appMetrics := sendRepresentativeTraffic(t, c)
	pipeline := harness.MustScrape(t, c.MetricsURL())
	own := harness.MustScrape(t, c.TelemetryURL())

	e := exposition{}
	e.add(pipeline)
	e.add(own)
	for _, fams := range failures {
		e.add(fams)
	}

	// docs/app-metrics.md is true: each documented app metric appears under its
	// documented Prometheus name with exactly its documented labels.
	for _, m := range appMetrics {
		series, ok := e[m.series]
		if !assert.True(t, ok, "docs/app-metrics.md: %s (from %s) not on /metrics", m.series, m.instrument) {
			continue
		}
		var got []string
		for l := range series {
			switch l {
			case "job", "instance", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url":
			default:
				got = append(got, l)
			}
		}
		sort.Strings(got)
		assert.Equal(t, m.labels, got, "docs/app-metrics.md: labels of %s", m.series)
	}
	// ... and so is its table of series derived from spans.
	for _, name := range documentedSpanSeries(t, filepath.Join(root, "docs", "app-metrics.md")) {
		_, counter := e[name]
		_, histogram := e[name+"_bucket"]
		assert.True(t, counter || histogram, "docs/app-metrics.md documents %s, which is not exported", name)
	}

	var queries []query
	queries = append(queries, alertQueries(t, filepath.Join(root, "config", "prometheus", "alerts.yaml"))...)
	dashboards, err := dashboardQueries(filepath.Join(root, "config", "grafana"))
	require.NoError(t, err)
	if _, statErr := os.Stat(filepath.Join(root, "config", "grafana")); statErr == nil {
		// The directory exists: its dashboards must have been found and read.
		assert.NotEmpty(t, dashboards, "config/grafana exists but no dashboard query was found in it")
	}
	queries = append(queries, dashboards...)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "runbooks", "*.md"))
	require.NoError(t, err)
	docs = append(docs, filepath.Join(root, "docs", "app-metrics.md"))
	var docQueries int
	for _, d := range docs {
		qs, err := markdownQueries(d)
		require.NoError(t, err)
		docQueries += len(qs)
		queries = append(queries, qs...)
	}
	require.NotEmpty(t, queries)

	metricsUsed := map[string]bool{}
	for _, q := range queries {
		for _, p := range checkQuery(q, e) {
			t.Errorf("%s: %s\n    query: %s", relativeSource(root, q.source), p, q.expr)
		}
		for _, name := range metricNames(q.expr) {
			metricsUsed[name] = true
		}
	}
	t.Logf("checked %d alert rules, %d dashboard queries, %d documentation queries using %d metrics against %d exported series names",
		len(queries)-len(dashboards)-docQueries, len(dashboards), docQueries, len(metricsUsed), len(e))
	if t.Failed() {
		var names []string
		for n := range e {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Logf("exported series: %s", strings.Join(names, " "))
	}
}

func relativeSource(root, source string) string {
	return strings.TrimPrefix(source, root+string(filepath.Separator))
}

// startWithAllProbes runs the default configuration with probes of every category the
// rules select: a service over HTTPS (certificate expiry), an LLM provider with a body
// check, an unreachable agent and an unreachable database (errors by type), disk and
// memory.
func startWithAllProbes(t *testing.T) *harness.Collector {
	t.Helper()
	service := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"healthy"}`))
	}))
	t.Cleanup(service.Close)
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
	}))
	t.Cleanup(llm.Close)
	agentAddr := harness.FreeAddr(t) // nothing listens there
	dbPort := strconv.Itoa(harness.FreePort(t))

	overlay := writeFile(t, "probes.yaml", fmt.Sprintf(`
receivers:
  health_probe:
    collection_interval: 1s
    timeout: 800ms
    initial_delay: 0s
    probes:
      - {name: disk_space, type: disk, path: /, critical: false}
      - {name: memory, type: memory, critical: false}
      - name: procode_api
        type: http
        endpoint: %s/health
        tls: {insecure_skip_verify: true}
      - name: llm_provider
        type: http
        category: llm_provider
        endpoint: %s/v1/models
        body_checks:
          - {name: lists_models, json_path: $.object, equals: list}
      - {name: research_agent, type: http, category: agent, critical: false, endpoint: "http://%s/.well-known/agent-card.json"}
      - {name: database, type: postgresql, host: 127.0.0.1, port: %s, user: procode, password: not-used, sslmode: disable, critical: false}
`, service.URL, llm.URL, agentAddr, dbPort))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		for _, cat := range []string{"service", "llm_provider", "agent", "database", "system"} {
			if _, ok := fams.Sum("healthprobe_up", map[string]string{"probe_category": cat}); !ok {
				return "no probe of category " + cat + " yet\n" + fams.Series("healthprobe_up")
			}
		}
		for _, name := range []string{"healthprobe_tls_cert_remaining_seconds", "healthprobe_errors_total", "healthprobe_http_body_check"} {
			if _, ok := fams.Sum(name, nil); !ok {
				return name + " not yet on /metrics"
			}
		}
		return ""
	})
	return c
}

// sendRepresentativeTraffic sends an agent application's telemetry and returns the app
// metrics it sent (from docs/app-metrics.md), once all of it is on /metrics.
func sendRepresentativeTraffic(t *testing.T, c *harness.Collector) []appMetric {
	t.Helper()
	// Realistic agent traces from the load generator's generator, a third of them failing.
	gen := agenttraces.New(agenttraces.Options{Seed: 6, ErrorRatio: 0.3, Services: []string{"procode-agent-framework"}})
	td := ptrace.NewTraces()
	gen.Batch(td, 300)
	gen.Refresh(td)
	postOTLP(t, c.OTLPHTTPEndpoint(), td)

	// LLM calls (priced, unpriced, failed), HTTP and database spans with errors, and an
	// agent run and a tool call that fail.
	tp := harness.TracerProvider(t, c, "procode-agent-framework")
	tracer := tp.Tracer("ops-consistency")
	llmRound(t, tracer)
	httpDBRound(t, tracer)
	ctx, agent := tracer.Start(context.Background(), "invoke_agent planner", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "planner")))
	_, tool := tracer.Start(ctx, "execute_tool search", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "search")))
	tool.SetStatus(codes.Error, "search backend timed out")
	tool.End()
	agent.SetStatus(codes.Error, "tool failed")
	agent.End()
	// A reasoning model (reasoning tokens) and a protocol switch (1xx), so that every
	// token type and status class is on /metrics.
	_, reasoning := tracer.Start(context.Background(), "chat o3", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "o3"), attribute.Int("gen_ai.usage.input_tokens", 800),
		attribute.Int("gen_ai.usage.output_tokens", 900), attribute.Int("gen_ai.usage.reasoning.output_tokens", 700)))
	reasoning.End()
	_, upgrade := tracer.Start(context.Background(), "GET /ws", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("http.request.method", "GET"), attribute.String("http.route", "/ws"), attribute.Int("http.response.status_code", 101)))
	upgrade.End()
	require.NoError(t, tp.ForceFlush(context.Background()))

	// The app metrics, exactly as docs/app-metrics.md describes them.
	appMetrics := documentedAppMetrics(t, filepath.Join(harness.RepoRoot(), "docs", "app-metrics.md"))
	mp := harness.MeterProvider(t, c, "procode-agent-framework")
	meter := mp.Meter("procode.api")
	for _, m := range appMetrics {
		m.record(t, meter)
	}
	require.NoError(t, mp.ForceFlush(context.Background()))

	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		e := exposition{}
		e.add(fams)
		want := []string{"http_server_requests_total", "db_client_errors_total", "llm_cost_usd_total", "llm_unpriced_requests_total",
			"agent_invocations_total", "agent_tool_calls_total", "traces_span_metrics_calls_total"}
		for _, m := range appMetrics {
			want = append(want, m.series)
		}
		for _, name := range want {
			if _, ok := e[name]; !ok {
				return name + " not yet on /metrics"
			}
		}
		for _, class := range []string{"1xx", "2xx", "3xx", "4xx", "5xx"} {
			if !e["http_server_requests_total"]["http_status_class"][class] {
				return "no " + class + " request yet"
			}
		}
		for _, typ := range []string{"input", "output", "cache_read", "cache_write", "reasoning"} {
			if !e["llm_tokens_total"]["gen_ai_token_type"][typ] {
				return "no " + typ + " tokens yet"
			}
		}
		if !e["agent_invocations_total"]["outcome"]["error"] || !e["llm_requests_total"]["outcome"]["error"] ||
			!e["agent_tool_calls_total"]["outcome"]["error"] {
			return "failures not yet counted"
		}
		return ""
	})
	return appMetrics
}

// postOTLP sends pdata to the collector's OTLP/HTTP receiver as protobuf and returns
// the response status (no retries: a refusal is an answer here).
func postOTLP(t *testing.T, endpoint string, data any) int {
	t.Helper()
	var (
		body []byte
		path string
		err  error
	)
	switch d := data.(type) {
	case ptrace.Traces:
		body, err = ptraceotlp.NewExportRequestFromTraces(d).MarshalProto()
		path = "/v1/traces"
	case pmetric.Metrics:
		body, err = pmetricotlp.NewExportRequestFromMetrics(d).MarshalProto()
		path = "/v1/metrics"
	case plog.Logs:
		body, err = plogotlp.NewExportRequestFromLogs(d).MarshalProto()
		path = "/v1/logs"
	default:
		t.Fatalf("postOTLP: %T", data)
	}
	require.NoError(t, err)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post("http://"+endpoint+path, "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// onePerSignal is a small payload of each signal.
func onePerSignal() []any {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "ops-failing")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("work")
	s.SetTraceID([16]byte{1, 2, 3})
	s.SetSpanID([8]byte{1, 2, 3})
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("ops.gauge")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hello")
	return []any{td, md, ld}
}

const ownTelemetryOnly = `
extensions:
  readiness:
    endpoint: ${env:READINESS_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
service:
  extensions: [readiness]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: ${env:TELEMETRY_HOST}
                port: ${env:TELEMETRY_PORT}
`

// failingExporterTelemetry runs a collector whose exporter's backend accepts TCP
// connections and never answers, with a one-request queue, sends it a few requests of
// each signal, and returns its own telemetry once sends have failed and the full queue
// has refused data for every signal.
func failingExporterTelemetry(t *testing.T) harness.Families {
	cfg := writeFile(t, "failing-exporter.yaml", fmt.Sprintf(`
exporters:
  otlp/backend:
    endpoint: %s
    tls: {insecure: true}
    timeout: 1s
    retry_on_failure: {enabled: false}
    sending_queue: {enabled: true, queue_size: 1, num_consumers: 1}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp/backend]}
    metrics: {receivers: [otlp], exporters: [otlp/backend]}
    logs: {receivers: [otlp], exporters: [otlp/backend]}
`, blackhole(t)))
	c := harness.Start(t, harness.Options{Configs: []string{writeFile(t, "base.yaml", ownTelemetryOnly), cfg}})
	// One request keeps the consumer busy, one fills the queue, the rest are refused.
	for i := 0; i < 4; i++ {
		for _, d := range onePerSignal() {
			postOTLP(t, c.OTLPHTTPEndpoint(), d)
		}
	}
	return waitForTelemetry(t, c, "otelcol_exporter_send_failed_spans", "otelcol_exporter_send_failed_metric_points",
		"otelcol_exporter_send_failed_log_records", "otelcol_exporter_enqueue_failed_spans",
		"otelcol_exporter_enqueue_failed_metric_points", "otelcol_exporter_enqueue_failed_log_records",
		"otelcol_exporter_queue_size", "otelcol_exporter_queue_capacity")
}

// refusingMemoryLimiterTelemetry runs the default configuration with a memory limit
// below what the process already uses, sends it one request of each signal, and
// returns its own telemetry once the memory limiter and the receiver have refused every
// signal.
func refusingMemoryLimiterTelemetry(t *testing.T) harness.Families {
	c := harness.Start(t, harness.Options{Env: map[string]string{"MEMORY_LIMIT_MIB": "2", "MEMORY_SPIKE_LIMIT_MIB": "1"}})
	for _, d := range onePerSignal() {
		assert.Equal(t, http.StatusServiceUnavailable, postOTLP(t, c.OTLPHTTPEndpoint(), d), "a refused request is answered 503")
	}
	return waitForTelemetry(t, c, "otelcol_processor_memory_limiter_refused_spans", "otelcol_processor_memory_limiter_refused_metric_points",
		"otelcol_processor_memory_limiter_refused_log_records", "otelcol_receiver_refused_spans",
		"otelcol_receiver_refused_metric_points", "otelcol_receiver_refused_log_records")
}

// failingPriceSourceTelemetry runs llm_cost with a URL price source that cannot be
// reached and a price file that does not exist, and returns its own telemetry once the
// failures are counted (the LLMCostPriceSourceFailing alert and its runbook read them).
func failingPriceSourceTelemetry(t *testing.T) harness.Families {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := closed.Addr().String()
	require.NoError(t, closed.Close())
	cfg := writeFile(t, "failing-price-source.yaml", fmt.Sprintf(`
processors:
  llm_cost/prices:
    price_files:
      - url: http://%s/data.json
        format: genai_prices
      - path: %s
exporters:
  debug: {}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [llm_cost/prices], exporters: [debug]}
`, addr, filepath.Join(t.TempDir(), "missing-prices.yaml")))
	c := harness.Start(t, harness.Options{Configs: []string{writeFile(t, "base.yaml", ownTelemetryOnly), cfg}})
	return waitForTelemetry(t, c, "otelcol_processor_llm_cost_price_fetches", "otelcol_processor_llm_cost_price_file_loads",
		"otelcol_processor_llm_cost_price_source_failing_duration", "otelcol_processor_llm_cost_price_table_age",
		"otelcol_processor_llm_cost_price_table_stale_after")
}

// waitForTelemetry waits until each named series is on c's own telemetry with a value
// above zero (queue capacity and size: present), and returns that scrape.
func waitForTelemetry(t *testing.T, c *harness.Collector, names ...string) harness.Families {
	var fams harness.Families
	harness.Eventually(t, 60*time.Second, func() string {
		var err error
		fams, err = harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		for _, name := range names {
			v, ok := fams.Sum(name, nil)
			if !ok || (v <= 0 && !strings.HasPrefix(name, "otelcol_exporter_queue_")) {
				return fmt.Sprintf("%s = %v (present %v)", name, v, ok)
			}
		}
		return ""
	})
	return fams
}

// appMetric is one row of the app metrics table in docs/app-metrics.md.
type appMetric struct {
	instrument string
	kind       string
	unit       string
	attributes map[string][]string // attribute -> documented values
	series     string              // Prometheus series name
	labels     []string            // documented labels, sorted
}

var backticked = regexp.MustCompile("`([^`]+)`")

// documentedAppMetrics reads the app metrics table and the attribute values table of
// docs/app-metrics.md.
func documentedAppMetrics(t *testing.T, path string) []appMetric {
	t.Helper()
	rows := markdownTable(t, path, "instrument (OTel)")
	values := map[string][]string{}
	for _, r := range markdownTable(t, path, "attribute") {
		attr := backticked.FindStringSubmatch(r[0])
		require.NotNil(t, attr, "attribute row %v", r)
		for _, v := range backticked.FindAllStringSubmatch(r[1], -1) {
			values[attr[1]] = append(values[attr[1]], v[1])
		}
	}
	seriesRE := regexp.MustCompile(`^([a-z_]+)\{([^}]*)\}$`)
	var ms []appMetric
	for _, r := range rows {
		require.GreaterOrEqual(t, len(r), 5, "row %v", r)
		m := appMetric{attributes: map[string][]string{}}
		m.instrument = backticked.FindStringSubmatch(r[0])[1]
		m.kind = strings.Fields(r[1])[0]
		m.unit = backticked.FindStringSubmatch(r[2])[1]
		for _, a := range backticked.FindAllStringSubmatch(r[3], -1) {
			require.NotEmpty(t, values[a[1]], "docs/app-metrics.md: attribute %s of %s has no documented values", a[1], m.instrument)
			m.attributes[a[1]] = values[a[1]]
		}
		s := seriesRE.FindStringSubmatch(backticked.FindStringSubmatch(r[4])[1])
		require.NotNil(t, s, "series column of %s", m.instrument)
		m.series = s[1]
		for _, l := range strings.Split(s[2], ",") {
			m.labels = append(m.labels, strings.TrimSpace(l))
		}
		sort.Strings(m.labels)
		ms = append(ms, m)
	}
	require.NotEmpty(t, ms)
	return ms
}

// record sends one data point for every combination of the documented attribute values.
func (m appMetric) record(t *testing.T, meter metric.Meter) {
	t.Helper()
	var keys []string
	for k := range m.attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	combos := [][]attribute.KeyValue{nil}
	for _, k := range keys {
		var next [][]attribute.KeyValue
		for _, c := range combos {
			for _, v := range m.attributes[k] {
				next = append(next, append(append([]attribute.KeyValue{}, c...), attribute.String(k, v)))
			}
		}
		combos = next
	}
	ctx := context.Background()
	switch m.kind {
	case "Counter":
		inst, err := meter.Int64Counter(m.instrument, metric.WithUnit(m.unit))
		require.NoError(t, err)
		for _, c := range combos {
			inst.Add(ctx, 3, metric.WithAttributes(c...))
		}
	case "UpDownCounter":
		inst, err := meter.Int64UpDownCounter(m.instrument, metric.WithUnit(m.unit))
		require.NoError(t, err)
		for _, c := range combos {
			inst.Add(ctx, 42, metric.WithAttributes(c...))
		}
	case "Gauge":
		inst, err := meter.Float64Gauge(m.instrument, metric.WithUnit(m.unit))
		require.NoError(t, err)
		for _, c := range combos {
			inst.Record(ctx, 250, metric.WithAttributes(c...))
		}
	default:
		t.Fatalf("docs/app-metrics.md: %s has kind %q; want Counter, UpDownCounter or Gauge", m.instrument, m.kind)
	}
}

// documentedSpanSeries lists the series of the "derived from spans" table.
func documentedSpanSeries(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	for _, r := range markdownTable(t, path, "series") {
		if g := backticked.FindStringSubmatch(r[0]); g != nil {
			names = append(names, g[1])
		}
	}
	require.NotEmpty(t, names)
	return names
}

// markdownTable returns the body rows (cells trimmed) of the first table of a Markdown
// file whose first header cell is header.
func markdownTable(t *testing.T, path, header string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows [][]string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "|") {
			if in {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case !in && cells[0] == header:
			in = true
		case in && strings.HasPrefix(cells[0], "---"):
		case in:
			rows = append(rows, cells)
		}
	}
	require.NotEmpty(t, rows, "%s: no table with header %q", path, header)
	return rows
}
