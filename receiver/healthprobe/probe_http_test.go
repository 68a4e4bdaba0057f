package healthprobe

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

func statusServer(t *testing.T, code int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPExpectedStatus(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		expected []any
		ok       bool
		errType  metadata.AttributeErrorType
	}{
		{"default_accepts_2xx", http.StatusNoContent, nil, true, 0},
		{"default_accepts_3xx", http.StatusNotModified, nil, true, 0},
		{"default_rejects_5xx", http.StatusServiceUnavailable, nil, false, metadata.AttributeErrorTypeUnexpectedStatus},
		{"default_rejects_404", http.StatusNotFound, nil, false, metadata.AttributeErrorTypeUnexpectedStatus},
		{"401_is_auth", http.StatusUnauthorized, nil, false, metadata.AttributeErrorTypeAuth},
		{"403_is_auth", http.StatusForbidden, nil, false, metadata.AttributeErrorTypeAuth},
		{"listed_code", http.StatusServiceUnavailable, []any{200, 503}, true, 0},
		{"range", http.StatusAccepted, []any{"200-202"}, true, 0},
		{"outside_range", http.StatusNoContent, []any{"200-202"}, false, metadata.AttributeErrorTypeUnexpectedStatus},
		{"class", http.StatusTeapot, []any{"4xx"}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := statusServer(t, tt.code, "")
			p := httpProbe("api", srv.URL)
			p.ExpectedStatus = tt.expected
			res := newTestRunner(t, p).execute(t.Context())
			require.True(t, res.done)
			assert.Equal(t, tt.ok, res.outcome.ok, res.message)
			assert.Equal(t, tt.code, res.outcome.http.statusCode)
			if tt.ok {
				assert.Equal(t, health.StatusHealthy, res.status)
				assert.Contains(t, res.message, fmt.Sprintf("HTTP %d in", tt.code))
			} else {
				assert.Equal(t, health.StatusUnhealthy, res.status)
				assert.Equal(t, tt.errType, res.outcome.errorType)
				assert.Contains(t, res.message, fmt.Sprintf("unexpected status %d", tt.code))
			}
		})
	}
}

func TestHTTPBodyChecks(t *testing.T) {
	const body = `{"object":"list","data":[{"id":"gpt-4o","created":1715367049}],"ready":true}`
	srv := statusServer(t, http.StatusOK, body)
	tests := []struct {
		name  string
		check BodyCheckConfig
		ok    bool
	}{
		{"contains_pass", BodyCheckConfig{Name: "has_data", Contains: `"data"`}, true},
		{"contains_fail", BodyCheckConfig{Name: "has_error", Contains: `"error"`}, false},
		{"regex_pass", BodyCheckConfig{Name: "model_id", Regex: `"id":"gpt-[0-9a-z]+"`}, true},
		{"regex_fail", BodyCheckConfig{Name: "claude_id", Regex: `"id":"claude-`}, false},
		{"json_string_pass", BodyCheckConfig{Name: "is_list", JSONPath: "$.object", Equals: "list"}, true},
		{"json_string_fail", BodyCheckConfig{Name: "is_model", JSONPath: "$.object", Equals: "model"}, false},
		{"json_index_pass", BodyCheckConfig{Name: "first_model", JSONPath: "$.data[0].id", Equals: "gpt-4o"}, true},
		{"json_number_pass", BodyCheckConfig{Name: "created", JSONPath: "data[0].created", Equals: 1715367049}, true},
		{"json_number_fail", BodyCheckConfig{Name: "created_wrong", JSONPath: "$.data[0].created", Equals: 1}, false},
		{"json_bool_pass", BodyCheckConfig{Name: "ready", JSONPath: `$["ready"]`, Equals: true}, true},
		{"json_missing_path", BodyCheckConfig{Name: "missing", JSONPath: "$.data[3].id", Equals: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := httpProbe("llm", srv.URL)
			p.BodyChecks = []BodyCheckConfig{tt.check}
			res := newTestRunner(t, p).execute(t.Context())
			require.True(t, res.done)
			assert.Equal(t, tt.ok, res.outcome.ok, res.message)
			require.Len(t, res.outcome.http.checks, 1)
			assert.Equal(t, bodyCheckResult{name: tt.check.Name, passed: tt.ok}, res.outcome.http.checks[0])
			if !tt.ok {
				assert.Equal(t, metadata.AttributeErrorTypeBodyMismatch, res.outcome.errorType)
				assert.Contains(t, res.message, fmt.Sprintf("body check %q failed", tt.check.Name))
				assert.Equal(t, tt.check.Name, res.outcome.details["failed_body_check"])
				assert.NotContains(t, res.message, "gpt-4o", "a message never quotes the body")
			}
		})
	}
}

