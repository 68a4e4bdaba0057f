package readiness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pipeline"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procode-ai/otelcol-procode/extension/readiness/internal/metadata"
	"github.com/procode-ai/otelcol-procode/internal/health"
)

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t     *testing.T
	ext   *readinessExtension
	clock *fakeClock
}

func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	cfg := createDefaultConfig().(*Config)
	for _, m := range mutate {
		m(cfg)
	}
	clock := &fakeClock{t: time.Date(2026, 1, 28, 9, 0, 0, 0, time.UTC)}
	set := extensiontest.NewNopSettings(metadata.Type)
	set.BuildInfo.Version = "9.8.7"
	return &fixture{t: t, ext: newExtensionWithClock(cfg, set, clock.now), clock: clock}
}

var (
	tracesPipeline  = pipeline.NewID(pipeline.SignalTraces)
	metricsPipeline = pipeline.NewID(pipeline.SignalMetrics)
	otlpReceiver    = componentstatus.NewInstanceID(component.MustNewID("otlp"), component.KindReceiver, tracesPipeline, metricsPipeline)
	otlpExporter    = componentstatus.NewInstanceID(component.MustNewID("otlp"), component.KindExporter, tracesPipeline)
	batchProcessor  = componentstatus.NewInstanceID(component.MustNewID("batch"), component.KindProcessor, tracesPipeline)
	// zipkinReceiver is a receiver of the traces pipeline only.
	zipkinReceiver = componentstatus.NewInstanceID(component.MustNewID("zipkin"), component.KindReceiver, tracesPipeline)
	allInstances   = []*componentstatus.InstanceID{otlpReceiver, otlpExporter, batchProcessor, zipkinReceiver}
	receiverOwner  = component.MustNewIDWithName("health_probe", "deps")
)

func (f *fixture) event(id *componentstatus.InstanceID, ev *componentstatus.Event) {
	f.ext.ComponentStatusChanged(id, ev)
}

func (f *fixture) startAll() {
	for _, id := range allInstances {
		f.event(id, componentstatus.NewEvent(componentstatus.StatusStarting))
	}
	for _, id := range allInstances {
		f.event(id, componentstatus.NewEvent(componentstatus.StatusOK))
	}
	require.NoError(f.t, f.ext.Ready())
}

// get serves one request through the extension's handler.
func (f *fixture) get(path string) (int, string) {
	rec := httptest.NewRecorder()
	f.ext.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

type healthJSON struct {
	Status        string                    `json:"status"`
	Timestamp     string                    `json:"timestamp"`
	Version       string                    `json:"version"`
	UptimeSeconds int64                     `json:"uptime_seconds"`
	Checks        map[string]map[string]any `json:"checks"`
}

type readyJSON struct {
	Ready     bool                  `json:"ready"`
	Timestamp string                `json:"timestamp"`
	Checks    map[string]readyEntry `json:"checks"`
}

func (f *fixture) health() (int, healthJSON) {
	code, body := f.get("/health")
	var h healthJSON
	require.NoError(f.t, json.Unmarshal([]byte(body), &h), body)
	return code, h
}

func (f *fixture) ready() (int, readyJSON) {
	code, body := f.get("/ready")
	var r readyJSON
	require.NoError(f.t, json.Unmarshal([]byte(body), &r), body)
	return code, r
}

func TestNotReadyUntilPipelinesStart(t *testing.T) {
	f := newFixture(t)
	for _, id := range allInstances {
		f.event(id, componentstatus.NewEvent(componentstatus.StatusStarting))
	}
	code, r := f.ready()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.False(t, r.Ready)
	assert.Equal(t, readyEntry{Ready: false, Message: "pipelines are starting"}, r.Checks["pipelines"])

	code, _ = f.get("/livez")
	assert.Equal(t, http.StatusOK, code, "liveness does not wait for pipelines")

	f.startAll()
	code, r = f.ready()
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, r.Ready)
	assert.Equal(t, readyEntry{Ready: true, Message: "all pipelines started"}, r.Checks["pipelines"])
}

