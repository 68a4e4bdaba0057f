package sentryerrors

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// base is the fixed start of every fixture, so that golden output is stable.
var base = time.Date(2026, 1, 28, 9, 0, 0, 0, time.UTC)

func ts(ms int) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(base.Add(time.Duration(ms) * time.Millisecond))
}

var (
	traceID = pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	rootID  = pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1}
	agentID = pcommon.SpanID{2, 2, 2, 2, 2, 2, 2, 2}
	llmID   = pcommon.SpanID{3, 3, 3, 3, 3, 3, 3, 3}
	dbID    = pcommon.SpanID{4, 4, 4, 4, 4, 4, 4, 4}
	toolID  = pcommon.SpanID{5, 5, 5, 5, 5, 5, 5, 5}
)

func readStack(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stacks", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func setResource(r pcommon.Resource, lang string) {
	a := r.Attributes()
	a.PutStr("service.name", "procode-agent")
	a.PutStr("service.version", "1.4.2")
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("host.name", "agent-7f9c")
	a.PutStr("telemetry.sdk.language", lang)
	a.PutStr("telemetry.sdk.name", "opentelemetry")
	switch lang {
	case "python":
		a.PutStr("process.runtime.name", "cpython")
		a.PutStr("process.runtime.version", "3.12.3")
	case "go":
		a.PutStr("process.runtime.name", "go")
		a.PutStr("process.runtime.version", "go1.26.8")
	case "java":
		a.PutStr("process.runtime.name", "OpenJDK Runtime Environment")
		a.PutStr("process.runtime.version", "21.0.3+9")
	case "nodejs":
		a.PutStr("process.runtime.name", "nodejs")
		a.PutStr("process.runtime.version", "20.12.2")
	case "dotnet":
		a.PutStr("process.runtime.name", ".NET")
		a.PutStr("process.runtime.version", "8.0.4")
	}
	a.PutStr("os.type", "linux")
	a.PutStr("os.description", "Debian GNU/Linux 12 (bookworm)")
}

