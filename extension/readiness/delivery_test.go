package readiness

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/procode-ai/otelcol-procode/internal/delivery"
)

var (
	sentryTraces  = componentstatus.NewInstanceID(component.MustNewID("sentry_errors"), component.KindExporter, tracesPipeline)
	memoryLimiter = componentstatus.NewInstanceID(component.MustNewID("memory_limiter"), component.KindProcessor, tracesPipeline)
)

func (f *fixture) deliver(kind delivery.Kind, exporter, signal string, items int64, errText string) {
	f.ext.DeliveryEvent(delivery.Event{Kind: kind, Component: exporter, Signal: signal, Items: items, Err: errText})
}

// check returns one /health check, failing the test when it is missing.
func (f *fixture) check(name string) map[string]any {
	f.t.Helper()
	_, h := f.health()
	c, ok := h.Checks[name]
	require.True(f.t, ok, "no check %q in /health: %v", name, h.Checks)
	return c
}

const refused = `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:4317: connect: connection refused"`

// Every transition of an exporter's delivery check, on the extension's clock.
func TestDeliveryTransitions(t *testing.T) {
	f := newFixture(t)
	f.startAll()

	c := f.check("exporter:otlp")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "nothing sent yet", c["message"], "every exporter has a check from its first status event")
	assert.Equal(t, false, c["gates_readiness"])

	f.deliver(delivery.Sent, "otlp", "traces", 10, "")
	f.clock.advance(2 * time.Second)
	c = f.check("exporter:otlp")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "last send succeeded 2s ago", c["message"])
	assert.Equal(t, []any{"traces"}, c["signals"])

	// Failing, but not for long enough yet.
	f.deliver(delivery.Retrying, "otlp", "traces", 0, refused)
	f.clock.advance(29 * time.Second)
	f.deliver(delivery.Retrying, "otlp", "traces", 0, refused)
	c = f.check("exporter:otlp")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "sending has been failing for 29s (connection refused)", c["message"])
	assert.Equal(t, "2026-01-28T09:00:02Z", c["failing_since"])

	// Failing for failing_after: degraded, with the reason and since when.
	f.clock.advance(16 * time.Second)
	code, h := f.health()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "degraded", h.Status)
	c = h.Checks["exporter:otlp"]
	assert.Equal(t, "degraded", c["status"])
	assert.Equal(t, "sending failed for 45s (connection refused)", c["message"])
	assert.Equal(t, refused, c["last_error"])
	code, _ = f.get("/ready")
	assert.Equal(t, http.StatusOK, code, "a failing exporter does not fail /ready by default")

	// One successful send and it is healthy again.
	f.deliver(delivery.Sent, "otlp", "traces", 5, "")
	c = f.check("exporter:otlp")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "last send succeeded 0s ago", c["message"])
	assert.NotContains(t, c, "failing_since")
	_, h = f.health()
	assert.Equal(t, "healthy", h.Status)
}

// A sending queue at queue_threshold or above degrades the exporter.
func TestDeliveryQueueFill(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	f.deliver(delivery.Sent, "otlp", "traces", 1, "")
	for _, tt := range []struct {
		size   int64
		status string
		queue  string
	}{
		{size: 0, status: "healthy", queue: "queue 0/1000"},
		{size: 799, status: "healthy", queue: "queue 799/1000"},
		{size: 800, status: "degraded", queue: "queue 800/1000 (80% full)"},
		{size: 1000, status: "degraded", queue: "queue 1000/1000 (100% full)"},
	} {
		qs := []delivery.Queue{{Exporter: "otlp", Signal: "traces", Size: tt.size, Capacity: 1000}}
		rep := f.ext.state.report(qs)
		var c check
		for _, hc := range rep.health {
			if hc.name == "exporter:otlp" {
				c = hc
			}
		}
		assert.Equal(t, tt.status, string(c.status), "size %d", tt.size)
		assert.Equal(t, "last send succeeded 0s ago; "+tt.queue, c.message)
		assert.Equal(t, map[string]any{"traces": map[string]any{"size": tt.size, "capacity": int64(1000)}}, c.fields["queues"])
	}
}

