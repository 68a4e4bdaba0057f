package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// batchedTracerProvider sends every span of the test in one OTLP request at ForceFlush,
// so that the collector sees the whole trace in one batch, as an app's batching SDK does.
func batchedTracerProvider(t *testing.T, c *harness.Collector, service string) *sdktrace.TracerProvider {
	t.Helper()
	return batchedTracerProviderFor(t, c, harness.AppResource(service))
}

// batchedTracerProviderFor is batchedTracerProvider with the given resource.
func batchedTracerProviderFor(t *testing.T, c *harness.Collector, res *resource.Resource) *sdktrace.TracerProvider {
	t.Helper()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Hour), sdktrace.WithMaxExportBatchSize(1000)),
		sdktrace.WithResource(res),
	)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	})
	return tp
}

// agentRequest records one chat request of an agent: an LLM call that succeeds (with
// its cost on the span), then a tool call that fails with a Go error and its stack.
func agentRequest(t *testing.T, tp *sdktrace.TracerProvider) (trace.SpanContext, trace.SpanContext) {
	t.Helper()
	tracer := tp.Tracer("procode.agents")
	ctx, root := tracer.Start(context.Background(), "POST /api/chat", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", "POST"),
			attribute.String("http.route", "/api/chat"),
			attribute.String("url.scheme", "http"),
			attribute.String("server.address", "agents.internal"),
			attribute.String("url.path", "/api/chat"),
			attribute.String("url.query", "api_key=sk-live-e2e-secret-0001"),
			attribute.String("enduser.id", "user-8841"),
			attribute.StringSlice("http.request.header.authorization", []string{"Bearer sk-live-e2e-secret-0001"}),
		))
	ctx, agent := tracer.Start(ctx, "invoke_agent researcher", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.name", "researcher"),
		attribute.String("gen_ai.agent.id", "agt_01HX"),
	))
	// llm_cost is not in this branch's binary: the span carries the cost itself, the way
	// llm_cost would write it (gen_ai.usage.cost, USD).
	_, llm := tracer.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.Int("gen_ai.usage.input_tokens", 1200),
		attribute.Int("gen_ai.usage.output_tokens", 300),
		attribute.Float64("gen_ai.usage.cost", 0.006),
		attribute.String("gen_ai.input.messages", `[{"role":"user","content":"confidential prompt text"}]`),
	))
	time.Sleep(5 * time.Millisecond)
	llm.End()

	_, tool := tracer.Start(ctx, "execute_tool web_search", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.name", "web_search"),
		attribute.String("search.api_key", "sk-live-e2e-secret-0001"),
	))
	err := fmt.Errorf("tool web_search failed: %w", errors.New("search backend unreachable"))
	tool.RecordError(err, trace.WithStackTrace(true))
	tool.SetStatus(codes.Error, "tool web_search failed")
	tool.End()
	agent.End()
	root.End()
	return llm.SpanContext(), tool.SpanContext()
}

