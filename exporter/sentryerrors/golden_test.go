package sentryerrors

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	sentry "github.com/getsentry/sentry-go"
	"github.com/procode-ai/otelcol-procode/tests/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func testMapper(t testing.TB, mutate func(*Config)) *mapper {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = "https://public@sentry.example.com/1"
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	return newMapper(cfg, "test")
}

// eventJSON encodes ev the way the exporter sends it, indented for golden files.
func eventJSON(t testing.TB, me mappedEvent) []byte {
	t.Helper()
	payload, _, err := encodeEvent(me)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, payload, "", "  "))
	out.WriteByte('\n')
	return out.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o600))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestGolden -update to create it")
	assert.Equal(t, string(want), string(got), "event JSON differs from %s", path)
}

func decoded(t testing.TB, me mappedEvent) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(eventJSON(t, me), &m))
	return m
}

func framesOf(t testing.TB, exc map[string]any) []map[string]any {
	t.Helper()
	st, ok := exc["stacktrace"].(map[string]any)
	require.True(t, ok, "exception %v has no stacktrace", exc["type"])
	var out []map[string]any
	for _, f := range st["frames"].([]any) {
		out = append(out, f.(map[string]any))
	}
	return out
}

func exceptionsOf(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range harness.SentryValues(m, "exception") {
		out = append(out, e.(map[string]any))
	}
	return out
}

