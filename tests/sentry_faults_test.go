package tests

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// Fault tests of the sentry_errors exporter through the built binary. Every error
// the app reports carries a unique exception value (its key); the Sentry test server
// records every envelope it received and how it answered, so each test can say
// exactly what arrived, how often, and under which event_id.

// sentryDSN is the DSN of srv reached through addr (a gate in front of it).
func sentryDSN(srv *harness.SentryServer, addr string) string {
	return fmt.Sprintf("http://%s@%s/%s", srv.PublicKey, addr, srv.ProjectID)
}

// fastSentryRetry keeps the exporter's retry short so that tests do not wait out the
// default 5s-30s backoff; max_elapsed_time stays the default 5m.
const fastSentryRetry = `
exporters:
  sentry_errors:
    retry_on_failure:
      initial_interval: 200ms
      max_interval: 1s
`

// sendErrors reports spans error spans (each with one recorded exception, all in one
// OTLP request) and logs error log records (one request each) and returns their keys.
func sendErrors(t *testing.T, c *harness.Collector, prefix string, spans, logs int) []string {
	t.Helper()
	var keys []string
	if spans > 0 {
		tp := batchedTracerProvider(t, c, "procode-agent")
		tracer := tp.Tracer("procode.agents")
		for i := 0; i < spans; i++ {
			key := fmt.Sprintf("%s span failure #%d", prefix, i)
			_, span := tracer.Start(context.Background(), "execute_tool search", trace.WithAttributes(
				attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "search")))
			span.RecordError(errors.New(key))
			span.SetStatus(codes.Error, "tool failed")
			span.End()
			keys = append(keys, key)
		}
		require.NoError(t, tp.ForceFlush(context.Background()))
	}
	if logs > 0 {
		lp := harness.LoggerProvider(t, c, "procode-agent")
		logger := lp.Logger("procode.payments")
		for i := 0; i < logs; i++ {
			key := fmt.Sprintf("%s log failure #%d", prefix, i)
			var rec otellog.Record
			rec.SetSeverity(otellog.SeverityError)
			rec.SetBody(attribute.StringValue("payment failed"))
			rec.AddAttributes(attribute.String("exception.type", "PaymentError"), attribute.String("exception.message", key))
			logger.Emit(context.Background(), rec)
			keys = append(keys, key)
		}
		require.NoError(t, lp.ForceFlush(context.Background()))
	}
	return keys
}

// eventKey is the value of an event's last (outermost) exception.
func eventKey(ev map[string]any) string {
	exc := harness.SentryValues(ev, "exception")
	if len(exc) == 0 {
		return ""
	}
	v, _ := exc[len(exc)-1].(map[string]any)["value"].(string)
	return v
}

// sentryTally is what the Sentry test server saw, by event key.
type sentryTally struct {
	attempts map[string]int    // envelopes received
	accepted map[string]int    // envelopes answered 2xx
	eventIDs map[string]string // event_id of each key (the same in every attempt)
	answers  map[string][]int  // status codes, in order
	first    map[string]time.Time
	times    map[string][]time.Time
	mixedIDs []string // keys that arrived under more than one event_id
}

func tallySentry(attempts ...[]harness.SentryAttempt) sentryTally {
	s := sentryTally{attempts: map[string]int{}, accepted: map[string]int{}, eventIDs: map[string]string{},
		answers: map[string][]int{}, first: map[string]time.Time{}, times: map[string][]time.Time{}}
	for _, list := range attempts {
		for _, a := range list {
			for _, it := range a.Items {
				if it.Event == nil {
					continue
				}
				key := eventKey(it.Event)
				id, _ := it.Event["event_id"].(string)
				if prev, ok := s.eventIDs[key]; ok && prev != id {
					s.mixedIDs = append(s.mixedIDs, key)
				}
				s.eventIDs[key] = id
				s.attempts[key]++
				s.answers[key] = append(s.answers[key], a.Status)
				s.times[key] = append(s.times[key], a.Received)
				if _, ok := s.first[key]; !ok {
					s.first[key] = a.Received
				}
				if a.Status >= 200 && a.Status < 300 {
					s.accepted[key]++
				}
			}
		}
	}
	return s
}

// assertExactlyOnce checks that every key was accepted exactly once, that nothing else
// was, and that no key arrived under two event_ids.
func (s sentryTally) assertExactlyOnce(t *testing.T, keys []string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		assert.Equal(t, 1, s.accepted[k], "%q accepted %d times (answers %v)", k, s.accepted[k], s.answers[k])
	}
	for k, n := range s.accepted {
		assert.True(t, want[k], "unexpected event %q accepted %d times", k, n)
	}
	assert.Empty(t, s.mixedIDs, "a key must keep its event_id across retries and restarts")
	ids := map[string]bool{}
	for k := range want {
		ids[s.eventIDs[k]] = true
	}
	assert.Len(t, ids, len(want), "distinct event_ids")
}