func TestSentryReceivesAgentError(t *testing.T) {
	srv := harness.NewSentryServer(t)
	c := harness.Start(t, harness.Options{Env: map[string]string{"SENTRY_DSN": srv.DSN(), "SENTRY_ENVIRONMENT": "e2e"}})
	tp := batchedTracerProvider(t, c, "procode-agent")
	llmSC, toolSC := agentRequest(t, tp)
	require.NoError(t, tp.ForceFlush(context.Background()))

	evs := srv.WaitEvents(t, 1, 30*time.Second)
	time.Sleep(1 * time.Second) // anything else would have arrived by now
	evs = srv.Events()
	require.Len(t, evs, 1, "exactly one event: the exception (the tool's ERROR status adds none)")
	assert.Empty(t, srv.Violations())
	ev := evs[0]

	assert.Equal(t, "error", ev["level"])
	assert.Equal(t, "go", ev["platform"])
	assert.Equal(t, "1.2.3", ev["release"])
	assert.Equal(t, "e2e", ev["environment"])
	assert.Equal(t, "procode.agents", ev["logger"])
	assert.Equal(t, "POST /api/chat", ev["transaction"])

	exc := harness.SentryValues(ev, "exception")
	require.Len(t, exc, 1)
	main := exc[0].(map[string]any)
	assert.Equal(t, "*fmt.wrapError", main["type"])
	assert.Equal(t, "tool web_search failed: search backend unreachable", main["value"])
	frames := main["stacktrace"].(map[string]any)["frames"].([]any)
	require.NotEmpty(t, frames)
	var inApp []string
	for _, f := range frames {
		fm := f.(map[string]any)
		if fm["in_app"] == true {
			inApp = append(inApp, fm["module"].(string)+"."+fm["function"].(string))
		}
	}
	assert.Contains(t, inApp, "github.com/procode-ai/otelcol-procode/tests.agentRequest", "the test's own frame is app code")
	for _, f := range inApp {
		assert.False(t, strings.HasPrefix(f, "go.opentelemetry.io/") || strings.HasPrefix(f, "runtime") || strings.HasPrefix(f, "testing."),
			"library frame marked in_app: %s", f)
	}

	contexts := ev["contexts"].(map[string]any)
	tr := contexts["trace"].(map[string]any)
	assert.Equal(t, toolSC.TraceID().String(), tr["trace_id"])
	assert.Equal(t, toolSC.SpanID().String(), tr["span_id"])
	assert.NotEmpty(t, tr["parent_span_id"])
	assert.Equal(t, "gen_ai.execute_tool", tr["op"])

	llm := contexts["llm"].(map[string]any)
	assert.Equal(t, "openai", llm["provider"])
	assert.Equal(t, "gpt-4o", llm["model"])
	assert.EqualValues(t, 1200, llm["input_tokens"])
	assert.EqualValues(t, 300, llm["output_tokens"])
	assert.InDelta(t, 0.006, llm["cost_usd"], 1e-9)
	assert.Equal(t, llmSC.SpanID().String(), llm["span_id"])
	assert.Equal(t, "researcher", contexts["agent"].(map[string]any)["name"])

	bcs := harness.SentryValues(ev, "breadcrumbs")
	var crumbs []string
	for _, b := range bcs {
		crumbs = append(crumbs, b.(map[string]any)["message"].(string))
	}
	assert.Equal(t, []string{"chat gpt-4o"}, crumbs, "the LLM call ended before the error; the open spans did not")

	req := ev["request"].(map[string]any)
	assert.Equal(t, "http://agents.internal/api/chat", req["url"])
	assert.Equal(t, "user-8841", ev["user"].(map[string]any)["id"])

	raw := fmt.Sprint(ev)
	assert.NotContains(t, raw, "sk-live-e2e-secret-0001")
	assert.NotContains(t, raw, "confidential prompt text")

	own := harness.MustScrape(t, c.TelemetryURL())
	sent, found := own.Sum("otelcol_exporter_sentry_errors_events_sent", map[string]string{"exporter": "sentry_errors"})
	assert.True(t, found, "own telemetry: %v", own.Names())
	assert.Equal(t, 1.0, sent, own.Series("otelcol_exporter_sentry_errors_events_sent"))
	scrubbed, _ := own.Sum("otelcol_exporter_sentry_errors_fields_scrubbed", map[string]string{"exporter": "sentry_errors", "rule": "deny_key"})
	assert.GreaterOrEqual(t, scrubbed, 1.0, own.Series("otelcol_exporter_sentry_errors_fields_scrubbed"))
	genai, _ := own.Sum("otelcol_exporter_sentry_errors_fields_scrubbed", map[string]string{"exporter": "sentry_errors", "rule": "genai_content"})
	assert.Equal(t, 0.0, genai, "the prompt was on the LLM span, which is a breadcrumb, not the event's span")
	t.Logf("own telemetry series:\n%s%s%s", own.Series("otelcol_exporter_sentry_errors_events_sent"),
		own.Series("otelcol_exporter_sentry_errors_fields_scrubbed"), own.Series("otelcol_exporter_sent_spans"))
	c.Stop(30 * time.Second)
}

func TestSentryOffWithoutDSN(t *testing.T) {
	c := harness.Start(t, harness.Options{Env: map[string]string{"SENTRY_DSN": ""}})
	tp := batchedTracerProvider(t, c, "procode-agent")
	agentRequest(t, tp)
	require.NoError(t, tp.ForceFlush(context.Background()))

	harness.Eventually(t, 30*time.Second, func() string {
		own, err := harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		if v, _ := own.Sum("otelcol_exporter_sentry_errors_events_dropped", map[string]string{"exporter": "sentry_errors", "reason": "no_dsn"}); v != 1 {
			return fmt.Sprintf("no_dsn drops = %v\n%s", v, own.Series("otelcol_exporter_sentry_errors_events_dropped"))
		}
		// The rest of the traces pipeline keeps working.
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if v, _ := fams.Sum("traces_span_metrics_calls_total", map[string]string{"span_name": "execute_tool web_search"}); v != 1 {
			return fmt.Sprintf("span metrics calls = %v", v)
		}
		return ""
	})
	code, _, err := c.Get(c.ReadinessURL("/ready"))
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, 1, strings.Count(c.Logs(), "Sentry is off"), c.Logs())
	c.Stop(30 * time.Second)
}

