package sentryerrors

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/stacktrace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// hugeStacks are stack trace texts far larger than any real one, each shaped to hit one
// parser's worst case.
func hugeStacks() map[string]struct{ lang, text string } {
	gen := func(n int, f func(b *strings.Builder, i int)) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			f(&b, i)
		}
		return b.String()
	}
	return map[string]struct{ lang, text string }{
		// every cause repeats its enclosing trace with "... N more": quadratic if expanded naively
		"java_cause_chain": {"java", "a.X: m\n\tat a.b(c.java:1)\n" + gen(20000, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "Caused by: a.Y%d: m\n\tat a.b(c.java:%d)\n\t... %d more\n", i, i, i+1)
		})},
		"java_deep": {"java", "a.X: m\n" + gen(40000, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "\tat com.example.Recursive.call%d(Recursive.java:%d)\n", i, i)
		})},
		"java_long_frame": {"java", "a.X: m\n\tat " + strings.Repeat("x", 2<<20) + "(A.java:1)\n"},
		"python_chain": {"python", gen(20000, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "Traceback (most recent call last):\n  File \"/app/x.py\", line %d, in f\n    g()\nValueError: %d\n\nThe above exception was the direct cause of the following exception:\n\n", i, i)
		}) + "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in f\n    g()\nRuntimeError: last\n"},
		"python_long_message": {"python", "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in f\n    g()\nValueError: " +
			gen(50000, func(b *strings.Builder, i int) { fmt.Fprintf(b, "line %d of the message\n", i) })},
		"go_goroutines": {"go", "panic: boom\n\n" + gen(20000, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "goroutine %d [running]:\nmain.f%d()\n\t/app/main.go:%d +0x1d\nmain.main()\n\t/app/main.go:8 +0x1d\n\n", i+1, i, i)
		})},
		"node_deep": {"nodejs", "TypeError: x\n" + gen(40000, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "    at f%d (/app/src/x.js:%d:5)\n", i, i)
		})},
		"dotnet_inner": {"dotnet", strings.Repeat("System.Exception: outer ---> ", 20000) + "System.IO.IOException: inner\n" +
			gen(20000, func(b *strings.Builder, i int) {
				fmt.Fprintf(b, "   at App.C.M%d() in /src/C.cs:line %d\n   --- End of inner exception stack trace ---\n", i, i)
			})},
	}
}

// TestHugeStackTextsStayBounded: however large or repetitive the stack trace text, the
// event stays under Sentry's event size limit with a bounded number of exceptions,
// threads and frames, and mapping it allocates a bounded amount (a cause chain of 20,000
// once took 20 GiB and 77 s here).
func TestHugeStackTextsStayBounded(t *testing.T) {
	m := testMapper(t, nil)
	for name, hs := range hugeStacks() {
		t.Run(name, func(t *testing.T) {
			td := agentTrace(t, hs.lang, "", "", "python_tool_call.txt")
			setStack(td, hs.text)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			res := m.mapTraces(td)
			runtime.ReadMemStats(&m1)
			require.Len(t, res.events, 1)
			cx := res.events[0].event
			out, _, err := encodeEvent(res.events[0])
			require.NoError(t, err)
			frames := 0
			for _, e := range cx.Exceptions {
				require.LessOrEqual(t, len(e.Stacktrace.Frames), stacktrace.MaxFrames)
				frames += len(e.Stacktrace.Frames)
			}
			for _, th := range cx.Threads {
				require.LessOrEqual(t, len(th.Stacktrace.Frames), stacktrace.MaxFrames)
				frames += len(th.Stacktrace.Frames)
			}
			allocated := m1.TotalAlloc - m0.TotalAlloc
			t.Logf("text %d KiB: %d exceptions, %d threads, %d frames, event %d KiB, mapping allocated %d KiB",
				len(hs.text)>>10, len(cx.Exceptions), len(cx.Threads), frames, len(out)>>10, allocated>>10)
			require.NotEmpty(t, cx.Exceptions)
			require.LessOrEqual(t, len(cx.Exceptions), stacktrace.MaxExceptions)
			require.LessOrEqual(t, len(cx.Threads), stacktrace.MaxThreads)
			require.LessOrEqual(t, len(out), sentryevent.MaxBytes)
			require.Less(t, allocated, uint64(64<<20), "mapping one event allocated %d MiB", allocated>>20)
			require.True(t, json.Valid(out))
		})
	}
}

