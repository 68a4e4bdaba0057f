// Randomised tests of the pooled storage and payloads (see pool.go), written by an
// adversarial review of the pooling: random batches in every language, concurrent
// mapping, trimming, and delivery through the queue under a mix of Sentry's answers.

package sentryerrors

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func randomPython(r *rand.Rand, tag string) string {
	var b strings.Builder
	n := 1 + r.Intn(4)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString("\nThe above exception was the direct cause of the following exception:\n\n")
		}
		b.WriteString("Traceback (most recent call last):\n")
		for f := 0; f < r.Intn(30); f++ {
			fmt.Fprintf(&b, "  File \"/app/%s/m%d.py\", line %d, in fn_%s_%d\n    x = call_%s(%d)\n", tag, f, f+1, tag, f, tag, f)
		}
		fmt.Fprintf(&b, "pkg%d.Err%s: message %s %d\n", i, tag, tag, i)
	}
	return b.String()
}

func randomJava(r *rand.Rand, tag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "com.x.Top%s: top %s\n", tag, tag)
	nf := 1 + r.Intn(40)
	for f := 0; f < nf; f++ {
		fmt.Fprintf(&b, "\tat com.%s.C%d.m%d(C.java:%d)\n", tag, f, f, f)
	}
	nc := r.Intn(25)
	for c := 0; c < nc; c++ {
		fmt.Fprintf(&b, "Caused by: com.x.Cause%s%d: cause %d\n", tag, c, c)
		for f := 0; f < r.Intn(5); f++ {
			fmt.Fprintf(&b, "\tat com.%s.D%d.n%d(D.java:%d)\n", tag, c, f, f)
		}
		if r.Intn(2) == 0 {
			fmt.Fprintf(&b, "\t... %d more\n", 1+r.Intn(3))
		}
	}
	return b.String()
}

func randomGo(r *rand.Rand, tag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "panic: boom %s\n\n", tag)
	ng := 1 + r.Intn(60)
	for g := 0; g < ng; g++ {
		fmt.Fprintf(&b, "goroutine %d [running]:\n", g+1)
		for f := 0; f < r.Intn(8); f++ {
			fmt.Fprintf(&b, "example.com/%s/p.F%d()\n\t/src/%s/p/f.go:%d +0x1d\n", tag, f, tag, f+1)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func randomNode(r *rand.Rand, tag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "TypeError: bad %s\n", tag)
	for f := 0; f < r.Intn(30); f++ {
		fmt.Fprintf(&b, "    at fn%s%d (/app/%s/f%d.js:%d:%d)\n", tag, f, tag, f, f+1, f+2)
	}
	return b.String()
}

func randomDotnet(r *rand.Rand, tag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "System.InvalidOperationException: outer %s\n", tag)
	ni := r.Intn(3)
	for i := 0; i < ni; i++ {
		fmt.Fprintf(&b, " ---> System.ArgumentException: inner %s %d\n", tag, i)
	}
	for i := 0; i <= ni; i++ {
		for f := 0; f < 1+r.Intn(5); f++ {
			fmt.Fprintf(&b, "   at App%s.C%d.M%d() in /src/%s/C.cs:line %d\n", tag, i, f, tag, f+1)
		}
		if i < ni {
			b.WriteString("   --- End of inner exception stack trace ---\n")
		}
	}
	return b.String()
}

var randomLangs = []string{"python", "java", "go", "nodejs", "dotnet", "ruby"}

func randomStack(r *rand.Rand, tag string) string {
	switch r.Intn(7) {
	case 0:
		return randomPython(r, tag)
	case 1:
		return randomJava(r, tag)
	case 2:
		return randomGo(r, tag)
	case 3:
		return randomNode(r, tag)
	case 4:
		return randomDotnet(r, tag)
	case 5:
		return "" // no stack
	}
	return "garbage " + tag + "\nno frames here " + tag
}