func TestGoldenTraces(t *testing.T) {
	tests := []struct {
		name, lang, typ, msg, stack string
		check                       func(t *testing.T, ev map[string]any)
	}{
		{
			name: "python_tool_call", lang: "python", typ: "ToolExecutionError",
			msg: "tool web_search failed: search backend unreachable", stack: "python_tool_call.txt",
			check: func(t *testing.T, ev map[string]any) {
				exc := exceptionsOf(ev)
				require.Len(t, exc, 2, "the cause (httpx.ConnectError) and the raised ToolExecutionError")
				assert.Equal(t, "ConnectError", exc[0]["type"])
				assert.Equal(t, "httpx", exc[0]["module"])
				assert.Equal(t, "ToolExecutionError", exc[1]["type"])
				frames := framesOf(t, exc[1])
				require.Len(t, frames, 4)
				assert.Equal(t, "/app/procode/agents/executor.py", frames[0]["abs_path"])
				// As sentry-python: module and file name from the import root, which the
				// qualified exception type (procode.tools.errors) shows is /app/.
				assert.Equal(t, "procode.agents.executor", frames[0]["module"])
				assert.Equal(t, "procode/agents/executor.py", frames[0]["filename"])
				assert.Equal(t, "contextlib", frames[3]["module"], "the standard library's import root")
				assert.Equal(t, "__cause__", exc[0]["mechanism"].(map[string]any)["source"])
				assert.Equal(t, "run_tool", frames[0]["function"])
				assert.EqualValues(t, 118, frames[0]["lineno"])
				assert.Equal(t, "result = await tool.execute(call.arguments)", frames[0]["context_line"])
				assert.Equal(t, true, frames[0]["in_app"])
				assert.Equal(t, true, frames[1]["in_app"])
				assert.Equal(t, false, frames[2]["in_app"], "site-packages is library code")
				assert.Equal(t, false, frames[3]["in_app"], "the standard library is not app code")
				for _, f := range framesOf(t, exc[0]) {
					assert.Equal(t, false, f["in_app"])
				}
				assert.Equal(t, "python", ev["platform"])
			},
		},
		{
			name: "java_causes", lang: "java", typ: "com.example.orders.OrderProcessingException",
			msg: "could not charge order 1234", stack: "java_causes.txt",
			check: func(t *testing.T, ev map[string]any) {
				exc := exceptionsOf(ev)
				require.Len(t, exc, 3)
				// As sentry-java: the simple name, the package as the module.
				assert.Equal(t, "SocketTimeoutException", exc[0]["type"])
				assert.Equal(t, "java.net", exc[0]["module"])
				assert.Equal(t, "PaymentGatewayException", exc[1]["type"])
				assert.Equal(t, "OrderProcessingException", exc[2]["type"])
				assert.Equal(t, "com.example.orders", exc[2]["module"])
				main := framesOf(t, exc[2])
				require.Len(t, main, 6)
				last := main[len(main)-1]
				assert.Equal(t, "charge", last["function"])
				assert.Equal(t, "com.example.orders.OrderService", last["module"])
				assert.Equal(t, "OrderService.java", last["filename"])
				assert.EqualValues(t, 88, last["lineno"])
				assert.Equal(t, false, main[0]["in_app"], "java.lang.Thread is JDK")
				// "... 4 more" is filled from the enclosing trace: 3 own frames + 4.
				cause := framesOf(t, exc[1])
				require.Len(t, cause, 7)
				assert.Equal(t, "run", cause[0]["function"])
				root := framesOf(t, exc[0])
				require.Len(t, root, 9, "3 own frames + 6 from the enclosing cause")
				assert.Equal(t, "timedRead", root[len(root)-1]["function"])
				assert.Equal(t, false, root[len(root)-1]["in_app"])
				mech := exc[0]["mechanism"].(map[string]any)
				assert.Equal(t, "chained", mech["type"])
				assert.EqualValues(t, 2, mech["exception_id"])
				assert.EqualValues(t, 1, mech["parent_id"])
			},
		},
		{
			name: "go_panic", lang: "go", typ: "runtime.boundsError",
			msg: "runtime error: index out of range [5] with length 3", stack: "go_panic.txt",
			check: func(t *testing.T, ev map[string]any) {
				assert.Equal(t, "fatal", ev["level"])
				exc := exceptionsOf(ev)
				require.Len(t, exc, 1)
				mech := exc[0]["mechanism"].(map[string]any)
				assert.Equal(t, "panic", mech["type"])
				assert.Equal(t, false, mech["handled"])
				frames := framesOf(t, exc[0])
				require.Len(t, frames, 6)
				top := frames[len(frames)-1]
				assert.Equal(t, "(*Planner).pickStep", top["function"])
				assert.Equal(t, "github.com/procode-ai/agent/internal/planner", top["module"])
				assert.EqualValues(t, 77, top["lineno"])
				assert.Equal(t, true, top["in_app"])
				assert.Equal(t, "(*Server).Serve", frames[0]["function"], "created by: the oldest frame")
				assert.Equal(t, false, frames[0]["in_app"], "GOROOT")
				assert.Equal(t, true, frames[2]["in_app"], "sentry-go: only GOROOT, vendor and third_party are not app code")
				assert.Nil(t, frames[2]["filename"], "sentry-go: an absolute path is abs_path alone")
				threads := harness.SentryValues(ev, "threads")
				require.Len(t, threads, 2, "both goroutines of the dump")
				assert.Equal(t, "42", threads[0].(map[string]any)["id"])
				assert.Equal(t, true, threads[0].(map[string]any)["crashed"])
			},
		},
		{
			name: "node_error", lang: "nodejs", typ: "TypeError",
			msg: "Cannot read properties of undefined (reading 'content')", stack: "node_error.txt",
			check: func(t *testing.T, ev map[string]any) {
				assert.Equal(t, "node", ev["platform"])
				frames := framesOf(t, exceptionsOf(ev)[0])
				require.Len(t, frames, 5)
				top := frames[len(frames)-1]
				assert.Equal(t, "extractAnswer", top["function"])
				assert.Equal(t, "/srv/app/src/agent/answer.js", top["abs_path"])
				assert.EqualValues(t, 27, top["lineno"])
				assert.EqualValues(t, 31, top["colno"])
				assert.Equal(t, true, top["in_app"])
				assert.Equal(t, false, frames[0]["in_app"], "node:internal")
				assert.Equal(t, false, frames[1]["in_app"], "node_modules")
			},
		},
		{
			name: "dotnet_inner", lang: "dotnet", typ: "System.InvalidOperationException",
			msg: "Could not load the agent profile", stack: "dotnet_inner.txt",
			check: func(t *testing.T, ev map[string]any) {
				assert.Equal(t, "csharp", ev["platform"])
				exc := exceptionsOf(ev)
				require.Len(t, exc, 2)
				assert.Equal(t, "System.ArgumentNullException", exc[0]["type"])
				inner := framesOf(t, exc[0])
				require.Len(t, inner, 2)
				assert.Equal(t, "Get", inner[0]["function"])
				assert.Equal(t, "ProCode.Agents.ProfileCache", inner[0]["module"])
				assert.EqualValues(t, 42, inner[0]["lineno"])
				assert.Equal(t, true, inner[0]["in_app"])
				assert.Equal(t, "FindValue", inner[1]["function"])
				assert.Equal(t, false, inner[1]["in_app"], "System.*")
				outer := framesOf(t, exc[1])
				require.Len(t, outer, 3)
				assert.Equal(t, "Run", outer[1]["function"])
				assert.Equal(t, true, outer[1]["in_app"])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMapper(t, nil)
			res := m.mapTraces(agentTrace(t, tt.lang, tt.typ, tt.msg, tt.stack))
			require.Len(t, res.events, 1, "one exception event, one Sentry event (the ERROR status adds none)")
			ev := res.events[0]
			got := eventJSON(t, ev)
			checkGolden(t, tt.name, got)

			m2 := decoded(t, ev)
			tt.check(t, m2)
			commonTraceChecks(t, m2)
		})
	}
}