// TestLongCauseChainKeepsRaisedAndRootCause: past stacktrace.MaxExceptions, the chain keeps the
// raised exception with its nearest causes, and the root cause.
func TestLongCauseChainKeepsRaisedAndRootCause(t *testing.T) {
	var b strings.Builder
	b.WriteString("a.Raised: top\n\tat a.b(c.java:1)\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "Caused by: a.Cause%d: m\n\tat a.b(c.java:%d)\n\t... 1 more\n", i, i+1)
	}
	for _, lang := range []string{"java", "python"} {
		text := b.String()
		if lang == "python" {
			var p strings.Builder
			for i := 30; i >= 1; i-- {
				fmt.Fprintf(&p, "Traceback (most recent call last):\n  File \"/app/x.py\", line %d, in f\n    g()\na.Cause%d: m\n\nThe above exception was the direct cause of the following exception:\n\n", i, i)
			}
			p.WriteString("Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in f\n    g()\na.Raised: top\n")
			text = p.String()
		}
		ps := (&stacktrace.Parser{}).Parse(lang, text, stacktrace.Hints{})
		require.Len(t, ps.Exceptions, stacktrace.MaxExceptions, lang)
		types := make([]string, 0, len(ps.Exceptions))
		for _, e := range ps.Exceptions {
			typ := e.Type // Java keeps the qualified name, Python the module apart
			if !strings.Contains(typ, ".") {
				typ = e.Module + "." + typ
			}
			types = append(types, typ)
		}
		want := []string{"a.Cause30"} // the root cause first, in Sentry's order
		for i := stacktrace.MaxExceptions - 2; i >= 1; i-- {
			want = append(want, fmt.Sprintf("a.Cause%d", i))
		}
		want = append(want, "a.Raised")
		require.Equal(t, want, types, lang)
	}
}

// TestOversizedEventIsTrimmed: an event that encodes past Sentry's size limit (here a
// trace whose "... N more" lines repeat 200 frames with very long names) is trimmed
// step by step until it fits, keeping the exception chain and marking omitted frames.
func TestOversizedEventIsTrimmed(t *testing.T) {
	name := strings.Repeat("pkg", 330) // a 990-byte package name
	var b strings.Builder
	b.WriteString("a.X: top\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "\tat %s.C.m%d(C.java:%d)\n", name, i, i)
	}
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "Caused by: a.Y%d: cause\n\tat %s.D.n(D.java:1)\n\t... 200 more\n", i, name)
	}
	m := testMapper(t, nil)
	td := agentTrace(t, "java", "", "", "python_tool_call.txt")
	setStack(td, b.String())
	res := m.mapTraces(td)
	require.Len(t, res.events, 1)
	me := res.events[0]
	out, steps, err := encodeEvent(me)
	require.NoError(t, err)
	require.Positive(t, steps, "the fixture must start over the limit")
	require.LessOrEqual(t, len(out), sentryevent.MaxBytes)
	var ev struct {
		Exception struct {
			Values []struct {
				Type       string `json:"type"`
				Stacktrace struct {
					Frames        []json.RawMessage `json:"frames"`
					FramesOmitted []int             `json:"frames_omitted"`
				} `json:"stacktrace"`
			} `json:"values"`
		} `json:"exception"`
	}
	require.NoError(t, json.Unmarshal(out, &ev))
	require.Len(t, ev.Exception.Values, 5, "the chain is kept")
	raised := ev.Exception.Values[4].Stacktrace
	require.Equal(t, "X", ev.Exception.Values[4].Type)
	require.Len(t, raised.Frames, 50)
	require.Equal(t, []int{12, 162}, raised.FramesOmitted, "200 frames: the oldest 12 and newest 38 kept")
}

// setStack replaces the exception.stacktrace of the trace's exception event.
func setStack(td ptrace.Traces, text string) {
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := 0; i < spans.Len(); i++ {
		evs := spans.At(i).Events()
		for j := 0; j < evs.Len(); j++ {
			if evs.At(j).Name() == "exception" {
				evs.At(j).Attributes().PutStr("exception.stacktrace", text)
				evs.At(j).Attributes().Remove("exception.type")
				evs.At(j).Attributes().Remove("exception.message")
			}
		}
	}
}

// stormTrace is one trace of n spans (end times 1..n ms apart), every other one failed.
func stormTrace(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	setResource(rs.Resource(), "python")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < n; i++ {
		s := spans.AppendEmpty()
		s.SetTraceID(traceID)
		s.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i), 1})
		s.SetName(fmt.Sprintf("call %d", i))
		s.SetStartTimestamp(ts(i))
		s.SetEndTimestamp(ts(i + 1))
		s.Attributes().PutStr("http.request.method", "GET")
		if i%2 == 0 {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	return td
}

