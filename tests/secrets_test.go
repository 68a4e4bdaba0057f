package tests

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/internal/logscrub"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// Distinctive secrets planted by TestSecretsNeverLeak. Each must reach the place it
// belongs (the test checks that too) and appear nowhere else.
const (
	secretDSNKey      = "5ec2e7d5a1c0ffee5ec2e7d5a1c0ffee" // Sentry DSN public key
	secretDBPassword  = "db-Pa55-wrong-9f8e7d6c"           // a rejected PostgreSQL password
	secretProbeToken  = "probe-tok-7c1d9e3b2a"             // an HTTP probe's Authorization header
	secretLLMKey      = "sk-proj-LLMKEY0123456789abcdef"   // the LLM provider's API key
	secretGeminiKey   = "AIzaSyLLMKEY-gemini-0123456789"   // an API key in a span's URL query
	secretSpanBearer  = "span-bearer-tok-55aa55aa"         // a bearer token in span attributes
	secretExcBearer   = "exc-bearer-tok-66bb66bb"          // a bearer token in an exception message
	secretRedirectTok = "redirect-tok-77cc77cc"            // an access token in a redirect URL
)

// TestSecretsNeverLeak plants secrets in every place a collector meets them: the Sentry
// DSN, a PostgreSQL password that the server rejects, the Authorization header of an
// HTTP probe whose server echoes it back in a 401, the LLM provider's API key (probe
// header, and a provider that quotes it in its error), an API key in a span's URL, a
// bearer token in span attributes, in an exception message and in a log body, and an
// access token in a redirect. At info and at debug log level, none of them appears in
// the collector's logs, /health, /ready (plain and verbose), /livez, /metrics, its own
// telemetry, or anything the Sentry test server received apart from the auth header (and
// the envelope's sampling context, whose public_key is the DSN's public key by protocol).
func TestSecretsNeverLeak(t *testing.T) {
	pg := harness.StartPostgreSQL(t)
	for _, level := range []string{"info", "debug"} {
		t.Run(level, func(t *testing.T) {
			testSecretsNeverLeak(t, pg, level)
		})
	}
}

