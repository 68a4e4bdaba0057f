package tests

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// httpDBRound sends one round of HTTP server and database client spans with known
// durations, in the current and the deprecated conventions, plus spans that must not be
// counted.
func httpDBRound(t *testing.T, tracer trace.Tracer) {
	t.Helper()
	span := func(name string, kind trace.SpanKind, d time.Duration, failed bool, attrs ...attribute.KeyValue) {
		end := time.Now()
		_, s := tracer.Start(context.Background(), name, trace.WithSpanKind(kind), trace.WithTimestamp(end.Add(-d)), trace.WithAttributes(attrs...))
		if failed {
			s.SetStatus(codes.Error, "failed")
		}
		s.End(trace.WithTimestamp(end))
	}
	str, num := attribute.String, attribute.Int
	server := trace.SpanKindServer
	for i := 0; i < 3; i++ {
		span("GET /api/chat", server, 30*time.Millisecond, false,
			str("http.request.method", "GET"), str("http.route", "/api/chat"), str("url.path", "/api/chat"), num("http.response.status_code", 200))
	}
	for i := 0; i < 2; i++ {
		span("POST /api/tasks", server, 3*time.Second, true,
			str("http.request.method", "POST"), str("http.route", "/api/tasks"), str("url.path", "/api/tasks"), num("http.response.status_code", 503))
	}
	span("POST /api/tasks", server, 300*time.Millisecond, false,
		str("http.request.method", "POST"), str("http.route", "/api/tasks"), num("http.response.status_code", 404))
	// Deprecated HTTP conventions.
	span("GET /old", server, 60*time.Millisecond, false,
		str("http.method", "GET"), str("http.route", "/old"), str("http.target", "/old?session=secret"), num("http.status_code", 302))
	// A method outside the standard nine, and one in lower case: both _OTHER.
	span("PURGE", server, 5*time.Millisecond, false,
		str("http.request.method", "PURGE"), str("http.route", "/cache"), num("http.response.status_code", 200))
	span("get", server, 5*time.Millisecond, false,
		str("http.request.method", "get"), str("http.route", "/cache"), num("http.response.status_code", 200))
	// No route (an unmatched path): the label is "unknown", never the path.
	span("GET", server, 5*time.Millisecond, false,
		str("http.request.method", "GET"), str("url.path", "/users/12345/profile"), num("http.response.status_code", 404))
	// No status code (the server failed before it answered): a request of class "unknown".
	span("GET /api/chat", server, 10*time.Millisecond, true,
		str("http.request.method", "GET"), str("http.route", "/api/chat"))
	// Not HTTP server spans: an outgoing call and an internal span.
	span("GET", trace.SpanKindClient, 10*time.Millisecond, false,
		str("http.request.method", "GET"), str("http.route", "/api/chat"), num("http.response.status_code", 200))
	span("work", trace.SpanKindInternal, 10*time.Millisecond, false,
		str("http.request.method", "GET"), str("http.route", "/api/chat"), num("http.response.status_code", 200))

	client := trace.SpanKindClient
	for i := 0; i < 2; i++ {
		span("SELECT conversations", client, 20*time.Millisecond, false,
			str("db.system.name", "postgresql"), str("db.operation.name", "SELECT"), str("db.query.text", "SELECT * FROM conversations WHERE id = $1"))
	}
	span("SELECT conversations", client, 700*time.Millisecond, true,
		str("db.system.name", "postgresql"), str("db.operation.name", "SELECT"))
	// Deprecated database conventions, failed with an error.type only.
	span("INSERT events", client, 2*time.Millisecond, false,
		str("db.system", "mysql"), str("db.operation", "INSERT"), str("error.type", "1062"))
	// No operation name.
	span("redis", client, 1500*time.Microsecond, false, str("db.system.name", "redis"))
	// A database span that is no client call is not counted.
	span("SELECT", server, 5*time.Millisecond, false, str("db.system.name", "postgresql"), str("db.operation.name", "SELECT"))
}

