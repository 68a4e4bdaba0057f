package sentryerrors

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// groupingFields are the fields of an exception Sentry groups on, from an event's JSON:
// per exception its type and module, per frame its module, filename, function and
// in_app (source context lines aside, which a collector cannot see).
func groupingFields(t *testing.T, exc map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{"type": exc["type"], "module": exc["module"]}
	var frames []map[string]any
	if st, ok := exc["stacktrace"].(map[string]any); ok {
		for _, f := range st["frames"].([]any) {
			fm := f.(map[string]any)
			frames = append(frames, map[string]any{"module": fm["module"], "filename": fm["filename"], "function": fm["function"], "in_app": fm["in_app"]})
		}
	}
	out["frames"] = frames
	return out
}

// TestGroupingMatchesSentryNode: tests/node/sentry/app/main.js throws one Error inside
// the app (a named function, an anonymous callback, Array.map, an async function and
// Promise.all) and captures it twice, with @sentry/node (the event it would send) and
// with the OpenTelemetry JS SDK (span.recordException). The span, through this exporter,
// must give the raised exception the same grouping fields as the SDK's event.
func TestGroupingMatchesSentryNode(t *testing.T) {
	node, err := exec.LookPath("node")
	require.NoError(t, err)
	nodeTool(t, "sentry-cli") // the package is installed
	script, err := filepath.Abs(filepath.Join("..", "..", "tests", "node", "sentry", "app", "main.js"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, script).Output()
	require.NoError(t, err)
	var ref struct {
		Sentry map[string]any    `json:"sentry"`
		OTel   map[string]string `json:"otel"`
		Argv1  string            `json:"argv1"`
	}
	require.NoError(t, json.Unmarshal(out, &ref))

	// The span as the OTel JS SDK exports it, with the resource its process detector
	// writes (process.command is the main script); no telemetry.sdk.language, so the
	// platform must come from the stack.
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "orders")
	rs.Resource().Attributes().PutStr("process.command", ref.Argv1)
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(traceID)
	s.SetSpanID(toolID)
	s.SetName("handle")
	e := s.Events().AppendEmpty()
	e.SetName("exception")
	for k, v := range ref.OTel {
		e.Attributes().PutStr(k, v)
	}
	res := testMapper(t, nil).mapTraces(td)
	require.Len(t, res.events, 1)
	ours := decoded(t, res.events[0])
	assert.Equal(t, "node", ours["platform"], "inferred from the V8 stack")

	sdkExc := harness.SentryValues(ref.Sentry, "exception")
	ourExc := harness.SentryValues(ours, "exception")
	// The SDK also sends error.cause (linkedErrors); error.stack, which OTel records,
	// does not hold it. The raised exception is the SDK's last.
	raisedSDK := sdkExc[len(sdkExc)-1].(map[string]any)
	raisedOurs := ourExc[len(ourExc)-1].(map[string]any)
	assert.Equal(t, groupingFields(t, raisedSDK), groupingFields(t, raisedOurs))
}