// Events other than Starting are held until Ready, so a component that reports an error
// and recovers while the others are still starting never shows.
func TestEventsHeldUntilReady(t *testing.T) {
	f := newFixture(t)
	f.event(otlpExporter, componentstatus.NewEvent(componentstatus.StatusStarting))
	f.event(otlpExporter, componentstatus.NewRecoverableErrorEvent(errors.New("connection refused")))
	_, h := f.health()
	assert.Equal(t, "healthy", h.Status, "held event must not count yet")
	assert.Equal(t, map[string]any{"exporter:otlp": "starting"}, h.Checks["pipeline:traces"]["components"])

	require.NoError(t, f.ext.Ready())
	f.clock.advance(30 * time.Second) // an exporter's failed sends degrade after failing_after
	_, h = f.health()
	assert.Equal(t, "degraded", h.Status, "held event applied at Ready")
	assert.Equal(t, map[string]any{"exporter:otlp": "recoverable_error"}, h.Checks["pipeline:traces"]["components"])
}

// TestHeldEventsStayBounded: a component that flaps while the others start is held as
// its latest event, one per component (a million flaps once held a million events), and
// the time its status last changed survives: a recoverable error that began before
// Ready counts toward recovery_duration from when it began, not from its last repeat.
func TestHeldEventsStayBounded(t *testing.T) {
	f := newFixture(t)
	f.event(zipkinReceiver, componentstatus.NewEvent(componentstatus.StatusStarting))
	for i := 0; i < 10_000; i++ {
		f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("connection refused")))
		f.event(zipkinReceiver, componentstatus.NewEvent(componentstatus.StatusOK))
	}
	f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("connection refused")))
	f.clock.advance(4 * time.Minute)
	f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("still refused")))
	assert.Len(t, f.ext.state.held, 1)

	require.NoError(t, f.ext.Ready())
	assert.Empty(t, f.ext.state.held)
	_, h := f.health()
	assert.Equal(t, "degraded", h.Status)
	f.clock.advance(time.Minute + time.Second) // 5m1s since the error began, 1m1s since its repeat
	code, h := f.health()
	assert.Equal(t, "unhealthy", h.Status, "recovery_duration counts from when the error began")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	body, _ := json.Marshal(h)
	assert.Contains(t, string(body), "still refused", "the latest event's error is shown")
}

