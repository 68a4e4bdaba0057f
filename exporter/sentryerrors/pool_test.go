package sentryerrors

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadatatest"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestPooledStorageIsNotShared: events mapped and encoded in pooled storage, released
// after each encoding and taken again by the next event in every order, encode exactly
// as events each mapped in fresh storage do. The inputs differ in everything the storage
// holds (languages and their parsers, threads, breadcrumbs, request headers, llm and
// agent contexts, scrubbed values, a large trace's timelines, log records), so a field
// that release forgot to reset, or a buffer still in use when it was handed on, shows
// as a difference.
func TestPooledStorageIsNotShared(t *testing.T) {
	plain, scrubbing := testMapper(t, nil), scrubMapper(t, nil)
	type input struct {
		name string
		run  func() mapResult
	}
	var inputs []input
	for _, f := range [][3]string{{"python", "ToolExecutionError", "python_tool_call.txt"}, {"java", "X", "java_causes.txt"},
		{"go", "panic", "go_panic.txt"}, {"nodejs", "TypeError", "node_error.txt"}, {"dotnet", "System.InvalidOperationException", "dotnet_inner.txt"}} {
		td := agentTrace(t, f[0], f[1], "failed", f[2])
		ld := errorLog(t, f[0], f[1], "log failed", f[2])
		inputs = append(inputs,
			input{f[0] + "_trace", func() mapResult { return plain.mapTraces(td) }},
			input{f[0] + "_log", func() mapResult { return plain.mapLogs(ld) }})
	}
	statusOnly := agentTrace(t, "python", "", "upstream 502", "")
	tool := statusOnly.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4)
	tool.Status().SetCode(ptrace.StatusCodeError)
	tool.Status().SetMessage("upstream 502")
	// The same trace's tool span again, alone in its batch: its parents, seen in an
	// earlier batch, must not be found in this one.
	orphan := agentTrace(t, "python", "ToolExecutionError", "failed again", "python_tool_call.txt")
	orphan.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { return s.SpanID() != toolID })
	planted := plantTrace(t)
	storm := stormTrace(60)
	inputs = append(inputs,
		input{"status_only", func() mapResult { return plain.mapTraces(statusOnly) }},
		input{"orphan", func() mapResult { return plain.mapTraces(orphan) }},
		input{"planted", func() mapResult { return scrubbing.mapTraces(planted) }},
		input{"storm", func() mapResult { return plain.mapTraces(storm) }})

	encodeAll := func(in input, release bool) []string {
		res := in.run()
		out := make([]string, 0, len(res.events))
		for i := range res.events {
			payload, _, err := encodeEvent(res.events[i].event, res.events[i].ctx)
			require.NoError(t, err)
			out = append(out, string(payload))
			if release {
				res.events[i].release()
			}
		}
		return out
	}

	pooling = false
	want := map[string][]string{}
	for _, in := range inputs {
		want[in.name] = encodeAll(in, false)
		require.NotEmpty(t, want[in.name], in.name)
	}
	pooling = true
	defer func() { pooling = true }()
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 6; round++ {
		for _, i := range rng.Perm(len(inputs)) {
			in := inputs[i]
			got := encodeAll(in, true)
			require.Equal(t, len(want[in.name]), len(got), in.name)
			for j := range got {
				assert.Equal(t, want[in.name][j], got[j], "%s event %d, round %d", in.name, j, round)
			}
		}
	}
}

// TestReleaseForgetsTheEvent: a released buffer keeps no telemetry (a string of it
// would keep the batch it came from in memory while the buffer waits in the pool), and
// one event that grew a buffer far past the usual does not leave it that large.
func TestReleaseForgetsTheEvent(t *testing.T) {
	m := testMapper(t, nil)
	res := m.mapTraces(agentTrace(t, "java", "X", "failed", "java_causes.txt"))
	require.Len(t, res.events, 1)
	b := res.events[0].buf
	require.NotNil(t, b)
	require.NotEmpty(t, b.parse.frames[:cap(b.parse.frames)][0].Function, "the parser's frames are in the buffer")
	require.NotEmpty(t, b.crumbs, "the breadcrumbs are in the buffer")
	pooling = false // keep b out of the pool, to look at it after release
	defer func() { pooling = true }()
	res.events[0].release()
	assert.Nil(t, res.events[0].event)

	assert.Equal(t, sentry.Event{}, b.ev)
	assert.Equal(t, eventParts{}, b.parts)
	assert.Equal(t, llmContext{}, b.llm)
	assert.Equal(t, agentContext{}, b.agent)
	assert.Equal(t, traceContext{}, b.trace)
	assert.Equal(t, otelContext{}, b.otel)
	assert.Equal(t, runtimeContext{}, b.runtime)
	assert.Equal(t, osContext{}, b.os)
	assert.Equal(t, sentry.Request{}, b.req)
	assert.Empty(t, b.headers)
	for i, f := range b.parse.frames[:cap(b.parse.frames)] {
		require.Equal(t, frame{}, f, "frame %d", i)
	}
	for _, l := range b.parse.lines[:cap(b.parse.lines)] {
		require.Empty(t, l)
	}
	crumbs := b.crumbs[:cap(b.crumbs)]
	for i := range crumbs {
		require.Equal(t, breadcrumb{}, crumbs[i])
	}
	for _, e := range b.excs[:cap(b.excs)] {
		require.Equal(t, exception{}, e)
	}
	assert.Empty(t, b.json)

	// A stack of 5,000 lines leaves no 5,000-line scratch behind.
	huge := "java.lang.IllegalStateException: deep\n" + strings.Repeat("\tat com.example.A.b(A.java:1)\n", 5000)
	td := agentTrace(t, "java", "X", "deep", "java_causes.txt")
	ex := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4).Events().At(1)
	require.Equal(t, "exception", ex.Name())
	ex.Attributes().PutStr("exception.stacktrace", huge)
	res = m.mapTraces(td)
	require.Len(t, res.events, 1)
	b = res.events[0].buf
	require.Greater(t, cap(b.parse.lines), maxPooledLines)
	res.events[0].release()
	assert.Nil(t, b.parse.lines)
	assert.Nil(t, b.parse.frames)
}