func randomAttrs(r *rand.Rand, a pcommon.Map, tag string) {
	for i := 0; i < r.Intn(20); i++ {
		switch r.Intn(3) {
		case 0:
			a.PutStr(fmt.Sprintf("k%s.%d", tag, i), strings.Repeat(tag, 1+r.Intn(50)))
		case 1:
			a.PutInt(fmt.Sprintf("n%s.%d", tag, i), int64(i))
		default:
			s := a.PutEmptySlice(fmt.Sprintf("s%s.%d", tag, i))
			s.AppendEmpty().SetStr(tag)
		}
	}
	if r.Intn(3) == 0 {
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.full", "https://h/"+tag)
		a.PutStr("http.request.header.user-agent", "ua-"+tag)
	}
	if r.Intn(3) == 0 {
		a.PutStr("gen_ai.request.model", "model-"+tag)
		a.PutInt("gen_ai.usage.input_tokens", int64(r.Intn(100)))
	}
	if r.Intn(3) == 0 {
		a.PutStr("gen_ai.agent.name", "agent-"+tag)
	}
	if r.Intn(3) == 0 {
		a.PutStr("gen_ai.tool.name", "tool-"+tag)
	}
}

func randomTrace(r *rand.Rand, id int) ptrace.Traces {
	td := ptrace.NewTraces()
	for ri := 0; ri < 1+r.Intn(3); ri++ {
		rs := td.ResourceSpans().AppendEmpty()
		setResource(rs.Resource(), randomLangs[r.Intn(len(randomLangs))])
		rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc%d_%d", id, ri))
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(fmt.Sprintf("scope%d", id))
		nspans := 1 + r.Intn(40)
		for si := 0; si < nspans; si++ {
			tag := fmt.Sprintf("T%dR%dS%d", id, ri, si)
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{byte(id), byte(id >> 8), byte(r.Intn(2))})
			s.SetSpanID(pcommon.SpanID{byte(id), byte(ri), byte(si), 1})
			if si > 0 {
				s.SetParentSpanID(pcommon.SpanID{byte(id), byte(ri), byte(r.Intn(si)), 1})
			}
			s.SetName("span " + tag)
			s.SetStartTimestamp(ts(si))
			s.SetEndTimestamp(ts(si + 1 + r.Intn(50)))
			randomAttrs(r, s.Attributes(), tag)
			for e := 0; e < r.Intn(45); e++ {
				ev := s.Events().AppendEmpty()
				ev.SetName(fmt.Sprintf("ev %s %d", tag, e))
				ev.SetTimestamp(ts(si + r.Intn(60)))
				if r.Intn(2) == 0 {
					randomAttrs(r, ev.Attributes(), tag+"e")
				}
			}
			switch r.Intn(4) {
			case 0:
				s.Status().SetCode(ptrace.StatusCodeError)
				s.Status().SetMessage("failed " + tag)
			case 1:
				for x := 0; x < 1+r.Intn(2); x++ {
					ev := s.Events().AppendEmpty()
					ev.SetName("exception")
					ev.SetTimestamp(ts(si + r.Intn(60)))
					ev.Attributes().PutStr("exception.type", []string{"", "IgnoredErr", "E" + tag}[r.Intn(3)])
					ev.Attributes().PutStr("exception.message", "msg "+tag)
					ev.Attributes().PutStr("exception.stacktrace", randomStack(r, tag))
				}
			}
		}
	}
	return td
}

func randomLogs(r *rand.Rand, id int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	setResource(rl.Resource(), randomLangs[r.Intn(len(randomLangs))])
	sl := rl.ScopeLogs().AppendEmpty()
	for i := 0; i < 1+r.Intn(30); i++ {
		tag := fmt.Sprintf("L%dR%d", id, i)
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(ts(r.Intn(100)))
		lr.SetTraceID(pcommon.TraceID{byte(id), 7, byte(r.Intn(2))})
		lr.Body().SetStr("body " + tag)
		if r.Intn(2) == 0 {
			lr.SetSeverityNumber(plog.SeverityNumberError)
			lr.Attributes().PutStr("exception.type", []string{"", "IgnoredErr", "E" + tag}[r.Intn(3)])
			lr.Attributes().PutStr("exception.message", "msg "+tag)
			lr.Attributes().PutStr("exception.stacktrace", randomStack(r, tag))
		} else {
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
		}
		randomAttrs(r, lr.Attributes(), tag)
	}
	return ld
}