func TestComponentStatusTransitions(t *testing.T) {
	type want struct {
		health      string
		healthCode  int
		readyCode   int
		livezCode   int
		tracesCheck string
	}
	tests := []struct {
		name       string
		gate       []string // gate_readiness
		noDelivery bool
		apply      func(f *fixture)
		want       want
	}{
		{
			name:  "all ok",
			apply: func(*fixture) {},
			want:  want{"healthy", 200, 200, 200, "healthy"},
		},
		{
			name: "a receiver's recoverable error within recovery_duration is degraded and still ready",
			apply: func(f *fixture) {
				f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("scrape failed")))
				f.clock.advance(4 * time.Minute)
			},
			want: want{"degraded", 200, 200, 200, "degraded"},
		},
		{
			name: "a receiver's recoverable error past recovery_duration is unhealthy and not ready",
			apply: func(f *fixture) {
				f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("scrape failed")))
				f.clock.advance(5*time.Minute + time.Second)
			},
			want: want{"unhealthy", 503, 503, 200, "unhealthy"},
		},
		{
			name: "recovery after a long recoverable error",
			apply: func(f *fixture) {
				f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("down")))
				f.clock.advance(10 * time.Minute)
				f.event(zipkinReceiver, componentstatus.NewEvent(componentstatus.StatusOK))
			},
			want: want{"healthy", 200, 200, 200, "healthy"},
		},
		{
			name: "a receiver's permanent error",
			apply: func(f *fixture) {
				f.event(zipkinReceiver, componentstatus.NewPermanentErrorEvent(errors.New("cannot bind")))
			},
			want: want{"unhealthy", 503, 503, 200, "unhealthy"},
		},
		{
			name: "a processor's recoverable error stays degraded and ready however long it lasts (a price source down)",
			apply: func(f *fixture) {
				f.event(batchProcessor, componentstatus.NewRecoverableErrorEvent(errors.New("price_files[0]: fetching: dial: connect: connection refused")))
				f.clock.advance(time.Hour)
			},
			want: want{"degraded", 200, 200, 200, "degraded"},
		},
		{
			name: "a processor named in gate_readiness fails /ready past recovery_duration",
			gate: []string{"processor:batch"},
			apply: func(f *fixture) {
				f.event(batchProcessor, componentstatus.NewRecoverableErrorEvent(errors.New("price_files[0]: HTTP 503")))
				f.clock.advance(5*time.Minute + time.Second)
			},
			want: want{"unhealthy", 503, 503, 200, "unhealthy"},
		},
		{
			name: "a processor's permanent error is unhealthy but leaves /ready alone",
			apply: func(f *fixture) {
				f.event(batchProcessor, componentstatus.NewPermanentErrorEvent(errors.New("invalid pattern")))
			},
			want: want{"unhealthy", 503, 200, 200, "unhealthy"},
		},
		{
			name: "an exporter's recoverable error stays degraded and ready: its delivery check judges it",
			apply: func(f *fixture) {
				f.event(otlpExporter, componentstatus.NewRecoverableErrorEvent(errors.New("rpc error: Unavailable")))
				f.clock.advance(10 * time.Minute)
			},
			want: want{"degraded", 200, 200, 200, "degraded"},
		},
		{
			name:       "with delivery checks off too",
			noDelivery: true,
			apply: func(f *fixture) {
				f.event(otlpExporter, componentstatus.NewRecoverableErrorEvent(errors.New("rpc error: Unavailable")))
				f.clock.advance(10 * time.Minute)
			},
			want: want{"degraded", 200, 200, 200, "degraded"},
		},
		{
			name: "an exporter named in gate_readiness fails /ready past recovery_duration",
			gate: []string{"exporter:otlp"},
			apply: func(f *fixture) {
				f.event(otlpExporter, componentstatus.NewRecoverableErrorEvent(errors.New("rpc error: Unavailable")))
				f.clock.advance(5*time.Minute + time.Second)
			},
			want: want{"unhealthy", 503, 503, 200, "unhealthy"},
		},
		{
			name: "an exporter's permanent error is unhealthy but leaves /ready alone",
			apply: func(f *fixture) {
				f.event(otlpExporter, componentstatus.NewPermanentErrorEvent(errors.New("invalid api key")))
			},
			want: want{"unhealthy", 503, 200, 200, "unhealthy"},
		},
		{
			name: "fatal error fails liveness too",
			apply: func(f *fixture) {
				f.event(otlpExporter, componentstatus.NewFatalErrorEvent(errors.New("cannot continue")))
			},
			want: want{"unhealthy", 503, 503, 503, "unhealthy"},
		},
		{
			name:  "shutting down",
			apply: func(f *fixture) { require.NoError(t, f.ext.NotReady()) },
			want:  want{"healthy", 200, 503, 200, "healthy"},
		},
		{
			name: "stopping components are not errors",
			apply: func(f *fixture) {
				require.NoError(t, f.ext.NotReady())
				f.event(otlpExporter, componentstatus.NewEvent(componentstatus.StatusStopping))
				f.event(otlpExporter, componentstatus.NewEvent(componentstatus.StatusStopped))
			},
			want: want{"healthy", 200, 503, 200, "healthy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				c.Delivery.Enabled = !tt.noDelivery
				c.GateReadiness = tt.gate
			})
			f.startAll()
			tt.apply(f)
			code, h := f.health()
			assert.Equal(t, tt.want.health, h.Status)
			assert.Equal(t, tt.want.healthCode, code)
			assert.Equal(t, tt.want.tracesCheck, h.Checks["pipeline:traces"]["status"])
			assert.Equal(t, "healthy", h.Checks["pipeline:metrics"]["status"], "the error stays in its pipeline")
			code, _ = f.get("/ready")
			assert.Equal(t, tt.want.readyCode, code)
			code, _ = f.get("/livez")
			assert.Equal(t, tt.want.livezCode, code)
		})
	}
}

func TestRecoveryDurationConfigurable(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RecoveryDuration = 10 * time.Second })
	f.startAll()
	f.event(zipkinReceiver, componentstatus.NewRecoverableErrorEvent(errors.New("down")))
	f.clock.advance(9 * time.Second)
	code, _ := f.get("/ready")
	assert.Equal(t, http.StatusOK, code)
	f.clock.advance(2 * time.Second)
	code, r := f.ready()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.False(t, r.Checks["pipeline:traces"].Ready)
	assert.Equal(t, "receiver:zipkin recoverable error for 11s: down", r.Checks["pipeline:traces"].Message)
}