// TestHTTPBodyCheckOnCutBody: a body longer than max_body_bytes is checked on its start,
// and a failed check says so, so that "text not found" is not taken for a wrong body.
func TestHTTPBodyCheckOnCutBody(t *testing.T) {
	srv := statusServer(t, http.StatusOK, strings.Repeat("x", 100)+`"ready":true`)
	p := httpProbe("long", srv.URL)
	p.MaxBodyBytes = 100
	p.BodyChecks = []BodyCheckConfig{{Name: "ready", Contains: `"ready":true`}}
	res := newTestRunner(t, p).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, `HTTP 200, body check "ready" failed: text not found in the body's first 100 bytes (max_body_bytes)`, res.message)

	p.MaxBodyBytes = 112 // exactly the body
	res = newTestRunner(t, p).execute(t.Context())
	assert.True(t, res.outcome.ok, res.message)
}

func TestHTTPBodyChecksEachKeepTheirIdentity(t *testing.T) {
	srv := statusServer(t, http.StatusOK, `{"status":"ok"}`)
	p := httpProbe("agent", srv.URL)
	p.BodyChecks = []BodyCheckConfig{
		{Name: "status_ok", JSONPath: "$.status", Equals: "ok"},
		{Name: "has_version", Contains: "version"},
		{Name: "any_text", Regex: "."},
	}
	res := newTestRunner(t, p).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, []bodyCheckResult{{"status_ok", true}, {"has_version", false}, {"any_text", true}}, res.outcome.http.checks)
	assert.Contains(t, res.message, `body check "has_version" failed: text not found`)
}

func TestHTTPNotJSONBody(t *testing.T) {
	srv := statusServer(t, http.StatusOK, `<html>ok</html>`)
	p := httpProbe("agent", srv.URL)
	p.BodyChecks = []BodyCheckConfig{{Name: "status_ok", JSONPath: "$.status", Equals: "ok"}}
	res := newTestRunner(t, p).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Contains(t, res.message, "body is not JSON")
}

func slowServer(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPTimeout(t *testing.T) {
	srv := slowServer(t, 2*time.Second)
	p := httpProbe("slow", srv.URL)
	p.Timeout = 150 * time.Millisecond
	r := newTestRunner(t, p)
	res := r.execute(t.Context())
	require.True(t, res.done)
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeTimeout, res.outcome.errorType)
	assert.Equal(t, "timed out after 150ms", res.message)
	assert.Equal(t, health.StatusUnhealthy, res.status)
	assert.Less(t, res.duration, time.Second, "the run ends at its timeout")
	assert.Equal(t, int64(1), r.errors[metadata.AttributeErrorTypeTimeout])
	// The connection was made before the server stalled.
	assert.True(t, res.outcome.http.seen[phaseConnect])
	assert.False(t, res.outcome.http.seen[phaseTTFB])
}

func TestHTTPDegradedLatency(t *testing.T) {
	srv := slowServer(t, 120*time.Millisecond)
	p := httpProbe("slow", srv.URL)
	p.DegradedLatency = 50 * time.Millisecond
	res := newTestRunner(t, p).execute(t.Context())
	assert.True(t, res.outcome.ok)
	assert.Equal(t, health.StatusDegraded, res.status)
	assert.Contains(t, res.message, "slower than degraded_latency 50ms")

	fast := statusServer(t, http.StatusOK, "")
	p = httpProbe("fast", fast.URL)
	p.DegradedLatency = 2 * time.Second
	res = newTestRunner(t, p).execute(t.Context())
	assert.Equal(t, health.StatusHealthy, res.status)
}

func TestHTTPPhases(t *testing.T) {
	srv := slowServer(t, 30*time.Millisecond)
	res := newTestRunner(t, httpProbe("api", srv.URL)).execute(t.Context())
	require.True(t, res.outcome.ok)
	h := res.outcome.http
	// An IP literal needs no DNS lookup.
	assert.False(t, h.seen[phaseDNS])
	assert.False(t, h.seen[phaseTLS])
	for _, ph := range []int{phaseConnect, phaseTTFB, phaseTotal} {
		assert.True(t, h.seen[ph], "phase %d", ph)
		assert.Positive(t, h.phases[ph])
	}
	assert.GreaterOrEqual(t, h.phases[phaseTTFB], 30*time.Millisecond)
	assert.GreaterOrEqual(t, h.phases[phaseTotal], h.phases[phaseTTFB])
	assert.Less(t, h.phases[phaseConnect], h.phases[phaseTTFB])
}

func TestHTTPTLSCertificateExpiringSoon(t *testing.T) {
	expires := time.Now().Add(36 * time.Hour).Truncate(time.Second)
	cert, certPEM := selfSignedCert(t, expires)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case fails the handshake on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)

	p := httpProbe("secure", srv.URL)
	p.ClientConfig.TLS.CAPem = configopaque.String(certPEM)
	res := newTestRunner(t, p).execute(t.Context())
	require.True(t, res.outcome.ok, res.message)
	h := res.outcome.http
	require.True(t, h.hasCert)
	assert.InDelta(t, time.Until(expires).Seconds(), h.certRemaining.Seconds(), 5)
	assert.True(t, h.seen[phaseTLS])
	assert.Positive(t, h.phases[phaseTLS])
	assert.InDelta(t, 1.5, res.outcome.details["tls_cert_remaining_days"], 0.01)

	// Without the CA the handshake fails, and says so in its error type.
	untrusted := httpProbe("untrusted", srv.URL)
	res = newTestRunner(t, untrusted).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeTLS, res.outcome.errorType, res.message)
}

func TestHTTPRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusFound)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprint(w, "moved here")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	followed := httpProbe("follow", srv.URL+"/old")
	followed.BodyChecks = []BodyCheckConfig{{Name: "landed", Contains: "moved here"}}
	res := newTestRunner(t, followed).execute(t.Context())
	assert.True(t, res.outcome.ok, res.message)
	assert.Equal(t, http.StatusOK, res.outcome.http.statusCode)

	notFollowed := httpProbe("no_follow", srv.URL+"/old")
	notFollowed.FollowRedirects = false
	res = newTestRunner(t, notFollowed).execute(t.Context())
	assert.True(t, res.outcome.ok, "302 is within the default 200-399")
	assert.Equal(t, http.StatusFound, res.outcome.http.statusCode)

	strict := httpProbe("strict", srv.URL+"/old")
	strict.FollowRedirects = false
	strict.ExpectedStatus = []any{200}
	res = newTestRunner(t, strict).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeUnexpectedStatus, res.outcome.errorType)
	assert.Equal(t, "unexpected status 302 (expected 200)", res.message)
}

// TestHTTPRedirectKeepsHeadersOnHost: configured headers (an API key) are set on every
// request the client makes, redirects included, so with headers a redirect to another
// host fails the probe instead of being followed; one on the same host is followed.
func TestHTTPRedirectKeepsHeadersOnHost(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/here", http.StatusFound) })
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "sk-live-secret" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	away := httpProbe("away", srv.URL+"/away")
	away.ClientConfig.Headers.Set("X-Api-Key", "sk-live-secret")
	res := newTestRunner(t, away).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Contains(t, res.message, "redirect to "+other.URL+" not followed")
	assert.NotContains(t, res.message, "sk-live-secret")
	assert.Zero(t, elsewhere.Load(), "the other host got the request")

	moved := httpProbe("moved", srv.URL+"/moved")
	moved.ClientConfig.Headers.Set("X-Api-Key", "sk-live-secret")
	res = newTestRunner(t, moved).execute(t.Context())
	assert.True(t, res.outcome.ok, res.message)

	plain := httpProbe("plain", srv.URL+"/away") // no headers: followed, as Go does
	res = newTestRunner(t, plain).execute(t.Context())
	assert.True(t, res.outcome.ok, res.message)
	assert.EqualValues(t, 1, elsewhere.Load())
}

func TestHTTPHeadersMethodAndBody(t *testing.T) {
	type seen struct{ method, auth, body string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		got <- seen{r.Method, r.Header.Get("Authorization"), string(b[:n])}
		if r.Header.Get("Authorization") != "Bearer sk-test-123456" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	p := httpProbe("llm", srv.URL+"/v1/models?api_key=query-secret")
	p.Method = http.MethodPost
	p.Body = `{"ping":true}`
	p.ClientConfig.Headers.Set("Authorization", "Bearer sk-test-123456")
	res := newTestRunner(t, p).execute(t.Context())
	assert.True(t, res.outcome.ok, res.message)
	assert.Equal(t, seen{http.MethodPost, "Bearer sk-test-123456", `{"ping":true}`}, <-got)

	p.ClientConfig.Headers.Set("Authorization", "Bearer wrong-key-000000")
	res = newTestRunner(t, p).execute(t.Context())
	<-got
	assert.Equal(t, metadata.AttributeErrorTypeAuth, res.outcome.errorType)
	assert.NotContains(t, res.message, "wrong-key")
	assert.NotContains(t, res.message, "query-secret")
}

func TestHTTPConnectionRefused(t *testing.T) {
	p := httpProbe("gone", "http://"+harness.FreeAddr(t)+"/health?token=secret-value")
	res := newTestRunner(t, p).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeConnectionRefused, res.outcome.errorType)
	assert.Contains(t, res.message, "connection refused")
	assert.NotContains(t, res.message, "secret-value")
	assert.NotContains(t, res.message, "/health")
}

func TestTCPProbe(t *testing.T) {
	srv := statusServer(t, http.StatusOK, "")
	open := defaultProbeConfig()
	open.Name, open.Type = "agent_port", typeTCP
	open.ClientConfig.Endpoint = srv.Listener.Addr().String()
	res := newTestRunner(t, open).execute(t.Context())
	assert.True(t, res.outcome.ok, res.message)
	assert.Contains(t, res.message, "connected in")
	assert.Equal(t, health.StatusHealthy, res.status)

	closed := open
	closed.ClientConfig.Endpoint = harness.FreeAddr(t)
	r := newTestRunner(t, closed)
	res = r.execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeConnectionRefused, res.outcome.errorType)
	assert.Equal(t, health.StatusUnhealthy, res.status)
	assert.Equal(t, int64(1), r.errors[metadata.AttributeErrorTypeConnectionRefused])
}