// TestGroupingSpanAndLogAgree: OTel Python records exception.type qualified on spans
// (app.parsing.OrderParseError) and bare in its log handler (OrderParseError); both
// give sentry-python's type and module, so they land in one issue.
func TestGroupingSpanAndLogAgree(t *testing.T) {
	py, err := exec.LookPath("python3")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "__init__.py"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "parsing.py"), []byte(
		"class OrderParseError(Exception):\n    pass\n\n\ndef parse(raw):\n    try:\n        return int(raw)\n    except ValueError as e:\n        raise OrderParseError('bad order ' + raw) from e\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte(
		"import traceback\nfrom app import parsing\n\ntry:\n    parsing.parse('x1')\nexcept Exception:\n    print(traceback.format_exc(), end='')\n"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "main.py")
	cmd.Dir = dir
	tb, err := cmd.Output()
	require.NoError(t, err)

	m := testMapper(t, nil)
	span := m.mapTraces(agentTraceWithStack(t, "python", "app.parsing.OrderParseError", "bad order x1", string(tb)))
	log := m.mapLogs(errorLogWithStack(t, "python", "OrderParseError", "bad order x1", string(tb)))
	require.Len(t, span.events, 1)
	require.Len(t, log.events, 1)
	a, b := harness.SentryValues(decoded(t, span.events[0]), "exception"), harness.SentryValues(decoded(t, log.events[0]), "exception")
	require.Len(t, a, 2)
	require.Len(t, b, 2)
	for i := range a {
		assert.Equal(t, groupingFields(t, a[i].(map[string]any)), groupingFields(t, b[i].(map[string]any)))
	}
	raised := a[1].(map[string]any)
	assert.Equal(t, "OrderParseError", raised["type"])
	assert.Equal(t, "app.parsing", raised["module"])
	// sentry-python's frames: the script is __main__, app/parsing.py is app.parsing.
	frames := raised["stacktrace"].(map[string]any)["frames"].([]any)
	require.Len(t, frames, 2)
	assert.Equal(t, "__main__", frames[0].(map[string]any)["module"])
	assert.Equal(t, "main.py", frames[0].(map[string]any)["filename"])
	assert.Equal(t, "app.parsing", frames[1].(map[string]any)["module"])
	assert.Equal(t, "app/parsing.py", frames[1].(map[string]any)["filename"])
	assert.Equal(t, "parse", frames[1].(map[string]any)["function"])
	cause := a[0].(map[string]any)
	assert.Equal(t, "ValueError", cause["type"])
	assert.Nil(t, cause["module"], "a builtin has no module in sentry-python")
	assert.Equal(t, "__cause__", cause["mechanism"].(map[string]any)["source"])
	// sentry-python (2.x, sentry_sdk/utils.py exceptions_from_error_tuple) numbers only an
	// ExceptionGroup's exceptions: a plain chain has no exception_id or parent_id. Sentry's
	// grouping (grouping/strategies/newstyle.py, filter_exceptions_for_exception_groups)
	// reorders a numbered chain from the raised exception down before hashing it, so a
	// numbered chain would hash apart from the SDK's event.
	for _, events := range [][]any{a, b} {
		for _, x := range events {
			mech := x.(map[string]any)["mechanism"].(map[string]any)
			assert.NotContains(t, mech, "exception_id")
			assert.NotContains(t, mech, "parent_id")
		}
	}
}

// TestGroupingMatchesSentryJava compiles and runs testdata/java/Orders.java on the JDK:
// it throws an exception with two causes, writes each exception of the chain as
// sentry-java's factories build it from the Throwable (see the program), and the
// printStackTrace text that OpenTelemetry records. Recorded as a span, the text must
// give every exception sentry-java's type, module and value, and every frame its
// module, function, file name and line, "... N more" frames included.
func TestGroupingMatchesSentryJava(t *testing.T) {
	javac, err := exec.LookPath("javac")
	require.NoError(t, err)
	java, err := exec.LookPath("java")
	require.NoError(t, err)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, javac, "-d", dir, filepath.Join("testdata", "java", "Orders.java")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.CommandContext(ctx, java, "-cp", dir, "com.acme.orders.Orders").Output()
	require.NoError(t, err)
	refPart, text, ok := strings.Cut(string(out), "--\n")
	require.True(t, ok)
	type refFrame struct {
		Module, Function, Filename string
		Lineno                     int
	}
	type refException struct {
		Type, Module, Value string
		Frames              []refFrame
	}
	var want []refException
	for _, line := range strings.Split(strings.TrimSpace(refPart), "\n") {
		var e refException
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		want = append(want, e)
	}
	require.Len(t, want, 3)

	res := testMapper(t, nil).mapTraces(agentTraceWithStack(t, "java", "java.lang.IllegalStateException", "could not process order", text))
	require.Len(t, res.events, 1)
	var got []refException
	for _, x := range harness.SentryValues(decoded(t, res.events[0]), "exception") {
		xm := x.(map[string]any)
		e := refException{Type: xm["type"].(string), Module: xm["module"].(string), Value: xm["value"].(string)}
		for _, f := range xm["stacktrace"].(map[string]any)["frames"].([]any) {
			fm := f.(map[string]any)
			lineno, _ := fm["lineno"].(float64)
			e.Frames = append(e.Frames, refFrame{Module: fm["module"].(string), Function: fm["function"].(string), Filename: fm["filename"].(string), Lineno: int(lineno)})
		}
		got = append(got, e)
	}
	assert.Equal(t, want, got)
}