// Data dropped within loss_window makes the exporter unhealthy (/health 503) with the
// count and why, /ready stays 200 unless the exporter gates readiness, and the check is
// healthy again once loss_window has passed without drops.
func TestDeliveryLoss(t *testing.T) {
	for _, gate := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "gate_readiness"}[gate], func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				if gate {
					c.GateReadiness = []string{"exporter:otlp"}
				}
			})
			f.startAll()
			f.deliver(delivery.EnqueueFailed, "otlp", "traces", 10, "")
			f.deliver(delivery.Dropped, "otlp", "traces", 10, "sending queue is full")
			f.clock.advance(time.Second)
			f.deliver(delivery.SendFailed, "otlp", "logs", 3, "")
			f.deliver(delivery.Dropped, "otlp", "logs", 3, "no more retries left: "+refused)

			code, h := f.health()
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "unhealthy", h.Status)
			c := h.Checks["exporter:otlp"]
			assert.Equal(t, "unhealthy", c["status"])
			assert.Equal(t, "sending has been failing for 0s (connection refused); dropped 3 log records, 10 spans in the last 5m (10 refused by the full sending queue, 3 given up on after failed sends): connection refused", c["message"])
			assert.Equal(t, map[string]any{"spans": float64(10), "log records": float64(3)}, c["dropped"])
			assert.Equal(t, gate, c["gates_readiness"])

			code, r := f.ready()
			if gate {
				assert.Equal(t, http.StatusServiceUnavailable, code)
				assert.False(t, r.Checks["exporter:otlp"].Ready)
				assert.Contains(t, r.Checks["exporter:otlp"].Message, "dropped 3 log records, 10 spans")
			} else {
				assert.Equal(t, http.StatusOK, code)
				assert.NotContains(t, r.Checks, "exporter:otlp", "/ready lists only the exporters that gate it")
			}

			// Sends of both signals succeed again: still unhealthy while the drops are
			// within the window.
			f.deliver(delivery.Sent, "otlp", "traces", 1, "")
			f.deliver(delivery.Sent, "otlp", "logs", 1, "")
			f.clock.advance(4 * time.Minute)
			assert.Equal(t, "unhealthy", f.check("exporter:otlp")["status"])
			f.clock.advance(time.Minute + time.Second)
			c = f.check("exporter:otlp")
			assert.Equal(t, "healthy", c["status"])
			assert.NotContains(t, c, "dropped")
			code, _ = f.get("/ready")
			assert.Equal(t, http.StatusOK, code)
		})
	}
}

// A permanent error drops the data at once.
func TestDeliveryPermanentError(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	f.deliver(delivery.SendFailed, "otlp", "traces", 4, "")
	f.deliver(delivery.Dropped, "otlp", "traces", 4, "not retryable error: Permanent error: rpc error: code = InvalidArgument desc = bad span")
	c := f.check("exporter:otlp")
	assert.Equal(t, "unhealthy", c["status"])
	assert.Equal(t, "sending has been failing for 0s (bad span); dropped 4 spans in the last 5m (4 given up on after failed sends): bad span", c["message"])
}

// An exporter that reports its own status (sentry_errors does): a recoverable error is a
// failing send, OK a successful one.
func TestDeliveryFromComponentStatus(t *testing.T) {
	f := newFixture(t)
	f.event(sentryTraces, componentstatus.NewEvent(componentstatus.StatusStarting))
	f.event(sentryTraces, componentstatus.NewEvent(componentstatus.StatusOK))
	f.startAll()
	f.event(sentryTraces, componentstatus.NewRecoverableErrorEvent(errors.New(
		`send to sentry: Post "https://o1.ingest.sentry.io/api/1/envelope/?sentry_key=abc123def": dial tcp: connect: connection refused`)))
	f.clock.advance(31 * time.Second)
	c := f.check("exporter:sentry_errors")
	assert.Equal(t, "degraded", c["status"])
	assert.Equal(t, "sending failed for 31s (connection refused)", c["message"])
	assert.NotContains(t, c["last_error"], "abc123def")
	f.event(sentryTraces, componentstatus.NewEvent(componentstatus.StatusOK))
	c = f.check("exporter:sentry_errors")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "last send succeeded 0s ago", c["message"])
}