func TestProbesGateReadiness(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	require.NoError(t, f.ext.RegisterProbes(receiverOwner, []health.ProbeInfo{
		{Name: "database", Type: "postgresql", Critical: true},
		{Name: "search_agent", Type: "http", Critical: false},
	}))

	// Warmup: not ready until every probe reported once.
	code, r := f.ready()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, readyEntry{Ready: false, Message: "waiting for the first result of database, search_agent"}, r.Checks["warmup"])
	_, h := f.health()
	assert.Equal(t, "degraded", h.Checks["database"]["status"], "unknown is not healthy")

	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "database", Type: "postgresql", Critical: true, Status: health.StatusHealthy, Latency: 5200 * time.Microsecond, Message: "Connected to PostgreSQL"})
	code, _ = f.get("/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code, "search_agent has not reported yet")

	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "search_agent", Status: health.StatusHealthy})
	code, r = f.ready()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, readyEntry{Ready: true, Message: "all 2 probes reported"}, r.Checks["warmup"])

	// A non-critical probe failing degrades health but keeps readiness.
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "search_agent", Status: health.StatusUnhealthy, Message: "connection refused"})
	code, h = f.health()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "degraded", h.Status)
	assert.Equal(t, "unhealthy", h.Checks["search_agent"]["status"])
	code, _ = f.get("/ready")
	assert.Equal(t, http.StatusOK, code)

	// A critical probe failing makes both fail.
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "database", Status: health.StatusUnhealthy, Message: "connection refused"})
	code, h = f.health()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "unhealthy", h.Status)
	code, r = f.ready()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, readyEntry{Ready: false, Message: "connection refused"}, r.Checks["database"])

	// A degraded critical probe degrades health and keeps readiness.
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "database", Status: health.StatusDegraded, Message: "slow"})
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "search_agent", Status: health.StatusHealthy})
	code, h = f.health()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "degraded", h.Status)
	code, _ = f.get("/ready")
	assert.Equal(t, http.StatusOK, code)

	// Unregistering removes the probes.
	f.ext.UnregisterProbes(receiverOwner)
	_, h = f.health()
	assert.NotContains(t, h.Checks, "database")
	assert.Equal(t, "healthy", h.Status)
}

func TestWarmupTimeout(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.WarmupTimeout = 20 * time.Second })
	f.startAll()
	require.NoError(t, f.ext.RegisterProbes(receiverOwner, []health.ProbeInfo{{Name: "llm_provider", Critical: true}}))
	f.clock.advance(19 * time.Second)
	code, _ := f.get("/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	f.clock.advance(time.Second)
	code, r := f.ready()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "warmup_timeout 20s passed; still waiting for llm_provider", r.Checks["warmup"].Message)
	assert.True(t, r.Checks["llm_provider"].Ready, "no result is not a failure once warmup is over")
}

func TestProbeRegistrationRules(t *testing.T) {
	f := newFixture(t)
	other := component.MustNewIDWithName("health_probe", "other")
	require.NoError(t, f.ext.RegisterProbes(receiverOwner, []health.ProbeInfo{{Name: "database"}}))

	err := f.ext.RegisterProbes(other, []health.ProbeInfo{{Name: "database"}})
	require.EqualError(t, err, `probe name "database" is already registered by "health_probe/deps": probe names must be unique across health_probe receivers`)
	for _, reserved := range []string{"pipelines", "warmup", "extensions", "pipeline:x"} {
		err = f.ext.RegisterProbes(other, []health.ProbeInfo{{Name: reserved}})
		assert.ErrorContains(t, err, "is reserved by the readiness extension", reserved)
	}

	// Results from an owner that did not register the probe are ignored.
	f.ext.ReportProbe(other, health.ProbeResult{Name: "database", Status: health.StatusUnhealthy})
	_, h := f.health()
	assert.Equal(t, "waiting for the first result", h.Checks["database"]["message"])

	// An invalid status is treated as unhealthy, never as healthy.
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "database", Status: "fine"})
	_, h = f.health()
	assert.Equal(t, "unhealthy", h.Checks["database"]["status"])
}

