package sentryerrors

import (
	"context"
	"fmt"
	"testing"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// capturedEvents is a sentry-go transport that keeps the events it is given.
type capturedEvents struct{ events []*sentry.Event }

func (c *capturedEvents) Flush(time.Duration) bool              { return true }
func (c *capturedEvents) FlushWithContext(context.Context) bool { return true }
func (c *capturedEvents) Configure(sentry.ClientOptions)        {}
func (c *capturedEvents) SendEvent(e *sentry.Event)             { c.events = append(c.events, e) }
func (c *capturedEvents) Close()                                {}

type chargeError struct{ order string }

func (e chargeError) Error() string { return "could not charge order " + e.order }

// recordBoth captures err with sentry-go (a stack trace taken here) and records it on
// span as the OpenTelemetry Go SDK does with trace.WithStackTrace(true): the same place,
// two SDKs.
func recordBoth(hub *sentry.Hub, span trace.Span, err error) {
	hub.CaptureException(err)
	span.RecordError(err, trace.WithStackTrace(true))
}

func chargeOrder(hub *sentry.Hub, span trace.Span, order string) {
	run := func() {
		recordBoth(hub, span, chargeError{order: order}) // a named type: OTel writes its package path
		recordBoth(hub, span, fmt.Errorf("checkout: %w", chargeError{order: order}))
	}
	run()
}

// TestGroupingMatchesSentryGo records one error in a closure of this package with
// sentry-go (AttachStacktrace) and with the OpenTelemetry Go SDK at the same place. The
// span, through this exporter, must give the exception sentry-go's type and its frames
// sentry-go's module, function, file name, abs_path and in_app (lines differ by the one
// line between the two calls).
func TestGroupingMatchesSentryGo(t *testing.T) {
	transport := &capturedEvents{}
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: "https://k@o1.ingest.sentry.io/1", Transport: transport, AttachStacktrace: true})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	hub := sentry.NewHub(client, sentry.NewScope())
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	_, span := tp.Tracer("reference").Start(context.Background(), "checkout")
	chargeOrder(hub, span, "1234")
	span.End()
	require.Len(t, transport.events, 2)
	require.Len(t, spans.GetSpans(), 1)

	for i, sdkEvent := range transport.events {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("telemetry.sdk.language", "go")
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(traceID)
		s.SetSpanID(toolID)
		e := s.Events().AppendEmpty()
		e.SetName("exception")
		for _, kv := range spans.GetSpans()[0].Events[i].Attributes {
			e.Attributes().PutStr(string(kv.Key), kv.Value.AsString())
		}
		res := testMapper(t, nil).mapTraces(td)
		require.Len(t, res.events, 1)
		ourExc := harness.SentryValues(decoded(t, res.events[0]), "exception")
		// sentry-go also sends the wrapped errors (one exception per Unwrap); OTel has
		// only the outer error's text, so the raised exception is compared.
		raised := sdkEvent.Exception[len(sdkEvent.Exception)-1]
		ours := ourExc[len(ourExc)-1].(map[string]any)
		assert.Equal(t, raised.Type, ours["type"])
		assert.Equal(t, raised.Value, ours["value"])
		var want, got []map[string]any
		for _, f := range raised.Stacktrace.Frames {
			want = append(want, map[string]any{"module": f.Module, "function": f.Function, "filename": f.Filename, "abs_path": f.AbsPath, "in_app": f.InApp})
		}
		for _, f := range ours["stacktrace"].(map[string]any)["frames"].([]any) {
			fm := f.(map[string]any)
			str := func(k string) string { v, _ := fm[k].(string); return v }
			got = append(got, map[string]any{"module": str("module"), "function": str("function"), "filename": str("filename"), "abs_path": str("abs_path"), "in_app": fm["in_app"]})
		}
		// sentry-go's stack, taken inside recordBoth, ends there; OTel's at RecordError's
		// caller, the same frame.
		assert.Equal(t, want, got)
		assert.NotEmpty(t, got)
	}
}
