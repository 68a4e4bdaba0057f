package sentryerrors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadatatest"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

type testExporter struct {
	traces exporter.Traces
	tel    *componenttest.Telemetry
	logs   *observer.ObservedLogs
}

// startTraces starts a traces exporter with cfg (after mutate) and stops it at the end.
func startTraces(t *testing.T, dsn string, mutate func(*Config)) *testExporter {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = configopaque.String(dsn)
	cfg.RetryConfig.InitialInterval = 20 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 100 * time.Millisecond
	cfg.RetryConfig.RandomizationFactor = 0
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := metadatatest.NewSettings(tel)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	exp, err := NewFactory().CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, exp.Shutdown(context.Background()))
		require.NoError(t, tel.Shutdown(context.Background()))
	})
	return &testExporter{traces: exp, tel: tel, logs: logs}
}

// counter returns the value of an own-telemetry counter for attribute key=value ("" for none).
func (te *testExporter) counter(t *testing.T, name, key, value string) int64 {
	t.Helper()
	m, err := te.tel.GetMetric("otelcol_exporter_sentry_errors_" + name)
	if err != nil {
		return 0
	}
	var sum int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if key == "" {
			sum += dp.Value
			continue
		}
		if v, ok := dp.Attributes.Value(attributeKey(key)); ok && v.AsString() == value {
			sum += dp.Value
		}
	}
	return sum
}

func eventually(t *testing.T, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf(msg, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func toolErrorTrace(t *testing.T) ptrace.Traces {
	return agentTrace(t, "python", "ToolExecutionError", "tool web_search failed", "python_tool_call.txt")
}

func TestDeliveryToSentry(t *testing.T) {
	srv := harness.NewSentryServer(t)
	te := startTraces(t, srv.DSN(), nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	evs := srv.WaitEvents(t, 1, 10*time.Second)
	require.Len(t, evs, 1)
	assert.Equal(t, "ToolExecutionError", harness.SentryValues(evs[0], "exception")[1].(map[string]any)["type"])
	a := srv.Attempts()[0]
	assert.Equal(t, srv.PublicKey, a.Auth["sentry_key"])
	assert.True(t, strings.HasPrefix(a.Auth["sentry_client"], "otelcol-procode/"), a.Auth["sentry_client"])
	require.Len(t, a.Items, 1, "one envelope per event")
	assert.Equal(t, "event", a.Items[0].Type)
	assert.Equal(t, "application/json", a.Items[0].Header["content_type"])
	assert.Equal(t, evs[0]["event_id"], a.Header["event_id"])
	// The dynamic sampling context ties the event to its trace.
	assert.Equal(t, map[string]any{"trace_id": traceID.String(), "public_key": srv.PublicKey, "release": "1.4.2", "environment": "production"},
		a.Header["trace"])
	assert.NotEmpty(t, a.Header["sent_at"])
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_sent", "", "") == 1 }, "events_sent != 1")
	assert.Empty(t, srv.Violations())
}

func TestNoErrorsNoRequest(t *testing.T) {
	srv := harness.NewSentryServer(t)
	te := startTraces(t, srv.DSN(), nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), agentTrace(t, "python", "", "", "")))
	time.Sleep(200 * time.Millisecond)
	assert.Empty(t, srv.Attempts())
	assert.Zero(t, te.counter(t, "events_sent", "", ""))
}

func TestServerErrorIsRetried(t *testing.T) {
	srv := harness.NewSentryServer(t)
	srv.Respond(harness.SentryResponse{Status: 500}, harness.SentryResponse{Status: 503})
	te := startTraces(t, srv.DSN(), nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	evs := srv.WaitEvents(t, 1, 10*time.Second)
	require.Len(t, evs, 1)
	attempts := srv.Attempts()
	require.Len(t, attempts, 3)
	assert.Equal(t, attempts[0].Header["event_id"], attempts[2].Header["event_id"], "the retry resends the same event_id")
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_sent", "", "") == 1 }, "events_sent != 1")
}

func TestRateLimitHoldsThenRetries(t *testing.T) {
	srv := harness.NewSentryServer(t)
	srv.Respond(harness.SentryResponse{Status: 429, RetryAfter: "1"})
	te := startTraces(t, srv.DSN(), nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	evs := srv.WaitEvents(t, 1, 10*time.Second)
	require.Len(t, evs, 1)
	attempts := srv.Attempts()
	require.Len(t, attempts, 2)
	gap := attempts[1].Received.Sub(attempts[0].Received)
	assert.GreaterOrEqual(t, gap, 950*time.Millisecond, "the retry waits for Retry-After, not the 20ms backoff")
	assert.Zero(t, te.counter(t, "events_dropped", "reason", "rate_limited"))
}

func TestRateLimitHeaderHoldsOtherEvents(t *testing.T) {
	srv := harness.NewSentryServer(t)
	// X-Sentry-Rate-Limits wins over Retry-After; the transaction quota does not apply.
	srv.Respond(harness.SentryResponse{Status: 429, RetryAfter: "30", RateLimits: "1:error;default:key, 600:transaction:organization"})
	te := startTraces(t, srv.DSN(), nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool { return len(srv.Attempts()) == 1 }, "no first attempt")
	// The server records the attempt before it answers: wait until the exporter has read
	// the 429 (and so set the hold), which the retry logs, before the second error.
	eventually(t, 5*time.Second, func() bool {
		return te.logs.FilterMessageSnippet("Will retry the request").Len() > 0
	}, "the 429 was not handled")
	// While the error category is held, a second error waits without a request.
	td2 := toolErrorTrace(t)
	td2.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4).SetSpanID([8]byte{9, 9, 9, 9, 9, 9, 9, 9})
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), td2))
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, srv.Attempts(), 1, "nothing is sent while Sentry holds the error category")
	evs := srv.WaitEvents(t, 2, 10*time.Second)
	assert.Len(t, evs, 2)
	assert.Len(t, srv.Attempts(), 3)
	assert.GreaterOrEqual(t, srv.Attempts()[1].Received.Sub(srv.Attempts()[0].Received), 900*time.Millisecond)
}