// A memory limiter that refuses data degrades /health with the reason, for failing_after
// after its last refusal; it never fails /ready.
func TestMemoryLimiterRefusals(t *testing.T) {
	f := newFixture(t)
	f.event(memoryLimiter, componentstatus.NewEvent(componentstatus.StatusStarting))
	f.startAll()
	f.event(memoryLimiter, componentstatus.NewEvent(componentstatus.StatusOK))
	c := f.check("processor:memory_limiter")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "accepting data", c["message"])

	// memory_limiter's own logger carries no component ID.
	f.deliver(delivery.Refusing, "", "", 0, "memory usage 45 MiB is above the soft limit")
	f.deliver(delivery.Refused, "memory_limiter", "traces", 100, "")
	f.clock.advance(10 * time.Second)
	f.deliver(delivery.Refused, "memory_limiter", "logs", 7, "")
	code, h := f.health()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "degraded", h.Status)
	c = h.Checks["processor:memory_limiter"]
	assert.Equal(t, "degraded", c["status"])
	assert.Equal(t, "refusing data for 10s (memory usage 45 MiB is above the soft limit); refused 7 log records, 100 spans in the last 5m; senders get a retryable error", c["message"])
	assert.Equal(t, "2026-01-28T09:00:00Z", c["refusing_since"])
	code, _ = f.get("/ready")
	assert.Equal(t, http.StatusOK, code)

	f.clock.advance(31 * time.Second)
	c = f.check("processor:memory_limiter")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "last refused data 31s ago; refused 7 log records, 100 spans in the last 5m; senders get a retryable error", c["message"])
	f.clock.advance(5 * time.Minute)
	assert.Equal(t, "accepting data", f.check("processor:memory_limiter")["message"])
}

// Off, there are no delivery checks.
func TestDeliveryDisabled(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Delivery.Enabled = false })
	f.startAll()
	f.deliver(delivery.EnqueueFailed, "otlp", "traces", 10, "")
	_, h := f.health()
	assert.NotContains(t, h.Checks, "exporter:otlp")
	assert.Equal(t, "healthy", h.Status)
}

// The verbose answer says the same in one line per check.
func TestDeliveryVerbose(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	f.deliver(delivery.Retrying, "otlp", "traces", 0, refused)
	f.clock.advance(45 * time.Second)
	code, body := f.get("/health?verbose")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "[+]exporter:otlp degraded: sending failed for 45s (connection refused)\n")
	assert.Contains(t, body, "health check passed (degraded)\n")
}

// Error texts from an event are cleaned again by the extension: no URL credentials,
// query strings or tokens in any body.
func TestDeliveryBodiesCarryNoSecrets(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.GateReadiness = []string{"exporter:otlphttp"}
	})
	f.startAll()
	secretErr := `Post "https://user:s3cr3t-pass@backend.example/v1/traces?api_key=k3y-123": Authorization: Bearer tok-abcdef123: 401 Unauthorized`
	f.deliver(delivery.Retrying, "otlphttp", "traces", 0, secretErr)
	f.deliver(delivery.SendFailed, "otlphttp", "traces", 2, "")
	f.deliver(delivery.Dropped, "otlphttp", "traces", 2, secretErr)
	f.clock.advance(time.Minute)
	for _, path := range []string{"/health", "/ready", "/health?verbose", "/ready?verbose"} {
		_, body := f.get(path)
		for _, secret := range []string{"s3cr3t-pass", "k3y-123", "tok-abcdef123", "user:"} {
			assert.NotContains(t, body, secret, path)
		}
		assert.Contains(t, body, "401 Unauthorized", path)
	}
}