// TestErrorStormInOneTrace: every error of a large trace gets the latest
// max_breadcrumbs spans that ended before it, and the work per error does not grow
// with the trace. Each error used to build a breadcrumb for every earlier span of the
// trace before keeping 50: 4,000 spans, half of them errors, took 7.5 s. Bytes
// allocated per event stand in for the work, which a timing would measure less reliably.
func TestErrorStormInOneTrace(t *testing.T) {
	m := testMapper(t, nil)
	perEvent := func(n int) (mapResult, float64) {
		td := stormTrace(n)
		return bytesPerEvent(func() mapResult { return m.mapTraces(td) })
	}
	res, small := perEvent(200)
	require.Len(t, res.events, 100)
	_, large := perEvent(4000)
	t.Logf("bytes allocated per event: %.0f in a trace of 200 spans, %.0f in one of 4,000", small, large)
	assert.Less(t, large, 1.5*small, "the work per error grows with the trace")

	for _, me := range res.events {
		i := 0
		_, err := fmt.Sscanf(me.event.Contexts.Trace.Description, "call %d", &i)
		require.NoError(t, err)
		bc := me.event.Breadcrumbs
		require.Len(t, bc, min(i, 50), "span %d", i)
		for j, b := range bc { // the spans that ended just before, oldest first
			assert.Equal(t, fmt.Sprintf("call %d", i-len(bc)+j), b.Message)
		}
	}
}

// TestErrorLogStormInOneTrace: the same for error logs of one trace.
func TestErrorLogStormInOneTrace(t *testing.T) {
	m := testMapper(t, nil)
	perEvent := func(n int) (mapResult, float64) {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		setResource(rl.Resource(), "python")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := 0; i < n; i++ {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(ts(i))
			lr.SetTraceID(traceID)
			lr.SetSeverityNumber(plog.SeverityNumberError)
			lr.Body().SetStr(fmt.Sprintf("failure %d", i))
		}
		return bytesPerEvent(func() mapResult { return m.mapLogs(ld) })
	}
	res, small := perEvent(100)
	require.Len(t, res.events, 100)
	_, large := perEvent(2000)
	t.Logf("bytes allocated per event: %.0f with 100 records in the trace, %.0f with 2,000", small, large)
	assert.Less(t, large, 1.5*small, "the work per error grows with the trace")
	last := res.events[99].event.Breadcrumbs
	require.Len(t, last, 50)
	assert.Equal(t, "failure 49", last[0].Message)
	assert.Equal(t, "failure 98", last[49].Message)
}

// TestLogEventIDsDifferByAttributes: two error logs alike but for their stack trace or
// an attribute are two events with two ids (one id made Sentry drop the second as a
// duplicate); the same record mapped again keeps its id.
func TestLogEventIDsDifferByAttributes(t *testing.T) {
	m := testMapper(t, nil)
	ld := errorLog(t, "java", "IllegalStateException", "order failed", "java_causes.txt")
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	second := lrs.AppendEmpty()
	lrs.At(1).CopyTo(second)
	second.Attributes().PutStr("exception.stacktrace", "java.lang.IllegalStateException: order failed\n\tat a.B.c(B.java:1)\n")
	third := lrs.AppendEmpty()
	lrs.At(1).CopyTo(third)
	third.Attributes().PutStr("order.id", "1235")
	res := m.mapLogs(ld)
	require.Len(t, res.events, 3)
	ids := map[string]bool{}
	for _, e := range res.events {
		ids[string(e.event.EventID)] = true
	}
	assert.Len(t, ids, 3)
	again := m.mapLogs(ld)
	assert.Equal(t, res.events[2].event.EventID, again.events[2].event.EventID)
}

// TestUntrustedFieldsAreBoundedAndScrubbed: every text an app controls is bounded and
// scrubbed, names included (scope, severity text, exception type, attribute keys,
// request method); a 2 MiB method or client address once made an event no trimming
// could bring under 1 MB.
func TestUntrustedFieldsAreBoundedAndScrubbed(t *testing.T) {
	m := testMapper(t, func(c *Config) { c.SendDefaultPII = true })
	ld := errorLog(t, "python", "ValueError password=SECRET1", "x", "python_tool_call.txt")
	sl := ld.ResourceLogs().At(0).ScopeLogs().At(0)
	sl.Scope().SetName("lib password=SECRET2")
	lr := sl.LogRecords().At(1)
	lr.SetSeverityText("ERR password=SECRET3")
	lr.Attributes().PutStr("note password=SECRET4", "x")
	lr.Attributes().PutStr(strings.Repeat("k", 1<<20), "long key")
	lr.Attributes().PutStr("client.address", strings.Repeat("9", 2<<20))
	td := agentTrace(t, "python", "ValueError", "x", "python_tool_call.txt")
	root := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	root.Attributes().PutStr("http.request.method", "GET password=SECRET5"+strings.Repeat("M", 2<<20))
	for _, me := range append(m.mapLogs(ld).events, m.mapTraces(td).events...) {
		out, steps, err := encodeEvent(me)
		require.NoError(t, err)
		assert.Zero(t, steps, "bounded before encoding, not trimmed after")
		assert.Less(t, len(out), 64<<10)
		for i := 1; i <= 5; i++ {
			assert.NotContains(t, string(out), fmt.Sprintf("SECRET%d", i))
		}
		assert.NotContains(t, string(out), "kkkkkkkk")
	}
}