// TestPooledStorageRandomBatches: random batches (all parsers, language retries, many
// breadcrumbs, span-event attributes, ignored exceptions) mapped and encoded in pooled
// storage, concurrently, encode exactly as in fresh storage.
func TestPooledStorageRandomBatches(t *testing.T) {
	m := testMapper(t, func(c *Config) {
		c.IgnoreExceptions = []string{"IgnoredErr", "pkg2.*", "com.x.TopT1*", "ErrL1*", "panic", "System.InvalidOperationException"}
		c.RequestHeaders = append(c.RequestHeaders, "user-agent")
	})
	r := rand.New(rand.NewSource(42))
	type input struct {
		run func() mapResult
	}
	var inputs []input
	for i := 0; i < 120; i++ {
		if i%3 == 0 {
			ld := randomLogs(r, i)
			inputs = append(inputs, input{func() mapResult { return m.mapLogs(ld) }})
		} else {
			td := randomTrace(r, i)
			inputs = append(inputs, input{func() mapResult { return m.mapTraces(td) }})
		}
	}
	encodeAll := func(in input) []string {
		res := in.run()
		out := make([]string, 0, len(res.events))
		for i := range res.events {
			payload, _, err := encodePayload(res.events[i].event, res.events[i].ctx)
			if !assert.NoError(t, err) { // assert, not require: this runs in goroutines too
				return out
			}
			res.events[i].release() // as deliver: right after encoding
			out = append(out, string(payload))
		}
		return out
	}
	defer func() { pooling = true }()
	pooling = false
	want := make([][]string, len(inputs))
	total := 0
	for i, in := range inputs {
		want[i] = encodeAll(in)
		total += len(want[i])
	}
	t.Logf("%d events", total)
	pooling = true
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fails []string
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rr := rand.New(rand.NewSource(seed))
			for round := 0; round < 3; round++ {
				for _, i := range rr.Perm(len(inputs)) {
					got := encodeAll(inputs[i])
					for j := range got {
						if j >= len(want[i]) || got[j] != want[i][j] {
							mu.Lock()
							fails = append(fails, fmt.Sprintf("input %d event %d differs", i, j))
							mu.Unlock()
						}
					}
				}
			}
		}(int64(g))
	}
	wg.Wait()
	require.Empty(t, fails)
}