// ownTelemetry returns the sum of a series of the collector's own metrics (0 when absent).
func ownTelemetry(t *testing.T, c *harness.Collector, name string, labels map[string]string) float64 {
	t.Helper()
	own := harness.MustScrape(t, c.TelemetryURL())
	v, _ := own.Sum(name, labels)
	return v
}

var sentryExporter = map[string]string{"exporter": "sentry_errors"}

// waitAccepted waits until every key was accepted at least once.
func waitAccepted(t *testing.T, timeout time.Duration, keys []string, attempts func() []harness.SentryAttempt) {
	t.Helper()
	harness.Eventually(t, timeout, func() string {
		s := tallySentry(attempts())
		var missing []string
		for _, k := range keys {
			if s.accepted[k] == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return fmt.Sprintf("%d of %d events not delivered yet, e.g. %q", len(missing), len(keys), missing[0])
		}
		return ""
	})
}

// TestSentryDownFor30s: Sentry's address refuses connections for 30 seconds while the
// app keeps reporting errors (at the start and in the middle of the outage); once it is
// back, every error event is delivered exactly once and nothing is counted as dropped.
func TestSentryDownFor30s(t *testing.T) {
	srv := harness.NewSentryServer(t)
	gate := harness.NewGate(t, srv.Addr())
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), "yaml:" + fastSentryRetry},
		Env:     map[string]string{"SENTRY_DSN": sentryDSN(srv, gate.Addr())},
	})
	gate.Down()
	outage := time.Now()

	keys := sendErrors(t, c, "early", 15, 5)
	harness.Eventually(t, 20*time.Second, func() string {
		if v := ownTelemetry(t, c, "otelcol_exporter_queue_size", sentryExporter); v < 1 {
			return fmt.Sprintf("sending queue size %v: the exporter has not taken the events yet", v)
		}
		return ""
	})
	time.Sleep(15*time.Second - time.Since(outage))
	keys = append(keys, sendErrors(t, c, "mid-outage", 10, 5)...)
	time.Sleep(30*time.Second - time.Since(outage))
	require.Empty(t, srv.Attempts(), "nothing reached Sentry while it was down")
	gate.Up()
	t.Logf("Sentry was down for %s; %d error events reported meanwhile", time.Since(outage).Round(time.Second), len(keys))

	waitAccepted(t, 30*time.Second, keys, srv.Attempts)
	time.Sleep(2 * time.Second) // a duplicate would arrive within the retry interval
	tally := tallySentry(srv.Attempts())
	tally.assertExactlyOnce(t, keys)
	assert.Empty(t, srv.Violations())

	assert.Equal(t, float64(len(keys)), ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_sent", sentryExporter))
	assert.Equal(t, 0.0, ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_dropped", sentryExporter), "no event counted as dropped")
	assert.Equal(t, 0.0, ownTelemetry(t, c, "otelcol_exporter_send_failed_spans", sentryExporter), "exporterhelper gave up on nothing")
	assert.Equal(t, 0.0, ownTelemetry(t, c, "otelcol_exporter_send_failed_log_records", sentryExporter))
	c.Stop(30 * time.Second)
}

// TestSentryRateLimitHeadersAreHonoured: a 429 with X-Sentry-Rate-Limits holds error
// events for the time it names (events reported meanwhile wait without a request), a
// 429 with only Retry-After for that time; afterwards every event arrives once.
func TestSentryRateLimitHeadersAreHonoured(t *testing.T) {
	srv := harness.NewSentryServer(t)
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), "yaml:" + fastSentryRetry},
		Env:     map[string]string{"SENTRY_DSN": srv.DSN()},
	})

	// The error category is limited for 3s; the transaction quota does not apply to
	// error events; Retry-After loses to X-Sentry-Rate-Limits.
	srv.Respond(harness.SentryResponse{Status: 429, RetryAfter: "60", RateLimits: "3:error;default:key, 600:transaction:organization"})
	first := sendErrors(t, c, "throttled", 1, 0)
	harness.Eventually(t, 20*time.Second, func() string {
		if n := len(srv.Attempts()); n != 1 {
			return fmt.Sprintf("%d attempts", n)
		}
		return ""
	})
	limited := srv.Attempts()[0].Received
	// The server records an attempt before answering it: wait until the collector has
	// read the 429 (its retry says so) so that the next errors are reported under the limit.
	c.WaitLog("Will retry the request", 10*time.Second)
	// Reported while the limit holds: these must wait too.
	more := sendErrors(t, c, "during limit", 6, 3)
	keys := append(first, more...)
	waitAccepted(t, 30*time.Second, keys, srv.Attempts)

	tally := tallySentry(srv.Attempts())
	tally.assertExactlyOnce(t, keys)
	for _, a := range srv.Attempts()[1:] {
		gap := a.Received.Sub(limited)
		assert.GreaterOrEqual(t, gap, 3*time.Second, "an envelope arrived %s after the 429 that limited errors for 3s", gap)
		assert.Less(t, gap, 20*time.Second, "held far longer than the 3s asked for (Retry-After 60 must lose to X-Sentry-Rate-Limits)")
	}
	assert.Equal(t, []int{429, 200}, tally.answers[first[0]])

	// Retry-After alone, as an HTTP proxy in front of Sentry might send it.
	srv.Respond(harness.SentryResponse{Status: 429, RetryAfter: "2"})
	second := sendErrors(t, c, "retry-after", 1, 0)
	waitAccepted(t, 30*time.Second, second, srv.Attempts)
	tally = tallySentry(srv.Attempts())
	require.Equal(t, []int{429, 200}, tally.answers[second[0]])
	gap := tally.times[second[0]][1].Sub(tally.times[second[0]][0])
	assert.GreaterOrEqual(t, gap, 2*time.Second, "Retry-After: 2 honoured")
	t.Logf("held %s after X-Sentry-Rate-Limits 3s; %s after Retry-After 2", srv.Attempts()[1].Received.Sub(limited).Round(10*time.Millisecond), gap.Round(10*time.Millisecond))

	assert.Equal(t, float64(len(keys)+1), ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_sent", sentryExporter))
	assert.Equal(t, 0.0, ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_dropped", sentryExporter), "nothing dropped")
	c.Stop(30 * time.Second)
}

// TestSentryRejectionIsAPermanentCountedDrop: Sentry answers the first envelope of a
// batch 400 with its X-Sentry-Error reason. That event is not retried, is counted as
// dropped (reason permanent_error) and logged with Sentry's reason; the other events of
// the same batch are delivered once each.
func TestSentryRejectionIsAPermanentCountedDrop(t *testing.T) {
	srv := harness.NewSentryServer(t)
	srv.Respond(harness.SentryResponse{Status: 400, Error: "invalid event: exception value too long"})
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), "yaml:" + fastSentryRetry},
		Env:     map[string]string{"SENTRY_DSN": srv.DSN()},
	})
	keys := sendErrors(t, c, "batch", 8, 2)
	harness.Eventually(t, 30*time.Second, func() string {
		s := tallySentry(srv.Attempts())
		if got := len(s.accepted); got < len(keys)-1 {
			return fmt.Sprintf("%d of %d accepted", got, len(keys)-1)
		}
		if v := ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_dropped", map[string]string{"exporter": "sentry_errors", "reason": "permanent_error"}); v != 1 {
			return fmt.Sprintf("permanent_error drops %v", v)
		}
		return ""
	})
	time.Sleep(2 * time.Second) // a retry of the rejected event would come within 1s
	s := tallySentry(srv.Attempts())
	var rejected []string
	for _, k := range keys {
		if len(s.answers[k]) > 0 && s.answers[k][0] == 400 {
			rejected = append(rejected, k)
		}
	}
	require.Len(t, rejected, 1, "exactly one envelope was answered 400: %v", s.answers)
	assert.Equal(t, 1, s.attempts[rejected[0]], "a rejected event is not retried")
	assert.Equal(t, 0, s.accepted[rejected[0]])
	var others []string
	for _, k := range keys {
		if k != rejected[0] {
			others = append(others, k)
		}
	}
	delete(s.accepted, rejected[0])
	s.assertExactlyOnce(t, others)

	assert.Equal(t, float64(len(others)), ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_sent", sentryExporter))
	assert.Equal(t, 1.0, ownTelemetry(t, c, "otelcol_exporter_sentry_errors_events_dropped", sentryExporter), "the only drop")
	logs := c.Logs()
	assert.Contains(t, logs, "sentry rejected event "+s.eventIDs[rejected[0]]+" with 400 Bad Request: invalid event: exception value too long", "the log names the event and Sentry's reason")
	c.Stop(30 * time.Second)
}