// Started with the distribution's meter provider, the extension subscribes to its
// delivery observer, reads the sending queues through it, and unsubscribes at shutdown.
func TestDeliveryObserverSubscription(t *testing.T) {
	obs := delivery.NewObserver()
	sdk := sdkmetric.NewMeterProvider()
	mp := delivery.NewMeterProvider(sdk, obs)
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })

	f := newFixture(t, func(c *Config) { c.ServerConfig.NetAddr.Endpoint = freeEndpoint(t) })
	f.ext.telemetry.MeterProvider = mp
	require.NoError(t, f.ext.Start(context.Background(), componenttest.NewNopHost()))
	f.startAll()

	meter := mp.Meter("go.opentelemetry.io/collector/exporter/exporterhelper")
	enqueueFailed, err := meter.Int64Counter("otelcol_exporter_enqueue_failed_spans")
	require.NoError(t, err)
	size, err := meter.Int64ObservableGauge("otelcol_exporter_queue_size")
	require.NoError(t, err)
	capacity, err := meter.Int64ObservableGauge("otelcol_exporter_queue_capacity")
	require.NoError(t, err)
	queueAttrs := metric.WithAttributes(attribute.String("exporter", "otlp"), attribute.String("data_type", "traces"))
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(size, 100, queueAttrs)
		o.ObserveInt64(capacity, 100, queueAttrs)
		return nil
	}, size, capacity)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Unregister() })

	enqueueFailed.Add(context.Background(), 6, metric.WithAttributes(attribute.String("exporter", "otlp")))
	c := f.check("exporter:otlp")
	assert.Equal(t, "unhealthy", c["status"])
	assert.Equal(t, "nothing sent yet; dropped 6 spans in the last 5m (6 refused by the full sending queue); queue 100/100 (100% full)", c["message"])

	require.NoError(t, f.ext.Shutdown(context.Background()))
	enqueueFailed.Add(context.Background(), 1, metric.WithAttributes(attribute.String("exporter", "otlp")))
	assert.Equal(t, map[string]any{"spans": float64(6)}, f.check("exporter:otlp")["dropped"], "no events after shutdown")
}

// otelcol_readiness_check_status is /health as the collector's own metric: one series
// per check, 0 healthy, 1 degraded, 2 unhealthy.
func TestCheckStatusMetric(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	f := newFixture(t, func(c *Config) { c.ServerConfig.NetAddr.Endpoint = freeEndpoint(t) })
	f.ext.telemetry = tel.NewTelemetrySettings()
	require.NoError(t, f.ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, f.ext.Shutdown(context.Background())) })
	f.startAll()
	f.deliver(delivery.Retrying, "otlp", "traces", 0, refused)
	f.clock.advance(time.Minute)

	got := map[string]int64{}
	m, err := tel.GetMetric("otelcol_readiness_check_status")
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		check, _ := dp.Attributes.Value("check")
		got[check.AsString()] = dp.Value
	}
	assert.Equal(t, map[string]int64{"exporter:otlp": 1, "pipeline:traces": 0, "pipeline:metrics": 0}, got)

	f.deliver(delivery.EnqueueFailed, "otlp", "traces", 1, "")
	m, err = tel.GetMetric("otelcol_readiness_check_status")
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		if check, _ := dp.Attributes.Value("check"); check.AsString() == "exporter:otlp" {
			assert.Equal(t, int64(2), dp.Value)
		}
	}
}