func TestHealthJSONShape(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	require.NoError(t, f.ext.RegisterProbes(receiverOwner, []health.ProbeInfo{{Name: "disk_space", Type: "disk", Critical: true}}))
	f.clock.advance(3600 * time.Second)
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{
		Name: "disk_space", Type: "disk", Critical: true, Status: health.StatusHealthy,
		Latency: 1500 * time.Microsecond, Message: "Disk space OK (75.3% free)",
		Details: map[string]any{"free_gb": 150.5, "total_gb": 200.0, "free_percent": 75.3, "status": "overridden?"},
		Time:    f.clock.now(),
	})

	code, body := f.get("/health")
	require.Equal(t, http.StatusOK, code)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &raw))
	assert.ElementsMatch(t, []string{"status", "timestamp", "version", "uptime_seconds", "checks"}, keys(raw))
	assert.Equal(t, "healthy", raw["status"])
	assert.Equal(t, "2026-01-28T10:00:00Z", raw["timestamp"])
	assert.Equal(t, "9.8.7", raw["version"])
	assert.Equal(t, float64(3600), raw["uptime_seconds"])

	disk := raw["checks"].(map[string]any)["disk_space"].(map[string]any)
	assert.Equal(t, map[string]any{
		"status":       "healthy",
		"latency_ms":   1.5,
		"message":      "Disk space OK (75.3% free)",
		"free_gb":      150.5,
		"total_gb":     200.0,
		"free_percent": 75.3,
		"type":         "disk",
		"critical":     true,
		"last_checked": "2026-01-28T10:00:00Z",
	}, disk, "details cannot override the standard fields")

	traces := raw["checks"].(map[string]any)["pipeline:traces"].(map[string]any)
	assert.Equal(t, "healthy", traces["status"])
	assert.Equal(t, float64(0), traces["latency_ms"])
	assert.Equal(t, "4 component(s) running", traces["message"])

	code, rbody := f.get("/ready")
	require.Equal(t, http.StatusOK, code)
	var rraw map[string]any
	require.NoError(t, json.Unmarshal([]byte(rbody), &rraw))
	assert.ElementsMatch(t, []string{"ready", "timestamp", "checks"}, keys(rraw))
	assert.ElementsMatch(t, []string{"disk_space", "pipeline:traces", "pipeline:metrics", "pipelines", "warmup"}, keys(rraw["checks"].(map[string]any)))
}

func TestVerboseAndExclude(t *testing.T) {
	f := newFixture(t)
	f.startAll()
	require.NoError(t, f.ext.RegisterProbes(receiverOwner, []health.ProbeInfo{
		{Name: "database", Critical: true}, {Name: "search_agent", Critical: false},
	}))
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "database", Status: health.StatusUnhealthy, Message: "connection refused"})
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "search_agent", Status: health.StatusDegraded, Message: "slow: 2.1s"})

	code, body := f.get("/ready?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "[-]database failed: connection refused\n"+
		"[+]pipeline:metrics ok\n"+
		"[+]pipeline:traces ok\n"+
		"[+]pipelines ok\n"+
		"[+]search_agent ok\n"+
		"[+]warmup ok\n"+
		"ready check failed\n", body)

	code, body = f.get("/ready?verbose&exclude=database")
	assert.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, "database")
	assert.True(t, strings.HasSuffix(body, "ready check passed\n"))

	code, body = f.get("/health?verbose=true")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "[-]database failed: connection refused\n")
	assert.Contains(t, body, "[+]search_agent degraded: slow: 2.1s\n")
	assert.True(t, strings.HasSuffix(body, "health check failed\n"))

	code, body = f.get("/health?verbose&exclude=database")
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasSuffix(body, "health check passed (degraded)\n"), body)

	code, h := f.health()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	code, body = f.get("/health?exclude=database,search_agent")
	assert.Equal(t, http.StatusOK, code)
	h = healthJSON{}
	require.NoError(t, json.Unmarshal([]byte(body), &h))
	assert.Equal(t, "healthy", h.Status)
	assert.NotContains(t, h.Checks, "database")

	code, body = f.get("/health?verbose=false")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.True(t, strings.HasPrefix(body, "{"), "verbose=false answers JSON")

	// Shutting down cannot be excluded.
	require.NoError(t, f.ext.NotReady())
	code, _ = f.get("/ready?exclude=pipelines&exclude=database")
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