// TestReleasedBuffersHoldNoTelemetry: after release, every pooled slice is zero up
// to its capacity (strings there would keep batches alive while the buffer sits in the pool).
func TestReleasedBuffersHoldNoTelemetry(t *testing.T) {
	m := testMapper(t, func(c *Config) {
		c.IgnoreExceptions = []string{"IgnoredErr", "pkg2.*", "com.x.TopT1*", "ErrL1*", "panic", "System.InvalidOperationException"}
		c.RequestHeaders = append(c.RequestHeaders, "user-agent")
	})
	r := rand.New(rand.NewSource(7))
	checkEB := func(b *eventBuf, where string) {
		for i, l := range b.parse.lines[:cap(b.parse.lines)] {
			require.Empty(t, l, "%s: line %d", where, i)
		}
		for i, f := range b.parse.frames[:cap(b.parse.frames)] {
			require.Equal(t, frame{}, f, "%s: parse frame %d of %d (len %d)", where, i, cap(b.parse.frames), len(b.parse.frames))
		}
		for i, e := range b.parse.excs[:cap(b.parse.excs)] {
			require.Equal(t, parsedException{}, e, "%s: parsed exception %d", where, i)
		}
		for i, e := range b.excs[:cap(b.excs)] {
			require.Equal(t, exception{}, e, "%s: exception %d", where, i)
		}
		for i := range b.crumbs[:cap(b.crumbs)] {
			require.Equal(t, breadcrumb{}, b.crumbs[:cap(b.crumbs)][i], "%s: crumb %d", where, i)
		}
		for i, p := range b.crumbP[:cap(b.crumbP)] {
			require.Nil(t, p, "%s: crumb pointer %d", where, i)
		}
		require.Empty(t, b.headers, where)
	}
	checkBS := func(bs *batchScratch, where string) {
		for i := range bs.res[:cap(bs.res)] {
			require.Equal(t, resourceInfo{}, bs.res[:cap(bs.res)][i], "%s: resource %d", where, i)
		}
		for i, s := range bs.errSpans[:cap(bs.errSpans)] {
			require.Equal(t, spanRef{}, s, "%s: err span %d", where, i)
		}
		for j, l := range bs.spare {
			for i, s := range l[:cap(l)] {
				require.Equal(t, spanRef{}, s, "%s: spare %d ref %d", where, j, i)
			}
		}
		require.Empty(t, bs.errTraces)
		require.Empty(t, bs.index.byTrace)
		require.Empty(t, bs.index.bySpan)
	}
	for i := 0; i < 300; i++ {
		var res mapResult
		if i%3 == 0 {
			res = m.mapLogs(randomLogs(r, i))
		} else {
			res = m.mapTraces(randomTrace(r, i))
			bs := batchScratches.Get().(*batchScratch)
			checkBS(bs, fmt.Sprintf("batch %d", i))
			batchScratches.Put(bs)
		}
		for j := range res.events {
			b := res.events[j].buf
			pooling = false
			res.events[j].release()
			pooling = true
			checkEB(b, fmt.Sprintf("input %d event %d", i, j))
		}
		var got []*eventBuf
		for k := 0; k < 4; k++ {
			eb := eventBufs.Get().(*eventBuf)
			checkEB(eb, fmt.Sprintf("pooled after input %d", i))
			got = append(got, eb)
		}
		for _, eb := range got {
			eventBufs.Put(eb)
		}
	}
}

func randomHugeJava(tag string) string {
	name := strings.Repeat("pkg", 330) + tag
	var b strings.Builder
	b.WriteString("a.X: top " + tag + "\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "\tat %s.C.m%d(C.java:%d)\n", name, i, i)
	}
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "Caused by: a.Y%d: cause\n\tat %s.D.n(D.java:1)\n\t... 200 more\n", i, name)
	}
	return b.String()
}

func randomHugeGo(tag string) string {
	name := strings.Repeat("p", 1000) + tag
	var b strings.Builder
	b.WriteString("panic: huge " + tag + "\n\n")
	for g := 0; g < 50; g++ {
		fmt.Fprintf(&b, "goroutine %d [running]:\n", g+1)
		for f := 0; f < 25; f++ {
			fmt.Fprintf(&b, "example.com/%s.F%d()\n\t/src/%s/f.go:%d +0x1d\n", name, f, name, f+1)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestPooledStorageTrimmedEvents: oversized events (trimmed before sending) among ordinary ones.
func TestPooledStorageTrimmedEvents(t *testing.T) {
	m := testMapper(t, nil)
	var inputs []func() mapResult
	for i := 0; i < 12; i++ {
		td := agentTrace(t, []string{"java", "go", "python"}[i%3], "", "", "python_tool_call.txt")
		tag := fmt.Sprintf("t%d", i)
		switch i % 3 {
		case 0:
			setStack(td, randomHugeJava(tag))
		case 1:
			setStack(td, randomHugeGo(tag))
		}
		inputs = append(inputs, func() mapResult { return m.mapTraces(td) })
	}
	run := func(f func() mapResult) []string {
		res := f()
		var out []string
		for i := range res.events {
			payload, _, err := encodePayload(res.events[i].event, res.events[i].ctx)
			require.NoError(t, err)
			res.events[i].release()
			out = append(out, string(payload))
		}
		return out
	}
	defer func() { pooling = true }()
	pooling = false
	var want [][]string
	for _, f := range inputs {
		want = append(want, run(f))
	}
	pooling = true
	r := rand.New(rand.NewSource(3))
	for round := 0; round < 4; round++ {
		for _, i := range r.Perm(len(inputs)) {
			require.Equal(t, want[i], run(inputs[i]), "input %d", i)
		}
	}
}