func TestRateLimitLongerThanRetryIsCountedDrop(t *testing.T) {
	srv := harness.NewSentryServer(t)
	srv.Respond(harness.SentryResponse{Status: 429, RateLimits: "3600::organization:quota_exceeded"})
	te := startTraces(t, srv.DSN(), func(c *Config) { c.RetryConfig.MaxElapsedTime = 2 * time.Second })
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_dropped", "reason", "rate_limited") == 1 },
		"rate_limited drop not counted")
	assert.Len(t, srv.Attempts(), 1)
	// exporterhelper logs the drop once the push returned, just after the count.
	eventually(t, 5*time.Second, func() bool {
		return te.logs.FilterMessageSnippet("Exporting failed").Len() > 0
	}, "the drop is not logged by exporterhelper")
}

// TestRateLimitHoldsOnlyItsProject: with dsn_by_service, one request holds the events of
// several projects; a project under a rate limit holds its own events, not the others'
// (before, the others waited for its limit, or were dropped with its events).
func TestRateLimitHoldsOnlyItsProject(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rateLimits string
		maxElapsed time.Duration
		dropped    int64
	}{
		{name: "held", rateLimits: "30:error:key"},
		{name: "dropped past retry", rateLimits: "3600:error:key", maxElapsed: 2 * time.Second, dropped: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limited := harness.NewSentryServer(t)
			limited.ProjectID = "42"
			limited.Respond(harness.SentryResponse{Status: 429, RateLimits: tc.rateLimits})
			other := harness.NewSentryServer(t)
			te := startTraces(t, other.DSN(), func(c *Config) {
				c.DSNByService = map[string]configopaque.String{"procode-agent": configopaque.String(limited.DSN())}
				if tc.maxElapsed > 0 {
					c.RetryConfig.MaxElapsedTime = tc.maxElapsed
				}
			})
			// One batch: the limited project's service first, then another service.
			td := toolErrorTrace(t)
			billing := td.ResourceSpans().AppendEmpty()
			td.ResourceSpans().At(0).CopyTo(billing)
			billing.Resource().Attributes().PutStr("service.name", "billing")
			require.NoError(t, te.traces.ConsumeTraces(context.Background(), td))
			start := time.Now()
			other.WaitEvents(t, 1, 5*time.Second)
			assert.Less(t, time.Since(start), 5*time.Second, "the other project's event does not wait for the limit")
			assert.Len(t, limited.Attempts(), 1)
			eventually(t, 5*time.Second, func() bool {
				return te.counter(t, "events_dropped", "reason", "rate_limited") == tc.dropped
			}, "rate_limited drops")
		})
	}
}