// TestHTTPAndDatabaseMetricsFromSpans proves the HTTP server and database client series
// of the default config: exact counts by method, route and status class, exact duration
// sums and bucket boundaries, bounded label values, both conventions, and counters that
// add up across batches.
func TestHTTPAndDatabaseMetricsFromSpans(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	tp := harness.TracerProvider(t, c, "e2e-http")
	tracer := tp.Tracer("e2e-http")
	with := func(kv ...string) map[string]string {
		m := map[string]string{"service_name": "e2e-http"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	const rounds = 3
	for r := 1; r <= rounds; r++ {
		httpDBRound(t, tracer)
		require.NoError(t, tp.ForceFlush(context.Background()))
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			// 3 + 2 + 1 + 1 + 2 + 1 requests with a status code and 1 without, per round.
			if got, _ := fams.Sum("http_server_requests_total", with()); got != float64(11*r) {
				return fmt.Sprintf("round %d: http_server_requests_total %v, want %d\n%s", r, got, 11*r, fams.Series("http_server_requests_total"))
			}
			if got, _ := fams.Sum("db_client_operation_duration_seconds", with()); got != float64(5*r) {
				return fmt.Sprintf("round %d: db_client_operation_duration_seconds count %v, want %d\n%s", r, got, 5*r, fams.Series("db_client_operation_duration_seconds"))
			}
			return ""
		})
	}

	fams := harness.MustScrape(t, c.MetricsURL())
	expect := func(name string, labels map[string]string, want float64) {
		t.Helper()
		got, found := fams.Sum(name, labels)
		assert.True(t, found, "%s%v absent\n%s", name, labels, fams.Series(name))
		assert.Equal(t, want, got, "%s%v\n%s", name, labels, fams.Series(name))
	}
	for name, typ := range map[string]string{
		"http_server_requests_total": "COUNTER", "http_server_request_duration_seconds": "HISTOGRAM",
		"db_client_operation_duration_seconds": "HISTOGRAM", "db_client_errors_total": "COUNTER",
	} {
		require.NotNil(t, fams[name], "%s missing; have %v", name, fams.Names())
		assert.Equal(t, typ, fams[name].GetType().String(), name)
	}

	const requests = "http_server_requests_total"
	expect(requests, with("http_request_method", "GET", "http_route", "/api/chat", "http_status_class", "2xx"), rounds*3)
	expect(requests, with("http_request_method", "POST", "http_route", "/api/tasks", "http_status_class", "5xx"), rounds*2)
	expect(requests, with("http_request_method", "POST", "http_route", "/api/tasks", "http_status_class", "4xx"), rounds)
	expect(requests, with("http_request_method", "GET", "http_route", "/old", "http_status_class", "3xx"), rounds)
	expect(requests, with("http_request_method", "_OTHER", "http_route", "/cache", "http_status_class", "2xx"), rounds*2)
	expect(requests, with("http_request_method", "GET", "http_route", "unknown", "http_status_class", "4xx"), rounds)
	expect(requests, with("http_status_class", "5xx"), rounds*2)
	expect(requests, with("http_request_method", "GET", "http_route", "/api/chat", "http_status_class", "unknown"), rounds)
	// Exactly these label names, and only bounded values.
	methods := map[string]bool{"GET": true, "POST": true, "_OTHER": true}
	classes := map[string]bool{"1xx": true, "2xx": true, "3xx": true, "4xx": true, "5xx": true, "unknown": true}
	routes := map[string]bool{"/api/chat": true, "/api/tasks": true, "/old": true, "/cache": true, "unknown": true}
	for _, m := range fams[requests].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		assert.True(t, methods[labels["http_request_method"]], "method %q", labels["http_request_method"])
		assert.True(t, classes[labels["http_status_class"]], "class %q", labels["http_status_class"])
		assert.True(t, routes[labels["http_route"]], "route %q", labels["http_route"])
		for name := range labels {
			switch name {
			case "service_name", "http_request_method", "http_route", "http_status_class", "job", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url":
			default:
				t.Errorf("unexpected label %s=%q on %s", name, labels[name], requests)
			}
		}
	}

	const duration = "http_server_request_duration_seconds"
	// Every HTTP server span is timed, the one without a status code too.
	expect(duration, with("http_request_method", "GET", "http_route", "/api/chat"), rounds*4)
	expect(duration, with("http_request_method", "POST", "http_route", "/api/tasks"), rounds*3)
	expect(duration, with("http_request_method", "_OTHER"), rounds*2)
	sum, _ := fams.HistogramSum(duration, with("http_request_method", "POST", "http_route", "/api/tasks"))
	assert.InDelta(t, rounds*(2*3+0.3), sum, 1e-6)
	assertBuckets(t, fams, duration, []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10})
	// The 3 s requests are above 2.5 s and within 5 s.
	assert.Equal(t, uint64(rounds), bucketCount(fams, duration, with("http_request_method", "POST", "http_route", "/api/tasks"), 2.5),
		"only the 300 ms request is at or below 2.5 s")

	const db = "db_client_operation_duration_seconds"
	expect(db, with("db_system_name", "postgresql", "db_operation_name", "SELECT"), rounds*3)
	expect(db, with("db_system_name", "mysql", "db_operation_name", "INSERT"), rounds)
	expect(db, with("db_system_name", "redis", "db_operation_name", "unknown"), rounds)
	sum, _ = fams.HistogramSum(db, with("db_system_name", "postgresql"))
	assert.InDelta(t, rounds*(2*0.02+0.7), sum, 1e-6)
	assertBuckets(t, fams, db, []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10})
	expect("db_client_errors_total", with("db_system_name", "postgresql", "db_operation_name", "SELECT"), rounds)
	expect("db_client_errors_total", with("db_system_name", "mysql", "db_operation_name", "INSERT"), rounds)
	_, found := fams.Sum("db_client_errors_total", with("db_system_name", "redis"))
	assert.False(t, found, "a database call that did not fail is no error")

	c.Stop(30 * time.Second)
}

func assertBuckets(t *testing.T, fams harness.Families, name string, want []float64) {
	t.Helper()
	require.NotEmpty(t, fams[name].GetMetric())
	for _, m := range fams[name].GetMetric() {
		var got []float64
		for _, b := range m.GetHistogram().GetBucket() {
			got = append(got, b.GetUpperBound())
		}
		assert.Equal(t, append(append([]float64{}, want...), math.Inf(1)), got, name)
	}
}

// bucketCount is the cumulative count of the bucket with upper bound le, summed over the
// series of name that match.
func bucketCount(fams harness.Families, name string, match map[string]string, le float64) uint64 {
	var n uint64
	for _, m := range fams[name].GetMetric() {
		ok := true
		for k, v := range match {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		for _, b := range m.GetHistogram().GetBucket() {
			if b.GetUpperBound() == le {
				n += b.GetCumulativeCount()
			}
		}
	}
	return n
}
