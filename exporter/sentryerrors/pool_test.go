package sentryerrors

import (
	"math/rand"
	"strings"
	"testing"

	sentry "github.com/getsentry/sentry-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
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