func TestClientErrorIsPermanent(t *testing.T) {
	srv := harness.NewSentryServer(t)
	srv.Respond(harness.SentryResponse{Status: 400, Error: "invalid event: bad timestamp"})
	te := startTraces(t, srv.DSN(), nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_dropped", "reason", "permanent_error") == 1 },
		"permanent_error drop not counted")
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, srv.Attempts(), 1, "a 4xx is not retried")
	var msg string
	for _, e := range te.logs.All() {
		for _, f := range e.Context {
			if f.Key == "error" {
				msg += f.String + fmtErr(f.Interface)
			}
		}
	}
	assert.Contains(t, msg, "400 Bad Request: invalid event: bad timestamp")
}

func fmtErr(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}

func TestNetworkErrorIsRetriedWithoutQueueLoss(t *testing.T) {
	// A DSN whose port refuses connections: every attempt fails, nothing is counted as
	// sent, and the drop after max_elapsed_time is logged by exporterhelper.
	srv := harness.NewSentryServer(t)
	dsn := srv.DSN()
	srv.Close()
	te := startTraces(t, dsn, func(c *Config) { c.RetryConfig.MaxElapsedTime = 300 * time.Millisecond })
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool {
		for _, e := range te.logs.All() {
			if strings.Contains(e.Message, "Exporting failed. Dropping data.") {
				return true
			}
		}
		return false
	}, "no drop logged after retries ran out")
	for _, e := range te.logs.All() {
		assert.NotContains(t, e.Message+fieldsOf(e), srv.PublicKey, "the DSN key must not reach the logs")
	}
	assert.Zero(t, te.counter(t, "events_sent", "", ""))
}

func fieldsOf(e observer.LoggedEntry) string {
	var b strings.Builder
	for k, v := range e.ContextMap() {
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " ")))
	}
	return b.String()
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	}
	return ""
}

func TestNoDSN(t *testing.T) {
	te := startTraces(t, "", nil)
	td := toolErrorTrace(t)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), td))
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), td))
	assert.Equal(t, int64(2), te.counter(t, "events_dropped", "reason", "no_dsn"))
	n := 0
	for _, e := range te.logs.All() {
		if strings.Contains(e.Message, "Sentry is off") {
			n++
		}
	}
	assert.Equal(t, 1, n, "said once at start")
}

func TestNoDSNSaidOnceForTracesAndLogs(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	core, logs := observer.New(zap.InfoLevel)
	set := metadatatest.NewSettings(componenttest.NewTelemetry())
	set.Logger = zap.New(core)
	f := NewFactory()
	tr, err := f.CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	lg, err := f.CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, tr.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, lg.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, tr.Shutdown(context.Background()))
	require.NoError(t, lg.Shutdown(context.Background()))
	assert.Equal(t, 1, logs.FilterMessageSnippet("Sentry is off").Len())
}

func TestDSNByService(t *testing.T) {
	other := harness.NewSentryServer(t)
	other.ProjectID = "42"
	main := harness.NewSentryServer(t)
	te := startTraces(t, main.DSN(), func(c *Config) {
		c.DSNByService = map[string]configopaque.String{"procode-agent": configopaque.String(other.DSN())}
	})
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	other.WaitEvents(t, 1, 10*time.Second)
	assert.Empty(t, main.Attempts())
}

func TestFiltering(t *testing.T) {
	srv := harness.NewSentryServer(t)
	t.Run("ignore_exceptions", func(t *testing.T) {
		te := startTraces(t, srv.DSN(), func(c *Config) { c.IgnoreExceptions = []string{"ToolExec*"} })
		require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
		assert.Equal(t, int64(1), te.counter(t, "events_dropped", "reason", "scrub.Filtered"))
	})
	t.Run("sample_rate", func(t *testing.T) {
		te := startTraces(t, srv.DSN(), func(c *Config) { c.SampleRate = 0 })
		require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
		assert.Equal(t, int64(1), te.counter(t, "events_dropped", "reason", "sampled"))
	})
	t.Run("fingerprint_limit", func(t *testing.T) {
		te := startTraces(t, srv.DSN(), func(c *Config) {
			c.FingerprintLimit = FingerprintLimitConfig{MaxEvents: 2, Window: time.Hour}
		})
		for i := 0; i < 5; i++ {
			td := toolErrorTrace(t)
			td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4).SetSpanID([8]byte{9, 9, 9, 9, 9, 9, 9, byte(i)})
			require.NoError(t, te.traces.ConsumeTraces(context.Background(), td))
		}
		assert.Equal(t, int64(3), te.counter(t, "events_dropped", "reason", "fingerprint_limit"))
		eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_sent", "", "") == 2 }, "want 2 sent")
	})
	assert.Empty(t, srv.Violations())
}