// TestLargeLogBodiesInBreadcrumbs: a breadcrumb of a log record with a large map body is
// written only as far as its 512 bytes (each breadcrumb used to serialise the whole body
// first: 200 such errors in one trace took 15 s and 3.9 GiB), and an exception event's
// type and message are cut before they are joined.
func TestLargeLogBodiesInBreadcrumbs(t *testing.T) {
	m := testMapper(t, nil)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	setResource(rl.Resource(), "python")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < 60; i++ {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(ts(i))
		lr.SetTraceID(traceID)
		lr.SetSeverityNumber(plog.SeverityNumberError)
		body := lr.Body().SetEmptyMap()
		for j := 0; j < 2000; j++ {
			body.PutStr(fmt.Sprintf("field_%04d", j), strings.Repeat("v", 20))
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	res := m.mapLogs(ld)
	runtime.ReadMemStats(&m1)
	require.Len(t, res.events, 60)
	perEvent := (m1.TotalAlloc - m0.TotalAlloc) / 60
	t.Logf("%d KiB allocated per event", perEvent>>10)
	// Each event still renders its own body once (its message, up to 8 KiB); its 50
	// breadcrumbs add 512 bytes each, not a whole body each.
	assert.Less(t, perEvent, uint64(1<<20))
	crumb := res.events[59].event.Breadcrumbs[0].Message
	assert.LessOrEqual(t, len(crumb), 512)
	assert.True(t, strings.HasPrefix(crumb, `{"field_0000":"vvvv`), crumb)

	b := (&mapper{scrub: newScrubber(ScrubConfig{}), cfg: m.cfg}).eventBreadcrumb(exceptionEvent(strings.Repeat("T", 1<<20), strings.Repeat("m", 1<<20)), new(scrub.Counts))
	assert.LessOrEqual(t, len(b.Message), 512)
}

func exceptionEvent(typ, msg string) ptrace.SpanEvent {
	e := ptrace.NewSpanEvent()
	e.SetName("exception")
	e.Attributes().PutStr("exception.type", typ)
	e.Attributes().PutStr("exception.message", msg)
	return e
}

// TestTimelineMatchesScan: the two ways an error finds its breadcrumbs and its LLM call
// (a scan of a small trace, a time-ordered timeline of a large one) give the same event,
// on the agent trace of every language and on a trace with equal end times.
func TestTimelineMatchesScan(t *testing.T) {
	m := testMapper(t, nil)
	traces := map[string]ptrace.Traces{"storm": stormTrace(60)}
	for _, f := range [][3]string{{"python", "ToolExecutionError", "python_tool_call.txt"}, {"java", "X", "java_causes.txt"},
		{"go", "panic", "go_panic.txt"}, {"nodejs", "TypeError", "node_error.txt"}} {
		td := agentTrace(t, f[0], f[1], "failed", f[2])
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		tool := spans.At(4)
		for i := 0; i < 3; i++ { // more events, some at equal times
			e := tool.Events().AppendEmpty()
			e.SetName("progress")
			e.SetTimestamp(ts(1260 + 10*(i/2)))
		}
		for i := 0; i < 3; i++ { // a second LLM call ending with the first, and later ones
			llm := spans.AppendEmpty()
			spans.At(2).CopyTo(llm)
			llm.SetSpanID([8]byte{7, 7, byte(i)})
			llm.SetEndTimestamp(ts(1220 + 1000*min(i, 1))) // the last two end together
		}
		traces[f[0]] = td
	}
	defer func(n int) { linearScanMax = n }(linearScanMax)
	for name, td := range traces {
		linearScanMax = 1 << 30
		scanned := m.mapTraces(td)
		linearScanMax = 0
		ordered := m.mapTraces(td)
		require.Equal(t, len(scanned.events), len(ordered.events), name)
		for i := range scanned.events {
			assert.Equal(t, string(eventJSON(t, scanned.events[i])), string(eventJSON(t, ordered.events[i])), "%s event %d", name, i)
		}
	}
}

// bytesPerEvent maps once and returns the result and the bytes allocated per event:
// the work per event, counted rather than timed. Bytes, not allocations: breadcrumbs
// are built in chunks that double (eventBuf.crumb), so building every earlier span's
// breadcrumb shows in the bytes, hardly in the count of allocations. The events are
// not released, so each is built in memory of its own.
func bytesPerEvent(mapIt func() mapResult) (mapResult, float64) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	res := mapIt()
	runtime.ReadMemStats(&m1)
	return res, float64(m1.TotalAlloc-m0.TotalAlloc) / float64(len(res.events))
}
