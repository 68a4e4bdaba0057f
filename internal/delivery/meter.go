package delivery // import "github.com/procode-ai/otelcol-procode/internal/delivery"

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/metric/noop"
)

// ScopeName is the meter name through which Find reaches the Observer.
const ScopeName = "github.com/procode-ai/otelcol-procode/internal/delivery"

// The instruments observed, by name (collector v0.161.0: exporterhelper's
// internal/metadata and memorylimiterprocessor's). Each counter name ends in the unit of
// its signal.
const (
	sentPrefix          = "otelcol_exporter_sent_"
	sendFailedPrefix    = "otelcol_exporter_send_failed_"
	enqueueFailedPrefix = "otelcol_exporter_enqueue_failed_"
	refusedPrefix       = "otelcol_processor_memory_limiter_refused_"
	queueSizeName       = "otelcol_exporter_queue_size"
	queueCapacityName   = "otelcol_exporter_queue_capacity"
)

// Attribute keys those instruments use (exporterhelper's obs_report_sender.go and
// obs_queue.go, memorylimiterprocessor's obsreport.go).
const (
	exporterKey  = "exporter"
	processorKey = "processor"
	dataTypeKey  = "data_type"
	permanentKey = "error.permanent"
)

var unitSignals = map[string]string{
	"spans":           "traces",
	"metric_points":   "metrics",
	"log_records":     "logs",
	"profile_samples": "profiles",
}

// counterKind maps an instrument name to the event it reports, and its signal.
func counterKind(name string) (Kind, string, bool) {
	for prefix, kind := range map[string]Kind{
		sentPrefix: Sent, sendFailedPrefix: SendFailed, enqueueFailedPrefix: EnqueueFailed, refusedPrefix: Refused,
	} {
		if unit, ok := strings.CutPrefix(name, prefix); ok {
			if signal, known := unitSignals[unit]; known {
				return kind, signal, true
			}
		}
	}
	return 0, "", false
}

// upstreamProvider is the collector's meter provider as its telemetry factory returns it.
type upstreamProvider interface {
	metric.MeterProvider
	Shutdown(context.Context) error
}

// MeterProvider wraps the collector's meter provider: see the package documentation.
type MeterProvider struct {
	upstreamProvider
	obs *Observer
}

// NewMeterProvider wraps mp so that obs sees the instruments it observes.
func NewMeterProvider(mp upstreamProvider, obs *Observer) *MeterProvider {
	return &MeterProvider{upstreamProvider: mp, obs: obs}
}

// Meter returns the wrapped provider's meter, wrapped; for ScopeName, the meter through
// which Find reaches the Observer.
func (p *MeterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	if name == ScopeName {
		return &observerMeter{Meter: noop.Meter{}, obs: p.obs}
	}
	return &meter{Meter: p.upstreamProvider.Meter(name, opts...), obs: p.obs}
}

// observerMeter carries the Observer to Find; it measures nothing.
type observerMeter struct {
	metric.Meter
	obs *Observer
}

// meter is the wrapped provider's meter; the instruments it knows also report to obs.
type meter struct {
	metric.Meter
	obs *Observer
}

func (m *meter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	inst, err := m.Meter.Int64Counter(name, opts...)
	if err != nil {
		return inst, err
	}
	kind, signal, ok := counterKind(name)
	if !ok {
		return inst, nil
	}
	return &counter{Int64Counter: inst, obs: m.obs, kind: kind, signal: signal}, nil
}

func (m *meter) Int64ObservableGauge(name string, opts ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	inst, err := m.Meter.Int64ObservableGauge(name, opts...)
	if err != nil || (name != queueSizeName && name != queueCapacityName) {
		return inst, err
	}
	// exporterhelper reads the queues in callbacks it registers (RegisterCallback).
	return &gauge{Int64ObservableGauge: inst, capacity: name == queueCapacityName}, nil
}