func TestSampleRateKeepsShare(t *testing.T) {
	n, kept := 4000, 0
	for i := 0; i < n; i++ {
		if sampled(eventID([]byte{byte(i), byte(i >> 8)}), 0.25) {
			kept++
		}
	}
	assert.InDelta(t, 0.25, float64(kept)/float64(n), 0.03)
}

func TestQueueFullIsReported(t *testing.T) {
	// A server that never answers within the test keeps the one consumer busy; the queue
	// of one request then refuses the third event, and ConsumeTraces says so.
	var hits atomic.Int32
	block := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		hits.Add(1)
		<-block
	}), ReadHeaderTimeout: time.Second}
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	defer func() { close(block); _ = srv.Close() }()
	te := startTraces(t, "http://key@"+ln.Addr().String()+"/42", func(c *Config) {
		q := c.QueueConfig.Get()
		q.QueueSize = 1
		q.NumConsumers = 1
		c.QueueConfig = configoptional.Some(*q)
		c.ClientConfig.Timeout = 2 * time.Second
		c.RetryConfig.Enabled = false
	})
	var errs []error
	for i := 0; i < 3; i++ {
		td := toolErrorTrace(t)
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4).SetSpanID([8]byte{7, 7, 7, 7, 7, 7, 7, byte(i)})
		errs = append(errs, te.traces.ConsumeTraces(context.Background(), td))
		if i == 0 {
			eventually(t, 5*time.Second, func() bool { return hits.Load() == 1 }, "the first event is not in flight")
		}
	}
	require.Error(t, errs[2])
	assert.Contains(t, errs[2].Error(), "sending queue is full")
}

// TestRedirectsStayOnTheDSNHost: the X-Sentry-Auth header (the DSN's key) and the event go
// along with every redirect Go follows, so a redirect to another host is not followed:
// the event is a counted permanent drop whose error says why. A redirect on the DSN's
// own host is followed.
func TestRedirectsStayOnTheDSNHost(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
	}))
	t.Cleanup(other.Close)
	var delivered atomic.Int32
	sentry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/1/envelope/": // project 1: moved to another host
			http.Redirect(w, r, other.URL+"/collect", http.StatusTemporaryRedirect)
		case "/api/2/envelope/": // project 2: moved on this host
			http.Redirect(w, r, "/api/2/envelope/v2/", http.StatusTemporaryRedirect)
		case "/api/2/envelope/v2/":
			if strings.Contains(r.Header.Get("X-Sentry-Auth"), "sentry_key=publickey123") {
				delivered.Add(1)
			}
		}
	}))
	t.Cleanup(sentry.Close)
	host := strings.TrimPrefix(sentry.URL, "http://")

	te := startTraces(t, "http://publickey123@"+host+"/1", nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_dropped", "reason", "permanent_error") == 1 },
		"the redirected event is not counted as a permanent drop")
	assert.Zero(t, elsewhere.Load(), "the other host got a request")
	// exporterhelper logs the drop once the push returned, just after the count.
	var msg string
	eventually(t, 5*time.Second, func() bool {
		msg = ""
		for _, e := range te.logs.All() {
			msg += e.Message + fieldsOf(e)
		}
		return strings.Contains(msg, "not followed")
	}, "the drop is not logged")
	assert.Contains(t, msg, "307 Temporary Redirect to http://127.0.0.1")
	assert.Contains(t, msg, "not followed")
	assert.NotContains(t, msg, "publickey123")

	te = startTraces(t, "http://publickey123@"+host+"/2", nil)
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_sent", "", "") == 1 },
		"the event redirected on the same host is not sent")
	assert.EqualValues(t, 1, delivered.Load())
}

// TestClientSettingsApply: the HTTP client is confighttp's, so its settings reach Sentry:
// a configured header arrives with each envelope, beside the X-Sentry-Auth header.
func TestClientSettingsApply(t *testing.T) {
	var tenant, auth atomic.Value
	sentry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant.Store(r.Header.Get("X-Tenant"))
		auth.Store(r.Header.Get("X-Sentry-Auth"))
	}))
	t.Cleanup(sentry.Close)
	te := startTraces(t, "http://publickey123@"+strings.TrimPrefix(sentry.URL, "http://")+"/7", func(c *Config) {
		c.ClientConfig.Headers = configopaque.MapList{{Name: "X-Tenant", Value: "acme"}}
	})
	require.NoError(t, te.traces.ConsumeTraces(context.Background(), toolErrorTrace(t)))
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_sent", "", "") == 1 }, "the event was not sent")
	assert.Equal(t, "acme", tenant.Load())
	assert.Contains(t, auth.Load(), "sentry_key=publickey123")
}