// TestSentryOutageIsRetriedAndPersisted: with the sending queue persisted through
// file_storage, events delivered before an outage are not sent again, and events
// queued while Sentry is down survive a SIGTERM: the next collector on the same
// storage delivers every one of them exactly once, under the same event_id.
func TestSentryOutageIsRetriedAndPersisted(t *testing.T) {
	srv := harness.NewSentryServer(t)
	gate := harness.NewGate(t, srv.Addr())
	dir := t.TempDir()
	overlay := writeFile(t, "persist.yaml", fmt.Sprintf(`
extensions:
  file_storage/sentry:
    directory: %s
exporters:
  sentry_errors:
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 200ms
      max_elapsed_time: 0
    sending_queue:
      storage: file_storage/sentry
service:
  extensions: [readiness, file_storage/sentry]
`, dir))
	opts := harness.Options{Configs: []string{harness.DefaultConfig(), overlay}, Env: map[string]string{"SENTRY_DSN": sentryDSN(srv, gate.Addr())}}
	c := harness.Start(t, opts)

	// Sentry is up: the first events are delivered.
	tp := batchedTracerProvider(t, c, "procode-agent")
	_, toolSC := agentRequest(t, tp)
	require.NoError(t, tp.ForceFlush(context.Background()))
	delivered := append([]string{"tool web_search failed: search backend unreachable"}, sendErrors(t, c, "before outage", 6, 3)...)
	waitAccepted(t, 30*time.Second, delivered, srv.Attempts)

	// Sentry goes down; more errors are reported and queued; the collector is stopped.
	gate.Down()
	queued := sendErrors(t, c, "queued", 20, 10)
	harness.Eventually(t, 20*time.Second, func() string {
		own, err := harness.Scrape(c.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		// Every queued event was taken from the pipeline (retrying or waiting in the queue).
		acceptedSpans, _ := own.Sum("otelcol_receiver_accepted_spans", map[string]string{"receiver": "otlp"})
		acceptedLogs, _ := own.Sum("otelcol_receiver_accepted_log_records", map[string]string{"receiver": "otlp"})
		if acceptedSpans < 4+6+20 || acceptedLogs < 3+10 {
			return fmt.Sprintf("accepted %v spans, %v log records", acceptedSpans, acceptedLogs)
		}
		if v, _ := own.Sum("otelcol_exporter_queue_size", map[string]string{"exporter": "sentry_errors"}); v < 1 {
			return fmt.Sprintf("sentry_errors queue size %v", v)
		}
		return ""
	})
	before := srv.Attempts()
	c.Stop(30 * time.Second)

	// Sentry is back; a new collector on the same storage delivers what was queued.
	gate.Up()
	c2 := harness.Start(t, opts)
	waitAccepted(t, 30*time.Second, queued, srv.Attempts)
	time.Sleep(2 * time.Second) // a duplicate would arrive within the retry interval
	all := tallySentry(srv.Attempts())
	all.assertExactlyOnce(t, append(delivered, queued...))
	assert.Len(t, srv.Attempts(), len(delivered)+len(queued), "one envelope per event: nothing delivered twice, nothing resent after the restart")
	assert.Empty(t, srv.Violations())
	first := tallySentry(before)
	for _, k := range delivered {
		assert.Equal(t, first.eventIDs[k], all.eventIDs[k])
	}
	var toolEvent map[string]any
	for _, ev := range srv.Events() {
		if eventKey(ev) == delivered[0] {
			toolEvent = ev
		}
	}
	require.NotNil(t, toolEvent)
	tr := toolEvent["contexts"].(map[string]any)["trace"].(map[string]any)
	assert.Equal(t, toolSC.SpanID().String(), tr["span_id"])
	assert.Equal(t, float64(len(queued)), ownTelemetry(t, c2, "otelcol_exporter_sentry_errors_events_sent", sentryExporter),
		"the second collector sent exactly the queued events")
	c2.Stop(30 * time.Second)
}

func TestSentryReceivesErrorLog(t *testing.T) {
	srv := harness.NewSentryServer(t)
	c := harness.Start(t, harness.Options{Env: map[string]string{"SENTRY_DSN": srv.DSN()}})
	lp := harness.LoggerProvider(t, c, "procode-agent")
	logger := lp.Logger("procode.payments")
	var info otellog.Record
	info.SetSeverity(otellog.SeverityInfo)
	info.SetBody(attribute.StringValue("charging order 1234"))
	logger.Emit(context.Background(), info)
	var rec otellog.Record
	rec.SetSeverity(otellog.SeverityError)
	rec.SetSeverityText("ERROR")
	rec.SetBody(attribute.StringValue("payment failed with Authorization: Bearer sk-live-e2e-secret-0002"))
	rec.AddAttributes(
		attribute.String("exception.type", "ValueError"),
		attribute.String("exception.message", "card declined"),
		attribute.String("exception.stacktrace", "Traceback (most recent call last):\n  File \"/app/pay.py\", line 7, in charge\n    raise ValueError(\"card declined\")\nValueError: card declined\n"),
	)
	logger.Emit(context.Background(), rec)
	require.NoError(t, lp.ForceFlush(context.Background()))

	evs := srv.WaitEvents(t, 1, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	require.Len(t, srv.Events(), 1, "the INFO record is not an event")
	ev := evs[0]
	assert.Equal(t, "error", ev["level"])
	assert.Equal(t, "procode.payments", ev["logger"])
	assert.Equal(t, "payment failed with Authorization: Bearer [Filtered]", ev["message"])
	exc := harness.SentryValues(ev, "exception")[0].(map[string]any)
	assert.Equal(t, "ValueError", exc["type"])
	frames := exc["stacktrace"].(map[string]any)["frames"].([]any)
	require.Len(t, frames, 1)
	assert.Equal(t, "charge", frames[0].(map[string]any)["function"])
	assert.Equal(t, true, frames[0].(map[string]any)["in_app"])
	c.Stop(30 * time.Second)
}