// TestPooledPayloadsDeliveredIntact: payload buffers go back to the pool when Sentry has
// an event (or refused it for good) and serve the next events, while other events of the
// same exporter are still being retried after 500s and held for a 429: every event
// Sentry accepts is the one its envelope names, with its own content, and each arrives
// once. A buffer given back too early (before a retry) would send another event's JSON
// under this event's id.
func TestPooledPayloadsDeliveredIntact(t *testing.T) {
	t.Run("one event per request", func(t *testing.T) { testPayloadsIntact(t, nil) })
	// Batched: requests of several events, each posted on its own; a failure part way
	// through leaves the rest of the request (OnError) for the retry, the sent ones done.
	t.Run("batched requests", func(t *testing.T) {
		testPayloadsIntact(t, func(c *Config) {
			q := c.QueueConfig.Get()
			q.Batch = configoptional.Some(exporterhelper.BatchConfig{
				FlushTimeout: 20 * time.Millisecond, Sizer: exporterhelper.RequestSizerTypeItems, MinSize: 7, MaxSize: 10})
		})
	})
}

func testPayloadsIntact(t *testing.T, mutate func(*Config)) {
	srv := harness.NewSentryServer(t)
	var answers []harness.SentryResponse
	for i := 0; i < 30; i++ {
		switch i % 3 {
		case 0:
			answers = append(answers, harness.SentryResponse{Status: 500})
		case 1:
			answers = append(answers, harness.SentryResponse{Status: 200})
		default:
			answers = append(answers, harness.SentryResponse{Status: 503})
		}
	}
	srv.Respond(answers...)
	te := startTraces(t, srv.DSN(), mutate)

	const n = 60
	want := map[string]string{} // event_id: the exception message that event carries
	m := testMapper(t, nil)
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("failure %03d %s", i, strings.Repeat("x", i*50)) // sizes differ too
		td := agentTrace(t, "python", "ToolExecutionError", msg, "python_tool_call.txt")
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for j := 0; j < spans.Len(); j++ {
			spans.At(j).SetTraceID([16]byte{byte(i), byte(i >> 8), 9, 9})
		}
		res := m.mapTraces(td)
		require.Len(t, res.events, 1)
		want[string(res.events[0].event.EventID)] = msg
		require.NoError(t, te.traces.ConsumeTraces(context.Background(), td))
	}
	evs := srv.WaitEvents(t, n, 30*time.Second)
	got := map[string]int{}
	for _, ev := range evs {
		id := ev["event_id"].(string)
		got[id]++
		msg, ok := want[id]
		require.True(t, ok, "an event id that was never sent: %s", id)
		exc := ev["exception"].([]any)
		assert.Equal(t, msg, exc[len(exc)-1].(map[string]any)["value"], "event %s carries another event's content", id)
	}
	assert.Len(t, got, n)
	for id, c := range got {
		assert.Equal(t, 1, c, "event %s accepted %d times", id, c)
	}
	for _, a := range srv.Attempts() {
		require.Len(t, a.Items, 1)
		assert.Equal(t, a.Header["event_id"], a.Items[0].Event["event_id"], "envelope and event disagree")
	}
	assert.Empty(t, srv.Violations())
}

// TestStalePayloadIsNeverSent: an event whose pooled buffer went back to the pool (and
// on to another event) before it was sent is dropped as an exporter bug, counted, and
// its buffer's new content is not sent under its id.
func TestStalePayloadIsNeverSent(t *testing.T) {
	srv := harness.NewSentryServer(t)
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	tb, err := metadata.NewTelemetryBuilder(metadatatest.NewSettings(tel).TelemetrySettings)
	require.NoError(t, err)
	tgt, err := newTarget(srv.DSN(), "test")
	require.NoError(t, err)
	s := &sender{client: srvClient(), targets: map[string]*target{"": tgt}, sdk: &sentry.SdkInfo{Name: "t", Version: "1"},
		now: time.Now, tel: newTelemetry(tb, "sentry_errors")}

	pb := payloadBufs.Get().(*payloadBuf)
	pb.b = append(pb.b[:0], `{"event_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`...)
	e := pooled("", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", pb)
	stale := e // a copy that outlived a release
	e.release()
	assert.True(t, stale.stale())
	stale.release() // does nothing: the buffer is no longer this event's
	err = s.push(context.Background(), &eventsRequest{events: []encodedEvent{stale}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reused before it was sent")
	assert.Empty(t, srv.Attempts())

	fresh := payloadBufs.Get().(*payloadBuf)
	fresh.b = append(fresh.b[:0], `{"event_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}`...)
	ok := pooled("", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", fresh)
	require.NoError(t, s.push(context.Background(), &eventsRequest{events: []encodedEvent{ok}}))
	require.Len(t, srv.Attempts(), 1)
	assert.NotEqual(t, ok.gen, fresh.gen, "sent, so given back")
}