// RegisterCallback registers f with the wrapped meter, with the observed gauges replaced
// by the wrapped provider's own instruments, and keeps it so that Observer.Queues can
// call it too.
func (m *meter) RegisterCallback(f metric.Callback, instruments ...metric.Observable) (metric.Registration, error) {
	observed := false
	inner := make([]metric.Observable, len(instruments))
	for i, inst := range instruments {
		inner[i] = inst
		if g, ok := inst.(*gauge); ok {
			observed = true
			inner[i] = g.Int64ObservableGauge
		}
	}
	if !observed {
		return m.Meter.RegisterCallback(f, instruments...)
	}
	reg, err := m.Meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		return f(ctx, unwrappingObserver{Observer: o})
	}, inner...)
	if err != nil {
		return nil, err
	}
	r := &callbackReg{cb: f}
	m.obs.addCallback(r)
	return &registration{inner: reg, obs: m.obs, reg: r}, nil
}

// counter records into the wrapped instrument and reports to the Observer.
type counter struct {
	metric.Int64Counter
	obs    *Observer
	kind   Kind
	signal string
}

func (c *counter) Add(ctx context.Context, incr int64, opts ...metric.AddOption) {
	c.Int64Counter.Add(ctx, incr, opts...)
	if incr <= 0 {
		return
	}
	attrs := metric.NewAddConfig(opts).Attributes()
	ev := Event{Kind: c.kind, Signal: c.signal, Items: incr}
	key := exporterKey
	if c.kind == Refused {
		key = processorKey
	}
	if v, ok := attrs.Value(attribute.Key(key)); ok {
		ev.Component = v.AsString()
	}
	if v, ok := attrs.Value(permanentKey); ok {
		ev.Permanent = v.AsBool()
	}
	c.obs.emit(ev)
}

// Enabled is true: the Observer takes every measurement, also when the wrapped provider
// (a no-op at metrics level none) would not.
func (*counter) Enabled(context.Context) bool { return true }

// gauge is an observed queue gauge; measurements on it go to the wrapped instrument.
type gauge struct {
	metric.Int64ObservableGauge
	capacity bool
}

// callbackReg is one registered callback that observes queue gauges.
type callbackReg struct {
	cb metric.Callback
}

func (r *callbackReg) observe(ctx context.Context, rec *queueRecorder) {
	_ = r.cb(ctx, rec)
}

type registration struct {
	embedded.Registration
	inner metric.Registration
	obs   *Observer
	reg   *callbackReg
}

func (r *registration) Unregister() error {
	r.obs.removeCallback(r.reg)
	return r.inner.Unregister()
}

// unwrappingObserver hands the wrapped provider's observer its own instruments.
type unwrappingObserver struct {
	metric.Observer
}

func (o unwrappingObserver) ObserveInt64(inst metric.Int64Observable, v int64, opts ...metric.ObserveOption) {
	if g, ok := inst.(*gauge); ok {
		inst = g.Int64ObservableGauge
	}
	o.Observer.ObserveInt64(inst, v, opts...)
}

// queueRecorder collects queue gauge readings for Observer.Queues.
type queueRecorder struct {
	embedded.Observer
	byKey map[[2]string]*Queue
}

func (*queueRecorder) ObserveFloat64(metric.Float64Observable, float64, ...metric.ObserveOption) {}

func (q *queueRecorder) ObserveInt64(inst metric.Int64Observable, v int64, opts ...metric.ObserveOption) {
	g, ok := inst.(*gauge)
	if !ok {
		return
	}
	attrs := metric.NewObserveConfig(opts).Attributes()
	exp, _ := attrs.Value(exporterKey)
	sig, _ := attrs.Value(dataTypeKey)
	key := [2]string{exp.AsString(), sig.AsString()}
	entry, ok := q.byKey[key]
	if !ok {
		entry = &Queue{Exporter: key[0], Signal: key[1]}
		q.byKey[key] = entry
	}
	if g.capacity {
		entry.Capacity = v
	} else {
		entry.Size = v
	}
}
