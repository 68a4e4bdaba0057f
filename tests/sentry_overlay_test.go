package tests

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestSentryOverlaySendsTracesAndLogs runs the default config with
// config/overlays/sentry.yaml and only SENTRY_DSN set, against a fake Sentry that takes
// both error envelopes and OTLP: the agent's failing trace reaches Sentry's OTLP traces
// path with the DSN's key in x-sentry-auth, the error event of its tool call names the
// same trace (contexts.trace and the envelope's trace header), so the trace
// link opens a trace that exists; a trace without an error, at 0% sampling, does not go;
// logs reach the OTLP logs path, a DEBUG record does not.
func TestSentryOverlaySendsTracesAndLogs(t *testing.T) {
	srv := harness.NewSentryServer(t)
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), harness.RepoRoot() + "/config/overlays/sentry.yaml"},
		Env: map[string]string{"SENTRY_DSN": srv.DSN(), "SENTRY_TRACES_DECISION_WAIT": "1s",
			"SENTRY_TRACES_SAMPLE_PERCENTAGE": "0"},
	})
	tp := batchedTracerProvider(t, c, "procode-agent")
	_, toolSC := agentRequest(t, tp)
	_, ok := tp.Tracer("e2e").Start(context.Background(), "healthy request")
	ok.End()
	okTrace := ok.SpanContext().TraceID()
	require.NoError(t, tp.ForceFlush(context.Background()))

	lp := harness.LoggerProvider(t, c, "procode-agent")
	logger := lp.Logger("procode.payments")
	for _, sev := range []otellog.Severity{otellog.SeverityDebug, otellog.SeverityInfo} {
		var rec otellog.Record
		rec.SetSeverity(sev)
		rec.SetBody(attribute.StringValue("charging order 1234"))
		logger.Emit(context.Background(), rec)
	}
	require.NoError(t, lp.ForceFlush(context.Background()))

	ev := srv.WaitEvents(t, 1, 30*time.Second)[0]
	deadline := time.Now().Add(30 * time.Second)
	var traces []string
	logs := 0
	for time.Now().Before(deadline) {
		traces, logs = nil, 0
		for _, o := range srv.OTLP() {
			traces = append(traces, o.TraceIDs...)
			logs += o.Logs
			assert.Equal(t, "sentry sentry_key="+srv.PublicKey, o.Auth)
		}
		if slices.Contains(traces, toolSC.TraceID().String()) && logs > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Empty(t, srv.Violations(), "paths, auth header and OTLP bodies as Sentry takes them")
	require.Contains(t, traces, toolSC.TraceID().String(), "the failing trace reached Sentry's OTLP traces endpoint:\n%s", c.Logs())
	assert.NotContains(t, traces, okTrace.String(), "a trace without an error is sampled at SENTRY_TRACES_SAMPLE_PERCENTAGE (0 here)")
	assert.Equal(t, 1, logs, "the INFO record; the DEBUG one is below SENTRY_LOGS_MIN_SEVERITY")
	paths := map[string]bool{}
	for _, o := range srv.OTLP() {
		paths[o.Path] = true
	}
	assert.Equal(t, map[string]bool{"/api/42/integration/otlp/v1/traces": true, "/api/42/integration/otlp/v1/logs": true}, paths)

	// The error event and the trace Sentry received share ids.
	tr := ev["contexts"].(map[string]any)["trace"].(map[string]any)
	assert.Equal(t, toolSC.TraceID().String(), tr["trace_id"])
	assert.Equal(t, toolSC.SpanID().String(), tr["span_id"])
	var header map[string]any
	for _, a := range srv.Attempts() {
		header = a.Header
	}
	assert.Equal(t, toolSC.TraceID().String(), header["trace"].(map[string]any)["trace_id"])
	assert.Equal(t, srv.PublicKey, header["trace"].(map[string]any)["public_key"])
	c.Stop(30 * time.Second)
}

// TestSentryOverlayNeedsTheDSN: without SENTRY_DSN the overlay's configuration is
// refused with a reason (rather than sending traces nowhere), and a bad DSN's key is
// not echoed.
func TestSentryOverlayNeedsTheDSN(t *testing.T) {
	bin := harness.Binary(t)
	for dsn, want := range map[string]string{
		"":                      "SENTRY_DSN is empty; the Sentry overlay needs the project's DSN",
		"ftp://SecretKey99@h/1": "SENTRY_DSN is not a valid Sentry DSN",
	} {
		cmd := exec.Command(bin, "validate", "--config="+harness.DefaultConfig(), "--config="+harness.RepoRoot()+"/config/overlays/sentry.yaml")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "SENTRY_DSN=" + dsn}
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "validate accepted the overlay with SENTRY_DSN=%q", dsn)
		assert.Contains(t, string(out), want)
		assert.NotContains(t, string(out), "SecretKey99")
	}
}