// commonTraceChecks are what every event of the agent trace fixture must carry.
func commonTraceChecks(t *testing.T, ev map[string]any) {
	t.Helper()
	assert.Equal(t, "1.4.2", ev["release"])
	assert.Equal(t, "production", ev["environment"])
	assert.Equal(t, "agent-7f9c", ev["server_name"])
	assert.Equal(t, "procode.agents", ev["logger"])
	assert.Equal(t, "POST /api/chat", ev["transaction"])
	contexts := ev["contexts"].(map[string]any)
	trace := contexts["trace"].(map[string]any)
	assert.Equal(t, traceID.String(), trace["trace_id"])
	assert.Equal(t, toolID.String(), trace["span_id"])
	assert.Equal(t, agentID.String(), trace["parent_span_id"])
	assert.Equal(t, "gen_ai.execute_tool", trace["op"])
	assert.Equal(t, "unknown_error", trace["status"])
	llm := contexts["llm"].(map[string]any)
	assert.Equal(t, "openai", llm["provider"])
	assert.Equal(t, "gpt-4o", llm["model"])
	assert.EqualValues(t, 1200, llm["input_tokens"])
	assert.EqualValues(t, 300, llm["output_tokens"])
	assert.EqualValues(t, 1500, llm["total_tokens"])
	assert.InDelta(t, 0.006, llm["cost_usd"], 1e-12)
	assert.Equal(t, "priced", llm["cost_status"])
	assert.Equal(t, llmID.String(), llm["span_id"], "the LLM call that preceded the tool error")
	agent := contexts["agent"].(map[string]any)
	assert.Equal(t, "researcher", agent["name"])
	assert.Equal(t, "agt_01HX", agent["id"])
	assert.Equal(t, "web_search", agent["tool"])
	tags := ev["tags"].(map[string]any)
	assert.Equal(t, "procode-agent", tags["service"])
	assert.Equal(t, "openai", tags["llm.provider"])
	assert.Equal(t, "gpt-4o", tags["llm.model"])
	assert.Equal(t, "researcher", tags["agent"])
	assert.Equal(t, "/api/chat", tags["route"])
	req := ev["request"].(map[string]any)
	assert.Equal(t, "POST", req["method"])
	assert.Equal(t, "https://agents.example.com/api/chat", req["url"])
	headers := req["headers"].(map[string]any)
	assert.Equal(t, "procode-web/2.3", headers["User-Agent"])
	assert.NotContains(t, headers, "Cookie", "cookie is not in request_headers")
	assert.Equal(t, "user-8841", ev["user"].(map[string]any)["id"])
	// Breadcrumbs: the LLM call, the database query, the tool's retry event, oldest first;
	// the spans that had not ended (root, agent) are not breadcrumbs.
	bc := harness.SentryValues(ev, "breadcrumbs")
	require.Len(t, bc, 3)
	assert.Equal(t, "gen_ai", bc[0].(map[string]any)["category"])
	assert.Equal(t, "chat gpt-4o", bc[0].(map[string]any)["message"])
	assert.Equal(t, "db.query", bc[1].(map[string]any)["category"])
	assert.Equal(t, "SELECT conversations", bc[1].(map[string]any)["message"])
	assert.Equal(t, "retry", bc[2].(map[string]any)["message"])
	// GenAI content is left out.
	otel := contexts["otel"].(map[string]any)
	assert.NotContains(t, otel["attributes"], "gen_ai.tool.call.arguments")
	assert.Len(t, ev["event_id"], 32)
}

