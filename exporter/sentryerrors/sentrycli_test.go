package sentryerrors

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// nodeTool is a command of the npm test package tests/node/sentry (installed by make test
// with npm ci). Missing, the test fails under CI=true and is skipped elsewhere.
func nodeTool(t *testing.T, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "tests", "node", "sentry", "node_modules", ".bin", name))
	require.NoError(t, err)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: run make node-deps (npm ci in tests/node/sentry)", path)
		}
		t.Skipf("%s is missing: run make node-deps", path)
	}
	return path
}

// TestEnvelopesParseInSentryCLI hands every fixture's envelope to sentry-cli's
// send-envelope, which reads it with Sentry's Rust protocol types (a second parser
// besides Relay's), and sends what it parsed to the fake Sentry: each arrives, with its
// exception chain, so nothing was dropped or refused by the parse.
func TestEnvelopesParseInSentryCLI(t *testing.T) {
	cli := nodeTool(t, "sentry-cli")
	srv := harness.NewSentryServer(t)
	tgt, err := newTarget(srv.DSN(), "test/1")
	require.NoError(t, err)
	m := testMapper(t, nil)
	dir := t.TempDir()
	var want []string
	// Besides the fixtures, a .NET AggregateException: an exception group
	// (is_exception_group, parents that form a tree).
	aggregate, err := os.ReadFile(filepath.Join("testdata", "dotnet", "aggregate.txt"))
	require.NoError(t, err)
	events := m.mapTraces(agentTraceWithStack(t, "dotnet", "System.AggregateException", "", string(aggregate))).events
	for _, f := range fixtureStacks {
		events = append(events, m.mapTraces(agentTrace(t, f.lang, f.typ, "msg", f.stack)).events...)
		events = append(events, m.mapLogs(errorLog(t, f.lang, f.typ, "log msg", f.stack)).events...)
	}
	for _, me := range events {
		payload, _, err := sentryevent.Encode(me.event)
		require.NoError(t, err)
		e := encodedEvent{eventID: string(me.event.EventID), payload: payload, trace: traceOf(&me)}
		env, err := encodeEnvelope(e, tgt.publicKey, time.Now(), &m.sdk)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.eventID+".envelope"), env, 0o600))
		want = append(want, e.eventID)
	}
	for _, id := range want {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, cli, "send-envelope", "--log-level=info", filepath.Join(dir, id+".envelope"))
		cmd.Env = append(os.Environ(), "SENTRY_DSN="+srv.DSN(), "SENTRY_LOG_LEVEL=info")
		out, err := cmd.CombinedOutput()
		cancel()
		require.NoError(t, err, "sentry-cli send-envelope: %s", out)
		assert.NotContains(t, strings.ToLower(string(out)), "error", string(out))
	}
	evs := srv.WaitEvents(t, len(want), 30*time.Second)
	assert.Empty(t, srv.Violations())
	got := map[string]map[string]any{}
	for _, ev := range evs {
		got[ev["event_id"].(string)] = ev
	}
	for _, id := range want {
		require.Contains(t, got, id)
		assert.NotEmpty(t, harness.SentryValues(got[id], "exception"), "the exception survived sentry-cli's parse")
	}
}