func testSecretsNeverLeak(t *testing.T, pg *harness.PostgreSQL, level string) {
	srv := harness.NewSentryServer(t)
	srv.PublicKey = secretDSNKey
	// Sentry answers the first envelope 400 quoting the key back, as an error page might.
	srv.Respond(harness.SentryResponse{Status: 400, Error: "invalid request: sentry_key=" + secretDSNKey + " not allowed"})

	// The LLM provider echoes the key it got in its 401 body, as OpenAI's does.
	var llmSawKey, probeSawToken atomic.Bool
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		llmSawKey.Store(r.Header.Get("Authorization") == "Bearer "+secretLLMKey)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","code":"invalid_api_key"}}`, secretLLMKey)
	}))
	t.Cleanup(llm.Close)
	// An internal agent that echoes the request headers in its error and redirects with
	// a token in the query string.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	require.NoError(t, closed.Close())
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.Redirect(w, r, "http://"+closedAddr+"/callback?access_token="+secretRedirectTok, http.StatusFound)
			return
		}
		probeSawToken.Store(r.Header.Get("Authorization") == "Bearer "+secretProbeToken)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "forbidden for Authorization: %s", r.Header.Get("Authorization"))
	}))
	t.Cleanup(agent.Close)

	overlay := writeFile(t, "secrets.yaml", fmt.Sprintf(`
receivers:
  health_probe:
    collection_interval: 500ms
    timeout: 400ms
    initial_delay: 0s
    probes:
      - name: database
        type: postgresql
        critical: false
        host: 127.0.0.1
        port: %d
        database: postgres
        user: %s
        password: ${env:PG_PASSWORD}
        sslmode: disable
      - name: llm_provider
        type: http
        category: llm_provider
        critical: false
        endpoint: %s/v1/models
        headers:
          Authorization: Bearer ${env:OPENAI_API_KEY}
      - name: billing_agent
        type: http
        category: agent
        critical: false
        endpoint: %s/health?api_key=${env:PROBE_TOKEN}
        headers:
          Authorization: Bearer ${env:PROBE_TOKEN}
      - name: sso
        type: http
        critical: false
        endpoint: %s/login
`, pg.Port, pg.User, llm.URL, agent.URL, agent.URL))
	// Traces also go to a backend through the shipped overlay, whose tail sampling
	// evaluates OTTL conditions on every span: at debug level OTTL logs each span it
	// evaluates, attributes and all.
	_, backend := startTraceSink(t)
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), overlay, filepath.Join(harness.RepoRoot(), "config", "overlays", "traces-backend.yaml")},
		Env: map[string]string{
			"OTLP_TRACES_ENDPOINT": backend,
			"OTLP_TRACES_INSECURE": "true",
			"TRACES_DECISION_WAIT": "500ms",
			"LOG_LEVEL":            level,
			"SENTRY_DSN":           srv.DSN(),
			"PG_PASSWORD":          secretDBPassword,
			"OPENAI_API_KEY":       secretLLMKey,
			"PROBE_TOKEN":          secretProbeToken,
		},
	})

	// The app: an LLM call to Gemini with the key in the URL, a tool call with a bearer
	// token in its attributes that fails with the token in its exception message, and
	// an error log that quotes a token.
	tp := batchedTracerProvider(t, c, "procode-agent")
	tracer := tp.Tracer("procode.agents")
	ctx, root := tracer.Start(context.Background(), "POST /api/chat", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("http.request.method", "POST"), attribute.String("url.path", "/api/chat"),
		attribute.StringSlice("http.request.header.authorization", []string{"Bearer " + secretSpanBearer})))
	_, llmSpan := tracer.Start(ctx, "generate_content gemini-2.0-flash", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "generate_content"), attribute.String("gen_ai.provider.name", "gcp.gemini"),
		attribute.String("gen_ai.request.model", "gemini-2.0-flash"),
		attribute.Int("gen_ai.usage.input_tokens", 100), attribute.Int("gen_ai.usage.output_tokens", 10),
		attribute.String("url.full", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key="+secretGeminiKey),
		attribute.String("llm.api_key", secretLLMKey)))
	llmSpan.End()
	_, tool := tracer.Start(ctx, "execute_tool http_get", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "http_get"),
		attribute.String("gen_ai.tool.call.arguments", `{"headers":{"Authorization":"Bearer `+secretSpanBearer+`"}}`),
		attribute.String("tool.command", "curl -H 'Authorization: Bearer "+secretSpanBearer+"' https://api.internal/x")))
	tool.RecordError(errors.New("upstream 401: Authorization: Bearer " + secretExcBearer + " was rejected"))
	tool.SetStatus(codes.Error, "token "+secretExcBearer+" rejected")
	tool.End()
	root.End()
	require.NoError(t, tp.ForceFlush(context.Background()))
	lp := harness.LoggerProvider(t, c, "procode-agent")
	var rec otellog.Record
	rec.SetSeverity(otellog.SeverityError)
	rec.SetBody(attribute.StringValue("refresh failed for Authorization: Bearer " + secretExcBearer))
	rec.AddAttributes(attribute.String("exception.type", "AuthError"),
		attribute.String("exception.message", "token "+secretExcBearer+" expired"),
		attribute.String("db.connection_string", "postgresql://procode:"+secretDBPassword+"@db:5432/procode"))
	lp.Logger("procode.auth").Emit(context.Background(), rec)
	require.NoError(t, lp.ForceFlush(context.Background()))

	// Wait until every secret has been used where it belongs, and every path that
	// could leak it has run: the probes failed (auth, 401, 403, refused redirect), the
	// first Sentry envelope was rejected, the others delivered.
	harness.Eventually(t, 30*time.Second, func() string {
		_, h := getHealth(t, c)
		for name, errType := range map[string]string{"database": "auth", "llm_provider": "auth", "billing_agent": "auth", "sso": "connection_refused"} {
			if h.Checks[name]["error_type"] != errType {
				return fmt.Sprintf("%s: %v (want error_type %s)", name, h.Checks[name], errType)
			}
		}
		if len(srv.Attempts()) < 2 || len(srv.Events()) < 1 {
			return fmt.Sprintf("Sentry attempts %d, accepted %d", len(srv.Attempts()), len(srv.Events()))
		}
		return ""
	})
	time.Sleep(time.Second) // a few more probe rounds and log lines
	require.True(t, llmSawKey.Load(), "the LLM provider got the API key")
	require.True(t, probeSawToken.Load(), "the agent got the probe's token")
	for _, a := range srv.Attempts() {
		require.Equal(t, secretDSNKey, a.Auth["sentry_key"], "the DSN key is sent where it belongs: X-Sentry-Auth")
	}

	secrets := []string{secretDSNKey, secretDBPassword, secretProbeToken, secretLLMKey, secretGeminiKey, secretSpanBearer, secretExcBearer, secretRedirectTok}
	check := func(where, text string) {
		t.Helper()
		require.NotEmpty(t, text, where)
		for _, s := range secrets {
			assert.NotContains(t, text, s, "%s leaks a secret", where)
		}
	}
	for _, path := range []string{"/health", "/health?verbose", "/ready", "/ready?verbose", "/livez?verbose"} {
		_, body, err := c.Get(c.ReadinessURL(path))
		require.NoError(t, err)
		check(path, body)
	}
	for where, url := range map[string]string{"/metrics": c.MetricsURL(), "own telemetry": c.TelemetryURL()} {
		_, body, err := c.Get(url)
		require.NoError(t, err)
		check(where, body)
	}
	var received strings.Builder
	for _, a := range srv.Attempts() {
		header := maps.Clone(a.Header)
		if trace, ok := header["trace"].(map[string]any); ok {
			// The envelope's dynamic sampling context names the DSN's public key, as the
			// auth header does: Sentry's protocol requires it there.
			assert.Equal(t, secretDSNKey, trace["public_key"])
			trace = maps.Clone(trace)
			delete(trace, "public_key")
			header["trace"] = trace
		}
		fmt.Fprintf(&received, "%v\n", header)
		for _, it := range a.Items {
			fmt.Fprintf(&received, "%v\n%s\n", it.Header, it.Payload)
		}
	}
	check("what Sentry received", received.String())
	assert.Contains(t, received.String(), "[Filtered]", "the secrets were in the events and were scrubbed")
	c.Stop(30 * time.Second)
	logs := c.Logs()
	check("the collector's logs", logs)
	if level == "debug" {
		assert.Contains(t, logs, "\tdebug\t", "the collector ran at debug level")
		// OTTL (tail sampling's ottl_condition) dumps every span it evaluates at debug
		// level; the distribution's logger (internal/logscrub) writes this instead.
		assert.Contains(t, logs, logscrub.Omitted, "the spans' content was logged and omitted")
	}
	// The paths that could have leaked did run.
	assert.Contains(t, logs, "sentry rejected event", "Sentry's rejection (which quoted the key) was logged")
}