func TestGoldenLogs(t *testing.T) {
	m := testMapper(t, nil)
	res := m.mapLogs(errorLog(t, "java", "com.example.orders.OrderProcessingException", "could not charge order 1234", "java_causes.txt"))
	require.Len(t, res.events, 1, "the INFO record is not an event")
	ev := res.events[0]
	checkGolden(t, "log_java", eventJSON(t, ev))
	m2 := decoded(t, ev)
	assert.Equal(t, "error", m2["level"])
	assert.Equal(t, "order processing failed", m2["message"])
	assert.Equal(t, "procode.payments", m2["logger"])
	require.Len(t, exceptionsOf(m2), 3)
	trace := m2["contexts"].(map[string]any)["trace"].(map[string]any)
	assert.Equal(t, traceID.String(), trace["trace_id"])
	bc := harness.SentryValues(m2, "breadcrumbs")
	require.Len(t, bc, 1)
	assert.Equal(t, "charging order 1234", bc[0].(map[string]any)["message"])
}

func TestStatusOnlyErrorSpan(t *testing.T) {
	td := agentTrace(t, "python", "", "", "")
	root := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("upstream agent failed")
	root.Attributes().PutStr("error.type", "500")
	m := testMapper(t, nil)
	res := m.mapTraces(td)
	require.Len(t, res.events, 1)
	ev := decoded(t, res.events[0])
	exc := exceptionsOf(ev)
	require.Len(t, exc, 1)
	assert.Equal(t, "500", exc[0]["type"])
	assert.Equal(t, "upstream agent failed", exc[0]["value"])
	assert.Equal(t, "opentelemetry.span_status", exc[0]["mechanism"].(map[string]any)["type"])
	assert.Equal(t, "500", ev["tags"].(map[string]any)["error.type"])
	assert.Equal(t, "internal_error", ev["contexts"].(map[string]any)["trace"].(map[string]any)["status"])
	// Every other span of the trace had ended before the root: all are breadcrumbs.
	assert.Len(t, harness.SentryValues(ev, "breadcrumbs"), 4)
}

func TestEventIDIsDeterministic(t *testing.T) {
	m := testMapper(t, nil)
	td := agentTrace(t, "python", "ToolExecutionError", "boom", "python_tool_call.txt")
	a := m.mapTraces(td).events[0].event.EventID
	b := m.mapTraces(td).events[0].event.EventID
	assert.Equal(t, a, b, "the same span must give the same event_id on every delivery")

	// A second exception event on the span gets its own id.
	tool := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4)
	e := tool.Events().AppendEmpty()
	e.SetName("exception")
	e.SetTimestamp(ts(2295))
	e.Attributes().PutStr("exception.type", "ValueError")
	res := m.mapTraces(td)
	require.Len(t, res.events, 2)
	assert.Equal(t, a, res.events[0].event.EventID)
	assert.NotEqual(t, a, res.events[1].event.EventID)

	ld := errorLog(t, "java", "X", "y", "java_causes.txt")
	l1 := m.mapLogs(ld).events[0].event.EventID
	l2 := m.mapLogs(ld).events[0].event.EventID
	assert.Equal(t, l1, l2)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).SetTimestamp(ts(201))
	assert.NotEqual(t, l1, m.mapLogs(ld).events[0].event.EventID)
}