func TestLivez(t *testing.T) {
	f := newFixture(t)
	code, body := f.get("/livez")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
	_, body = f.get("/livez?verbose")
	assert.Equal(t, "[+]process ok\nlivez check passed\n", body)

	// A failing dependency never fails liveness.
	require.NoError(t, f.ext.RegisterProbes(receiverOwner, []health.ProbeInfo{{Name: "database", Critical: true}}))
	f.ext.ReportProbe(receiverOwner, health.ProbeResult{Name: "database", Status: health.StatusUnhealthy})
	code, _ = f.get("/livez")
	assert.Equal(t, http.StatusOK, code)

	f.event(otlpReceiver, componentstatus.NewFatalErrorEvent(errors.New("listen tcp 127.0.0.1:4317: bind: address already in use")))
	code, body = f.get("/livez?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "[-]process failed: fatal error in receiver:otlp: listen tcp 127.0.0.1:4317: bind: address already in use\nlivez check failed\n", body)
}

func TestHTTPMethodsAndPaths(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Paths.Ready = "/readyz" })
	f.startAll()
	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/readyz", 200},
		{http.MethodHead, "/readyz", 200},
		{http.MethodGet, "/ready", 404},
		{http.MethodGet, "/health/", 404},
		{http.MethodGet, "/", 404},
		{http.MethodPost, "/readyz", 405},
		{http.MethodPut, "/health", 405},
		{http.MethodDelete, "/livez", 405},
	} {
		rec := httptest.NewRecorder()
		f.ext.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		assert.Equal(t, tt.code, rec.Code, "%s %s", tt.method, tt.path)
		if tt.code == 405 {
			assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
		}
		if tt.code == 200 {
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		}
	}
}

func TestSecretsNeverInBodies(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.GateReadiness = []string{"exporter:otlp"}
	})
	f.startAll()
	f.event(otlpExporter, componentstatus.NewPermanentErrorEvent(errors.New(
		`Post "https://user:s3cr3t-pass@backend.example/v1/traces?api_key=k3y-123": 401 Unauthorized, Authorization: Bearer tok-abcdef123`)))
	for _, path := range []string{"/health", "/ready", "/health?verbose", "/ready?verbose"} {
		_, body := f.get(path)
		for _, secret := range []string{"s3cr3t-pass", "k3y-123", "tok-abcdef123", "user:"} {
			assert.NotContains(t, body, secret, path)
		}
		assert.Contains(t, body, "backend.example/v1/traces", "the useful part of the error stays")
	}
}

// TestConcurrentUse runs status events, probe reports and requests at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(3)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				f.event(otlpExporter, componentstatus.NewRecoverableErrorEvent(errors.New("x")))
				f.event(otlpExporter, componentstatus.NewEvent(componentstatus.StatusOK))
			}
		}()
		go func(i int) {
			defer wg.Done()
			owner := component.MustNewIDWithName("health_probe", fmt.Sprint(i))
			name := fmt.Sprintf("probe_%d", i)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = f.ext.RegisterProbes(owner, []health.ProbeInfo{{Name: name, Critical: true}})
				f.ext.ReportProbe(owner, health.ProbeResult{Name: name, Status: health.StatusHealthy})
				f.ext.UnregisterProbes(owner)
			}
		}(i)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range []string{"/health", "/ready?verbose", "/livez"} {
					code, _ := f.get(p)
					if code != 200 && code != 503 {
						t.Errorf("%s answered %d", p, code)
					}
				}
			}
		}()
	}
	go func() { _ = f.ext.Ready(); _ = f.ext.NotReady() }()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
}

func freeEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func httpGet(t *testing.T, url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), nil
}

