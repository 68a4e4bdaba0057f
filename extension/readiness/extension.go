package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/procode-ai/otelcol-procode/extension/readiness/internal/metadata"
	"github.com/procode-ai/otelcol-procode/internal/delivery"
	"github.com/procode-ai/otelcol-procode/internal/health"
)

type readinessExtension struct {
	cfg       *Config
	telemetry component.TelemetrySettings
	version   string
	created   time.Time
	state     *state
	// bodyTimeout bounds reading a request body (see ServeHTTP).
	bodyTimeout time.Duration

	mu     sync.Mutex // guards server and stopped across Start and Shutdown
	server *http.Server
	done   chan struct{}

	// observer is this collector's delivery observer (internal/delivery), found at
	// Start; nil when the telemetry factory provides none.
	observer    atomic.Pointer[delivery.Observer]
	unsubscribe func()
	tb          *metadata.TelemetryBuilder
}

var (
	_ extension.Extension                   = (*readinessExtension)(nil)
	_ componentstatus.Watcher               = (*readinessExtension)(nil)
	_ extensioncapabilities.PipelineWatcher = (*readinessExtension)(nil)
	_ health.Reporter                       = (*readinessExtension)(nil)
	_ delivery.Sink                         = (*readinessExtension)(nil)
)

func newExtension(cfg *Config, set extension.Settings) *readinessExtension {
	return newExtensionWithClock(cfg, set, time.Now)
}

func newExtensionWithClock(cfg *Config, set extension.Settings, now func() time.Time) *readinessExtension {
	return &readinessExtension{
		cfg:       cfg,
		telemetry: set.TelemetrySettings,
		version:   set.BuildInfo.Version,
		created:   now(),
		state:     newState(cfg, now),

		bodyTimeout: bodyReadTimeout,
	}
}

// Start opens the listener first, so that a port in use fails startup, then serves in
// the background and reports a serving failure as a fatal component status.
func (e *readinessExtension) Start(ctx context.Context, host component.Host) error {
	ln, err := e.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return err
	}
	server, err := e.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), e.telemetry, e)
	if err != nil {
		_ = ln.Close()
		return err
	}
	server.MaxHeaderBytes = maxHeaderBytes
	tb, err := e.newTelemetry()
	if err != nil {
		_ = ln.Close()
		return err
	}
	e.state.markStarted()
	e.observeDelivery()

	e.mu.Lock()
	e.server = server
	e.tb = tb
	e.done = make(chan struct{})
	done := e.done
	e.mu.Unlock()

	e.telemetry.Logger.Info("Readiness endpoints serving",
		zap.String("endpoint", e.cfg.ServerConfig.NetAddr.Endpoint),
		zap.String("livez", e.cfg.Paths.Livez),
		zap.String("health", e.cfg.Paths.Health),
		zap.String("ready", e.cfg.Paths.Ready))
	go func() {
		defer close(done)
		if serveErr := server.Serve(ln); serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(serveErr))
		}
	}()
	return nil
}

// newTelemetry registers otelcol_readiness_check_status: each /health check's status
// (0 healthy, 1 degraded, 2 unhealthy) as the collector's own metric, the Prometheus
// view of /health for dashboards and alerts.
func (e *readinessExtension) newTelemetry() (*metadata.TelemetryBuilder, error) {
	tb, err := metadata.NewTelemetryBuilder(e.telemetry)
	if err != nil {
		return nil, err
	}
	err = tb.RegisterReadinessCheckStatusCallback(func(ctx context.Context, o metric.Int64Observer) error {
		for _, c := range e.state.report(e.queues(ctx)).health {
			o.Observe(statusValue(c.status), metric.WithAttributes(attribute.String("check", c.name)))
		}
		return nil
	})
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return tb, nil
}

// statusValue is a status as a number: 0 healthy, 1 degraded, 2 unhealthy.
func statusValue(s health.Status) int64 {
	switch s {
	case health.StatusHealthy:
		return 0
	case health.StatusDegraded:
		return 1
	default:
		return 2
	}
}

// observeDelivery subscribes to this collector's delivery observer, which the
// distribution's telemetry factory puts behind the meter provider (internal/delivery).
func (e *readinessExtension) observeDelivery() {
	if !e.cfg.Delivery.Enabled {
		return
	}
	obs, ok := delivery.Find(e.telemetry.MeterProvider)
	if !ok {
		e.telemetry.Logger.Warn("Delivery checks see only the exporters' own component status: " +
			"this collector's telemetry factory does not observe exporter telemetry (build it with otelcol-procode's, internal/owntelemetry)")
		return
	}
	e.observer.Store(obs)
	unsubscribe := obs.Subscribe(e)
	e.mu.Lock()
	e.unsubscribe = unsubscribe
	e.mu.Unlock()
}

// DeliveryEvent implements delivery.Sink.
func (e *readinessExtension) DeliveryEvent(ev delivery.Event) {
	e.state.deliveryEvent(ev)
}

// queues reads the sending queues now, when delivery is observed.
func (e *readinessExtension) queues(ctx context.Context) []delivery.Queue {
	obs := e.observer.Load()
	if obs == nil {
		return nil
	}
	return obs.Queues(ctx)
}

// Shutdown stops the server, letting requests in flight finish within ctx. It is safe
// to call when Start never ran and more than once.
func (e *readinessExtension) Shutdown(ctx context.Context) error {
	e.state.setNotReady()
	e.mu.Lock()
	server, done := e.server, e.done
	e.server = nil
	if e.unsubscribe != nil {
		e.unsubscribe()
		e.unsubscribe = nil
	}
	if e.tb != nil {
		e.tb.Shutdown()
		e.tb = nil
	}
	e.mu.Unlock()
	if server == nil {
		return nil
	}
	err := server.Shutdown(ctx)
	if err != nil {
		// ctx ended before requests finished: cut them off so no goroutine outlives us.
		err = errors.Join(err, server.Close())
	}
	<-done
	return err
}

// ComponentStatusChanged implements componentstatus.Watcher.
func (e *readinessExtension) ComponentStatusChanged(source *componentstatus.InstanceID, event *componentstatus.Event) {
	e.state.componentStatusChanged(source, event)
}

// Ready implements extensioncapabilities.PipelineWatcher: every pipeline has started.
func (e *readinessExtension) Ready() error {
	e.state.setReady()
	if unknown := e.state.unknownGates(); len(unknown) > 0 {
		e.telemetry.Logger.Warn("gate_readiness names components this collector does not run; they gate nothing",
			zap.Strings("components", unknown))
	}
	return nil
}

// NotReady implements extensioncapabilities.PipelineWatcher: the collector is about to
// stop its pipelines. /ready answers 503 from here on, while the listener stays open,
// so that load balancers drain this instance before it goes away.
func (e *readinessExtension) NotReady() error {
	e.state.setNotReady()
	return nil
}

// RegisterProbes implements health.Reporter.
func (e *readinessExtension) RegisterProbes(owner component.ID, probes []health.ProbeInfo) error {
	return e.state.registerProbes(owner, probes)
}

// ReportProbe implements health.Reporter.
func (e *readinessExtension) ReportProbe(owner component.ID, result health.ProbeResult) {
	e.state.reportProbe(owner, result)
}

// UnregisterProbes implements health.Reporter.
func (e *readinessExtension) UnregisterProbes(owner component.ID) {
	e.state.unregisterProbes(owner)
}