// An exporter that reports its own status (sentry_errors) and fails for less than
// failing_after leaves /health healthy, as an exporter observed only through its
// telemetry does: its pipeline check does not degrade the whole on the first failed
// attempt (before, one refused connection made /health degraded at once, and
// failing_after applied only to the exporter's own check).
func TestDeliveryFailingAfterHoldsForStatusReports(t *testing.T) {
	f := newFixture(t)
	f.event(sentryTraces, componentstatus.NewEvent(componentstatus.StatusStarting))
	f.event(sentryTraces, componentstatus.NewEvent(componentstatus.StatusOK))
	f.startAll()
	f.event(sentryTraces, componentstatus.NewRecoverableErrorEvent(errors.New("send to sentry: dial tcp: connect: connection refused")))
	f.clock.advance(5 * time.Second)
	_, h := f.health()
	assert.Equal(t, "healthy", h.Status)
	assert.Equal(t, "healthy", h.Checks["pipeline:traces"]["status"])
	assert.Equal(t, "sending has been failing for 5s (connection refused)", h.Checks["exporter:sentry_errors"]["message"])

	f.clock.advance(26 * time.Second)
	_, h = f.health()
	assert.Equal(t, "degraded", h.Status)
	assert.Equal(t, "degraded", h.Checks["exporter:sentry_errors"]["status"])
	assert.Equal(t, "degraded", h.Checks["pipeline:traces"]["status"])
}

// An exporter of two signals whose logs keep failing while its traces go through is
// degraded after failing_after, naming the signal: a success of one signal does not end
// another's failure (before, every trace sent reset the failure of the logs, which
// showed only once their retries were exhausted and the data dropped, minutes later).
func TestDeliveryFailingPerSignal(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	f.deliver(delivery.Sent, "otlphttp", "logs", 3, "")
	for range 9 {
		f.deliver(delivery.Retrying, "otlphttp", "logs", 0, "503 Service Unavailable")
		f.deliver(delivery.Sent, "otlphttp", "traces", 10, "")
		f.clock.advance(5 * time.Second)
	}
	c := f.check("exporter:otlphttp")
	assert.Equal(t, "degraded", c["status"])
	assert.Equal(t, "sending logs failed for 45s (503 Service Unavailable)", c["message"])
	assert.Equal(t, "2026-01-28T09:00:00Z", c["failing_since"])

	// The logs go through again: healthy.
	f.deliver(delivery.Sent, "otlphttp", "logs", 3, "")
	c = f.check("exporter:otlphttp")
	assert.Equal(t, "healthy", c["status"])
	assert.Equal(t, "last send succeeded 0s ago", c["message"])

	// Every signal failing: the message names none.
	f.deliver(delivery.Retrying, "otlphttp", "logs", 0, refused)
	f.deliver(delivery.Retrying, "otlphttp", "traces", 0, refused)
	f.clock.advance(31 * time.Second)
	assert.Equal(t, "sending failed for 31s (connection refused)", f.check("exporter:otlphttp")["message"])
}

// An exporter's own status reports count for the signal of the instance that reports:
// the traces instance recovering does not end the logs instance's failure.
func TestDeliveryStatusPerSignal(t *testing.T) {
	sentryLogs := componentstatus.NewInstanceID(component.MustNewID("sentry_errors"), component.KindExporter, pipeline.NewID(pipeline.SignalLogs))
	f := newFixture(t)
	for _, id := range []*componentstatus.InstanceID{sentryTraces, sentryLogs} {
		f.event(id, componentstatus.NewEvent(componentstatus.StatusStarting))
		f.event(id, componentstatus.NewEvent(componentstatus.StatusOK))
	}
	f.startAll()
	f.event(sentryTraces, componentstatus.NewRecoverableErrorEvent(errors.New("sentry answered 503 Service Unavailable")))
	f.event(sentryLogs, componentstatus.NewRecoverableErrorEvent(errors.New("sentry answered 503 Service Unavailable")))
	f.clock.advance(10 * time.Second)
	f.event(sentryTraces, componentstatus.NewEvent(componentstatus.StatusOK))
	f.clock.advance(25 * time.Second)
	c := f.check("exporter:sentry_errors")
	assert.Equal(t, "degraded", c["status"])
	assert.Equal(t, "sending logs failed for 35s (sentry answered 503 Service Unavailable)", c["message"])
}
