// Package delivery lets the readiness extension see, inside the process, what the
// collector's exporters and memory limiters record about their own work: items sent,
// items given up on after a failed send, items refused by a full sending queue, the size
// and capacity of each sending queue, items a memory limiter refused, and the error of
// each failed attempt.
//
// Why: exporterhelper (collector v0.161.0) reports no component status, so an exporter
// whose backend is down looks healthy to every status watcher (collector #13013,
// collector-contrib #11780). What it does record goes to the collector's own telemetry:
// its metrics (otelcol_exporter_*) and, for each failed attempt that it retries, a log
// entry. This package observes both where they are produced, in the telemetry the
// collector's telemetry factory builds (see internal/owntelemetry):
//
//   - MeterProvider wraps the collector's meter provider. The few instruments it knows by
//     name (exporterhelper's sent/send_failed/enqueue_failed counters and queue gauges,
//     memory_limiter's refused counters) record into the wrapped provider as before and,
//     in the same call, into an Observer; every other instrument is the wrapped one,
//     untouched. So it works whatever service::telemetry::metrics says: level none
//     (the wrapped provider is a no-op), views that drop these series, or a reader on
//     another port.
//   - WrapCore wraps the collector's logger core and reads the few entries that carry a
//     failed attempt's error ("Exporting failed. Will retry the request after
//     interval.", "... Dropping data.", "... Rejecting data.", memory_limiter's
//     "... Refusing data."), whatever the log level. An entry is recognised by its
//     message; the component ID, the error and the counts are its structured fields.
//
// A readiness extension finds the Observer of its own collector through the meter
// provider it is given (Find) and subscribes to its events.
package delivery // import "github.com/procode-ai/otelcol-procode/internal/delivery"

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Kind says what an Event reports.
type Kind int

const (
	// Sent: an exporter delivered Items.
	Sent Kind = iota + 1
	// Retrying: an exporter's send attempt failed with Err and will be retried.
	Retrying
	// SendFailed: an exporter gave up on Items after a failed send (a permanent error,
	// retries exhausted, or retry off). Permanent says which error it was.
	SendFailed
	// EnqueueFailed: an exporter's full sending queue refused Items.
	EnqueueFailed
	// Dropped: an exporter logged why it dropped or rejected data (Err), right after
	// counting it as SendFailed or EnqueueFailed.
	Dropped
	// Refused: a memory limiter (Component is the processor) refused Items.
	Refused
	// Refusing: a memory limiter started refusing data; Err says why.
	Refusing
)

// Event is one observation. Component is the exporter's (or for Refused and Refusing the
// processor's) component ID, as in the otelcol_exporter_* series' exporter label.
type Event struct {
	Kind      Kind
	Component string
	Signal    string // traces, metrics, logs or profiles; empty when not known
	Items     int64
	Permanent bool
	Err       string // cleaned of credentials and bounded (safetext)
	Time      time.Time
}

// Sink receives events. Implementations must be safe for concurrent use and quick: they
// are called on the exporters' own goroutines.
type Sink interface {
	DeliveryEvent(Event)
}

// Queue is one sending queue's size and capacity, in the queue's sizer unit (requests
// by default).
type Queue struct {
	Exporter string
	Signal   string
	Size     int64
	Capacity int64
}

// Observer hands events to its sinks and reads the sending queues on demand.
type Observer struct {
	now   func() time.Time
	sinks atomic.Pointer[[]Sink]

	mu        sync.Mutex
	callbacks map[*callbackReg]struct{}
	subMu     sync.Mutex // serialises changes to sinks
}

// NewObserver returns an Observer with no sinks.
func NewObserver() *Observer {
	return newObserverWithClock(time.Now)
}

func newObserverWithClock(now func() time.Time) *Observer {
	return &Observer{now: now, callbacks: map[*callbackReg]struct{}{}}
}

// Subscribe adds s; the returned function removes it.
func (o *Observer) Subscribe(s Sink) (unsubscribe func()) {
	o.subMu.Lock()
	defer o.subMu.Unlock()
	var current []Sink
	if p := o.sinks.Load(); p != nil {
		current = *p
	}
	next := append(slices.Clone(current), s)
	o.sinks.Store(&next)
	var once sync.Once
	return func() {
		once.Do(func() {
			o.subMu.Lock()
			defer o.subMu.Unlock()
			cur := *o.sinks.Load()
			i := slices.Index(cur, s)
			if i < 0 {
				return
			}
			rest := slices.Delete(slices.Clone(cur), i, i+1)
			o.sinks.Store(&rest)
		})
	}
}

func (o *Observer) emit(ev Event) {
	p := o.sinks.Load()
	if p == nil || len(*p) == 0 {
		return
	}
	ev.Time = o.now()
	for _, s := range *p {
		s.DeliveryEvent(ev)
	}
}

// Queues reads every sending queue now, by calling the callbacks that exporterhelper
// registered for otelcol_exporter_queue_size and otelcol_exporter_queue_capacity.
func (o *Observer) Queues(ctx context.Context) []Queue {
	o.mu.Lock()
	regs := make([]*callbackReg, 0, len(o.callbacks))
	for r := range o.callbacks {
		regs = append(regs, r)
	}
	o.mu.Unlock()

	rec := &queueRecorder{byKey: map[[2]string]*Queue{}}
	for _, r := range regs {
		r.observe(ctx, rec)
	}
	out := make([]Queue, 0, len(rec.byKey))
	for _, q := range rec.byKey {
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b Queue) int {
		if a.Exporter != b.Exporter {
			if a.Exporter < b.Exporter {
				return -1
			}
			return 1
		}
		if a.Signal < b.Signal {
			return -1
		}
		if a.Signal > b.Signal {
			return 1
		}
		return 0
	})
	return out
}

func (o *Observer) addCallback(r *callbackReg) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.callbacks[r] = struct{}{}
}

func (o *Observer) removeCallback(r *callbackReg) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.callbacks, r)
}

// Find returns the Observer behind mp, the meter provider a component was given, when
// the collector's telemetry factory wrapped it (MeterProvider). A component's meter
// provider may be wrapped again by the service (to add component attributes), so Find
// asks for a meter of ScopeName, which every wrapper passes through unchanged.
func Find(mp metric.MeterProvider) (*Observer, bool) {
	if mp == nil {
		return nil, false
	}
	m, ok := mp.Meter(ScopeName).(*observerMeter)
	if !ok {
		return nil, false
	}
	return m.obs, true
}
