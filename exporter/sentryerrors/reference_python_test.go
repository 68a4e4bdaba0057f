package sentryerrors

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// debianPython is the interpreter Debian's python3-sentry-sdk package installs for
// (scripts/test-deps.sh installs it); the python3 first on PATH may be another one.
const debianPython = "/usr/bin/python3"

// pythonReference runs the script with the real sentry-python SDK: it raises an
// exception with an explicit cause (raise ... from) inside an app package and a
// second one whose implicit context is a library's (json) error, and prints, for each,
// the traceback text OpenTelemetry records and the event the SDK would send.
const pythonReference = `
import json, sys, traceback
import sentry_sdk

events = []
sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=events.append,
                default_integrations=False)

from app import parsing

out = []
for raw in ("x1", "{bad json"):
    try:
        parsing.parse(raw)
    except Exception as e:
        tb = traceback.format_exc()
        sentry_sdk.capture_exception(e)
        out.append({"traceback": tb, "type": type(e).__module__ + "." + type(e).__name__,
                    "bare_type": type(e).__name__, "value": str(e), "event": events[-1]})
sentry_sdk.flush()
json.dump({"sdk": sentry_sdk.VERSION, "cases": out}, sys.stdout, default=str)
`

const pythonApp = `import json


class OrderParseError(Exception):
    pass


def _decode(raw):
    if raw.startswith("{"):
        return json.loads(raw)
    return int(raw)


def parse(raw):
    try:
        return _decode(raw)
    except ValueError as e:
        if raw.startswith("{"):
            raise OrderParseError("bad order body")
        raise OrderParseError("bad order " + raw) from e
`

// TestGroupingMatchesSentryPython runs the real sentry-python SDK (Debian's
// python3-sentry-sdk) on real CPython exceptions and holds the events this exporter
// makes of the same tracebacks, recorded on a span (qualified type, as OTel Python's
// tracer writes it) and in a log (bare type, as its logging handler writes it), to the
// SDK's grouping fields: per exception of the chain, in the SDK's order, its type and
// module, and per frame its module, filename and function.
//
// Debian's SDK is 1.9.10. in_app and the mechanism are left out of the comparison:
// sentry-python 2.x decides in_app from the project root (1.9 left app frames
// unmarked) and names a chained exception's source in its mechanism; both are held to
// 2.x's rules by TestGroupingSpanAndLogAgree. The fields compared here are computed
// the same way in 1.9 and 2.x (sentry_sdk/utils.py: filename_for_module,
// get_type_name/get_type_module, the walk of __cause__ and __context__).
func TestGroupingMatchesSentryPython(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil || exec.Command(debianPython, "-c", "import sentry_sdk").Run() != nil {
		if harness.InCI() {
			t.Fatal("sentry-python is not installed for " + debianPython + ": apt-get install python3-sentry-sdk (scripts/test-deps.sh)")
		}
		t.Skip("sentry-python is not installed for " + debianPython + " (apt-get install python3-sentry-sdk)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "__init__.py"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "parsing.py"), []byte(pythonApp), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.py"), []byte(pythonReference), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, "main.py")
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err)
	var ref struct {
		SDK   string `json:"sdk"`
		Cases []struct {
			Traceback string         `json:"traceback"`
			Type      string         `json:"type"`
			BareType  string         `json:"bare_type"`
			Value     string         `json:"value"`
			Event     map[string]any `json:"event"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(out, &ref))
	require.Len(t, ref.Cases, 2)
	t.Logf("sentry-python %s", ref.SDK)

	m := testMapper(t, nil)
	for _, c := range ref.Cases {
		sdk := pythonGrouping(harness.SentryValues(c.Event, "exception"))
		require.Len(t, sdk, 2, "the SDK sends the chain: cause or context, then the raised exception")

		span := m.mapTraces(agentTraceWithStack(t, "python", c.Type, c.Value, c.Traceback))
		log := m.mapLogs(errorLogWithStack(t, "python", c.BareType, c.Value, c.Traceback))
		require.Len(t, span.events, 1)
		require.Len(t, log.events, 1)
		assert.Equal(t, sdk, pythonGrouping(harness.SentryValues(decoded(t, span.events[0]), "exception")), "span, %s", c.Value)
		assert.Equal(t, sdk, pythonGrouping(harness.SentryValues(decoded(t, log.events[0]), "exception")), "log, %s", c.Value)
	}
}

// pythonGrouping keeps what TestGroupingMatchesSentryPython compares of each exception.
func pythonGrouping(values []any) []map[string]any {
	var out []map[string]any
	for _, v := range values {
		exc := v.(map[string]any)
		g := map[string]any{"type": exc["type"], "module": exc["module"]}
		var frames []map[string]any
		if st, ok := exc["stacktrace"].(map[string]any); ok {
			for _, f := range st["frames"].([]any) {
				fm := f.(map[string]any)
				frames = append(frames, map[string]any{"module": fm["module"], "filename": fm["filename"], "function": fm["function"]})
			}
		}
		g["frames"] = frames
		out = append(out, g)
	}
	return out
}