// agentTrace is one chat request of an agent: the HTTP server span, the agent span, an
// LLM call (priced by llm_cost), a database query and a tool call. The tool call records
// the exception (from stackFile) when stackFile is set.
func agentTrace(t testing.TB, lang, excType, excMsg, stackFile string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	setResource(rs.Resource(), lang)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("procode.agents")
	spans := ss.Spans()

	root := spans.AppendEmpty()
	root.SetTraceID(traceID)
	root.SetSpanID(rootID)
	root.SetName("POST /api/chat")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(ts(0))
	root.SetEndTimestamp(ts(2500))
	ra := root.Attributes()
	ra.PutStr("http.request.method", "POST")
	ra.PutStr("http.route", "/api/chat")
	ra.PutStr("url.scheme", "https")
	ra.PutStr("server.address", "agents.example.com")
	ra.PutStr("url.path", "/api/chat")
	ra.PutStr("url.query", "session=abc")
	ra.PutInt("http.response.status_code", 500)
	ra.PutStr("enduser.id", "user-8841")
	ra.PutEmptySlice("http.request.header.user-agent").AppendEmpty().SetStr("procode-web/2.3")
	ra.PutEmptySlice("http.request.header.x-request-id").AppendEmpty().SetStr("req-5521")
	ra.PutEmptySlice("http.request.header.cookie").AppendEmpty().SetStr("sid=very-secret-cookie")

	agent := spans.AppendEmpty()
	agent.SetTraceID(traceID)
	agent.SetSpanID(agentID)
	agent.SetParentSpanID(rootID)
	agent.SetName("invoke_agent researcher")
	agent.SetKind(ptrace.SpanKindInternal)
	agent.SetStartTimestamp(ts(10))
	agent.SetEndTimestamp(ts(2400))
	aa := agent.Attributes()
	aa.PutStr("gen_ai.operation.name", "invoke_agent")
	aa.PutStr("gen_ai.agent.name", "researcher")
	aa.PutStr("gen_ai.agent.id", "agt_01HX")
	aa.PutStr("gen_ai.conversation.id", "conv_77")

	llm := spans.AppendEmpty()
	llm.SetTraceID(traceID)
	llm.SetSpanID(llmID)
	llm.SetParentSpanID(agentID)
	llm.SetName("chat gpt-4o")
	llm.SetKind(ptrace.SpanKindClient)
	llm.SetStartTimestamp(ts(20))
	llm.SetEndTimestamp(ts(1220))
	la := llm.Attributes()
	la.PutStr("gen_ai.operation.name", "chat")
	la.PutStr("gen_ai.provider.name", "openai")
	la.PutStr("gen_ai.request.model", "gpt-4o")
	la.PutStr("gen_ai.response.model", "gpt-4o-2024-08-06")
	la.PutInt("gen_ai.usage.input_tokens", 1200)
	la.PutInt("gen_ai.usage.output_tokens", 300)
	la.PutDouble("gen_ai.usage.cost", 0.006)
	la.PutStr("llm_cost.status", "priced")
	la.PutStr("llm_cost.model", "openai/gpt-4o")
	la.PutStr("llm_cost.pricing_version", "2026-01-01")
	la.PutDouble("llm_cost.breakdown.input", 0.003)
	la.PutDouble("llm_cost.breakdown.output", 0.003)
	la.PutStr("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"find the quarterly numbers"}]}]`)

	db := spans.AppendEmpty()
	db.SetTraceID(traceID)
	db.SetSpanID(dbID)
	db.SetParentSpanID(agentID)
	db.SetName("SELECT conversations")
	db.SetKind(ptrace.SpanKindClient)
	db.SetStartTimestamp(ts(1230))
	db.SetEndTimestamp(ts(1242))
	dba := db.Attributes()
	dba.PutStr("db.system.name", "postgresql")
	dba.PutStr("db.query.summary", "SELECT conversations")
	dba.PutStr("db.collection.name", "conversations")
	dba.PutStr("db.query.text", "SELECT * FROM conversations WHERE id = 77")

	tool := spans.AppendEmpty()
	tool.SetTraceID(traceID)
	tool.SetSpanID(toolID)
	tool.SetParentSpanID(agentID)
	tool.SetName("execute_tool web_search")
	tool.SetKind(ptrace.SpanKindInternal)
	tool.SetStartTimestamp(ts(1250))
	tool.SetEndTimestamp(ts(2300))
	ta := tool.Attributes()
	ta.PutStr("gen_ai.operation.name", "execute_tool")
	ta.PutStr("gen_ai.tool.name", "web_search")
	ta.PutStr("gen_ai.tool.call.id", "call_9")
	ta.PutStr("gen_ai.tool.call.arguments", `{"q":"quarterly numbers"}`)
	retry := tool.Events().AppendEmpty()
	retry.SetName("retry")
	retry.SetTimestamp(ts(1800))
	retry.Attributes().PutInt("attempt", 2)
	if stackFile != "" {
		tool.Status().SetCode(ptrace.StatusCodeError)
		tool.Status().SetMessage(excMsg)
		exc := tool.Events().AppendEmpty()
		exc.SetName("exception")
		exc.SetTimestamp(ts(2290))
		exc.Attributes().PutStr("exception.type", excType)
		exc.Attributes().PutStr("exception.message", excMsg)
		exc.Attributes().PutStr("exception.stacktrace", readStack(t, stackFile))
	}
	return td
}

// errorLog is one ERROR log record with an exception, in the agent trace.
func errorLog(t testing.TB, lang, excType, excMsg, stackFile string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	setResource(rl.Resource(), lang)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("procode.payments")

	info := sl.LogRecords().AppendEmpty()
	info.SetTimestamp(ts(100))
	info.SetSeverityNumber(plog.SeverityNumberInfo)
	info.SetSeverityText("INFO")
	info.Body().SetStr("charging order 1234")
	info.SetTraceID(traceID)
	info.SetSpanID(toolID)

	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(ts(200))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("ERROR")
	lr.Body().SetStr("order processing failed")
	lr.SetTraceID(traceID)
	lr.SetSpanID(toolID)
	lr.Attributes().PutStr("exception.type", excType)
	lr.Attributes().PutStr("exception.message", excMsg)
	lr.Attributes().PutStr("exception.stacktrace", readStack(t, stackFile))
	lr.Attributes().PutStr("enduser.id", "user-8841")
	return ld
}

// fixtureStacks are the stack trace fixtures of testdata/stacks, one per language.
var fixtureStacks = []struct{ lang, typ, stack string }{
	{"python", "ToolExecutionError", "python_tool_call.txt"},
	{"java", "com.example.orders.OrderProcessingException", "java_causes.txt"},
	{"go", "runtime.boundsError", "go_panic.txt"},
	{"nodejs", "TypeError", "node_error.txt"},
	{"dotnet", "System.InvalidOperationException", "dotnet_inner.txt"},
}

// agentTraceWithStack is agentTrace with the exception's stack trace text given.
func agentTraceWithStack(t testing.TB, lang, excType, excMsg, stack string) ptrace.Traces {
	td := agentTrace(t, lang, excType, excMsg, "python_tool_call.txt")
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for _, s := range spans.All() {
		for _, e := range s.Events().All() {
			if e.Name() == "exception" {
				e.Attributes().PutStr("exception.stacktrace", stack)
			}
		}
	}
	return td
}

// errorLogWithStack is errorLog with the exception's stack trace text given.
func errorLogWithStack(t testing.TB, lang, excType, excMsg, stack string) plog.Logs {
	ld := errorLog(t, lang, excType, excMsg, "python_tool_call.txt")
	for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
		if _, ok := lr.Attributes().Get("exception.stacktrace"); ok {
			lr.Attributes().PutStr("exception.stacktrace", stack)
		}
	}
	return ld
}