func TestLogSelection(t *testing.T) {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	add := func(sev plog.SeverityNumber, text, body string, exc bool) {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetSeverityNumber(sev)
		lr.SetSeverityText(text)
		lr.Body().SetStr(body)
		lr.SetTimestamp(ts(len(body)))
		if exc {
			lr.Attributes().PutStr("exception.type", "KeyError")
		}
	}
	add(plog.SeverityNumberInfo, "INFO", "info", false)
	add(plog.SeverityNumberWarn, "WARN", "warn", false)
	add(plog.SeverityNumberError, "ERROR", "error!", false)
	add(plog.SeverityNumberFatal, "FATAL", "fatal!!", false)
	add(plog.SeverityNumberUnspecified, "Error", "text-only error", false)
	add(plog.SeverityNumberDebug, "DEBUG", "debug with exception", true)

	m := testMapper(t, nil)
	res := m.mapLogs(ld)
	var msgs []string
	levels := map[string]sentry.Level{}
	for _, e := range res.events {
		msgs = append(msgs, e.event.Message)
		levels[e.event.Message] = e.event.Level
	}
	assert.ElementsMatch(t, []string{"error!", "fatal!!", "text-only error", "debug with exception"}, msgs)
	assert.Equal(t, sentry.LevelFatal, levels["fatal!!"])
	assert.Equal(t, sentry.LevelDebug, levels["debug with exception"])

	m = testMapper(t, func(c *Config) { c.MinSeverity = "warn" })
	assert.Len(t, m.mapLogs(ld).events, 5)
}

// TestEncoderMatchesSentryGo holds the exporter's event JSON to sentry-go's event model:
// every fixture's JSON, read into sentry-go's Event and written again by sentry-go, gives
// the same values. A field the encoder misspelled, nested wrongly or gave the wrong type
// would not survive the round trip through sentry-go's types.
func TestEncoderMatchesSentryGo(t *testing.T) {
	m := testMapper(t, func(c *Config) { c.Fingerprint = []string{"{{ default }}", "{{ span.name }}"} })
	var events []mappedEvent
	for _, f := range []struct{ lang, typ, stack string }{
		{"python", "ToolExecutionError", "python_tool_call.txt"},
		{"java", "X", "java_causes.txt"},
		{"go", "runtime.boundsError", "go_panic.txt"},
		{"nodejs", "TypeError", "node_error.txt"},
		{"dotnet", "System.InvalidOperationException", "dotnet_inner.txt"},
	} {
		for _, e := range m.mapTraces(agentTrace(t, f.lang, f.typ, "msg \"quoted\" <tag> & \u2028 \x01 é", f.stack)).events {
			events = append(events, e)
		}
		for _, e := range m.mapLogs(errorLog(t, f.lang, f.typ, "log msg", f.stack)).events {
			events = append(events, e)
		}
	}
	for _, e := range scrubMapper(t, nil).mapTraces(plantTrace(t)).events {
		events = append(events, e)
	}
	require.Len(t, events, 11)
	for _, me := range events {
		ours, _, err := encodeEvent(me)
		require.NoError(t, err)
		var a map[string]any
		require.NoError(t, json.Unmarshal(ours, &a), string(ours))
		// sentry-go reads and writes these lists bare; we write them as {"values": [...]}.
		for _, k := range []string{"exception", "threads", "breadcrumbs"} {
			if _, ok := a[k]; ok {
				a[k] = harness.SentryValues(a, k)
			}
		}
		bare, err := json.Marshal(a)
		require.NoError(t, err)
		var ev sentry.Event
		require.NoError(t, json.Unmarshal(bare, &ev))
		theirs, err := ev.MarshalJSON()
		require.NoError(t, err)
		var b map[string]any
		require.NoError(t, json.Unmarshal(theirs, &b))
		// sentry-go always writes exception_id (an int); sentry-python's chains, and so
		// ours for Python, have none.
		if exc, ok := a["exception"].([]any); ok {
			for i, x := range exc {
				if _, ok := x.(map[string]any)["mechanism"].(map[string]any)["exception_id"]; !ok {
					delete(b["exception"].([]any)[i].(map[string]any)["mechanism"].(map[string]any), "exception_id")
				}
			}
		}
		assert.Equal(t, a, b)
	}
}