// TestShutdownOrder follows the collector's order: Start, Ready, NotReady (503 while the
// listener stays open), Shutdown (listener closed).
func TestShutdownOrder(t *testing.T) {
	endpoint := freeEndpoint(t)
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = endpoint
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	host := componenttest.NewNopHost()
	require.NoError(t, ext.Start(context.Background(), host))

	url := "http://" + endpoint + "/ready"
	code, _, err := httpGet(t, url)
	require.NoError(t, err)
	assert.Equal(t, 503, code, "starting")

	pw := ext.(interface {
		Ready() error
		NotReady() error
	})
	require.NoError(t, pw.Ready())
	code, _, err = httpGet(t, url)
	require.NoError(t, err)
	assert.Equal(t, 200, code)

	require.NoError(t, pw.NotReady())
	code, body, err := httpGet(t, url)
	require.NoError(t, err, "listener stays open after NotReady")
	assert.Equal(t, 503, code)
	assert.Contains(t, body, "shutting down")

	require.NoError(t, ext.Shutdown(context.Background()))
	_, _, err = httpGet(t, url)
	require.Error(t, err, "listener closed after Shutdown")

	// Calls after Shutdown are harmless.
	require.NoError(t, ext.Shutdown(context.Background()))
	ext.(componentstatus.Watcher).ComponentStatusChanged(otlpExporter, componentstatus.NewEvent(componentstatus.StatusStopped))
	ext.(health.Reporter).ReportProbe(receiverOwner, health.ProbeResult{Name: "x"})
}

// TestRequestSizeLimits: the endpoints take no body (one above max_request_body_size is
// refused with 413) and headers are capped at 16 KiB (431 above).
func TestRequestSizeLimits(t *testing.T) {
	endpoint := freeEndpoint(t)
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = endpoint
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	url := "http://" + endpoint + "/livez"

	send := func(body string, header string) int {
		req, err := http.NewRequest(http.MethodGet, url, strings.NewReader(body))
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("X-Padding", header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, send(strings.Repeat("a", 1024), ""), "a body within max_request_body_size is ignored")
	assert.Equal(t, http.StatusRequestEntityTooLarge, send(strings.Repeat("a", 1025), ""), "a larger body is refused")
	assert.Equal(t, http.StatusOK, send("", strings.Repeat("h", 8<<10)), "8 KiB of headers")
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, send("", strings.Repeat("h", 24<<10)), "24 KiB of headers")
}

// TestSlowBodyCannotHoldTheServer: a client that announces a body and never sends it
// is answered 408 once the body read deadline passes, and Shutdown with no deadline of
// its own then returns. Without the deadline, 200 such clients held 200 handlers and
// Shutdown(context.Background()) until they hung up.
func TestSlowBodyCannotHoldTheServer(t *testing.T) {
	endpoint := freeEndpoint(t)
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = endpoint
	ext := newExtension(cfg, extensiontest.NewNopSettings(metadata.Type))
	ext.bodyTimeout = 300 * time.Millisecond
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))

	const clients = 20
	replies := make(chan string, clients)
	for i := 0; i < clients; i++ {
		c, err := net.Dial("tcp", endpoint)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		_, err = fmt.Fprintf(c, "GET /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
		require.NoError(t, err)
		go func() {
			line, _ := bufio.NewReader(c).ReadString('\n')
			replies <- strings.TrimSpace(line)
		}()
	}
	for i := 0; i < clients; i++ {
		select {
		case line := <-replies:
			assert.Equal(t, "HTTP/1.1 408 Request Timeout", line)
		case <-time.After(30 * time.Second):
			t.Fatal("a client that never sent its body got no answer")
		}
	}
	done := make(chan error, 1)
	go func() { done <- ext.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown is held by clients that never sent their bodies")
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), createDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestStartFailsWhenPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = l.Addr().String()
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = ext.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "address already in use")
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestFindReporter(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), createDefaultConfig())
	require.NoError(t, err)
	id := component.NewID(metadata.Type)
	r, err := health.FindReporter(map[component.ID]component.Component{id: ext}, id)
	require.NoError(t, err)
	assert.Same(t, ext, r)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A gate_readiness entry that names no component of this collector is said once, at Ready.
func TestUnknownGateIsLogged(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.GateReadiness = []string{"processor:batch", "exporter:otlp/typo"} })
	core, logs := observer.New(zap.WarnLevel)
	f.ext.telemetry.Logger = zap.New(core)
	f.startAll()
	require.Equal(t, 1, logs.Len())
	assert.Equal(t, []any{"exporter:otlp/typo"}, logs.All()[0].ContextMap()["components"])
}
