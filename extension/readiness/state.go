package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/procode-ai/otelcol-procode/internal/delivery"
	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// memoryLimiterType is the component type whose refusals get a processor:<id> check.
const memoryLimiterType = "memory_limiter"

// Check names that /ready always has. Probe names are lower_snake_case, so the
// receiver cannot register them; pipeline checks are prefixed with "pipeline:".
const (
	checkPipelines = "pipelines"
	checkWarmup    = "warmup"
	pipelinePrefix = "pipeline:"
	extensionCheck = "extensions"
)

var reservedNames = []string{checkPipelines, checkWarmup, extensionCheck}

// lifecycle is where the collector's service is in starting and stopping pipelines.
type lifecycle int

const (
	lifecycleStarting lifecycle = iota // before PipelineWatcher.Ready
	lifecycleReady                     // after Ready, before NotReady
	lifecycleStopping                  // after NotReady
)

type componentState struct {
	name      string // "exporter:otlp"
	kind      component.Kind
	typ       string // "otlp"
	id        string // "otlp/traces"
	pipelines []pipeline.ID
	status    componentstatus.Status
	err       string // cleaned, bounded
	since     time.Time
}

type probeState struct {
	owner    component.ID
	info     health.ProbeInfo
	reported bool
	result   health.ProbeResult
}

// heldEvent is the latest event of a component while pipelines start, and when its
// status became the one it has (what recordLocked would have made of every event).
type heldEvent struct {
	source   *componentstatus.InstanceID
	event    *componentstatus.Event
	received time.Time
}

// state is the extension's knowledge of the collector: component statuses, lifecycle
// and probe results. Every method is safe for concurrent use.
type state struct {
	recoveryDuration time.Duration
	warmupTimeout    time.Duration
	now              func() time.Time

	mu         sync.Mutex
	phase      lifecycle
	startedAt  time.Time // when the extension started; warmup counts from here
	components map[componentstatus.InstanceID]*componentState
	held       map[componentstatus.InstanceID]*heldEvent // one per component: bounded however often it flaps
	fatal      string
	probes     map[string]*probeState
	delivery   *deliveryState  // nil when delivery checks are off
	gated      map[string]bool // gate_readiness: "processor:llm_cost", ...
}

func newState(cfg *Config, now func() time.Time) *state {
	s := &state{
		recoveryDuration: cfg.RecoveryDuration,
		warmupTimeout:    cfg.WarmupTimeout,
		now:              now,
		startedAt:        now(),
		components:       map[componentstatus.InstanceID]*componentState{},
		held:             map[componentstatus.InstanceID]*heldEvent{},
		probes:           map[string]*probeState{},
		gated:            map[string]bool{},
	}
	for _, name := range cfg.GateReadiness {
		s.gated[name] = true
	}
	if cfg.Delivery.Enabled {
		s.delivery = newDeliveryState(cfg.Delivery, s.gated)
	}
	return s
}

// deliveryEvent records what an exporter or memory limiter recorded about its work.
func (s *state) deliveryEvent(ev delivery.Event) {
	if s.delivery == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivery.record(ev, s.now())
}

func (s *state) markStarted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startedAt = s.now()
}

// setReady records that every pipeline has started and applies the component events
// held back until now, so that the aggregate does not flap while components start one
// by one.
func (s *state) setReady() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == lifecycleStarting {
		s.phase = lifecycleReady
	}
	for _, h := range s.held {
		s.recordLocked(h.source, h.event, h.received)
	}
	clear(s.held)
}

func (s *state) setNotReady() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase = lifecycleStopping
}

func (s *state) componentStatusChanged(source *componentstatus.InstanceID, event *componentstatus.Event) {
	if source == nil || event == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if event.Status() == componentstatus.StatusFatalError {
		// A fatal error ends the process; livez must say so at once, whatever the phase.
		s.fatal = componentName(source) + ": " + safetext.Error(event.Err())
	}
	if s.phase == lifecycleStarting && event.Status() != componentstatus.StatusStarting {
		if h, ok := s.held[*source]; ok && h.event.Status() == event.Status() {
			h.event = event // same status: it has held it since h.received
			return
		}
		s.held[*source] = &heldEvent{source: source, event: event, received: s.now()}
		return
	}
	s.recordLocked(source, event, s.now())
}

// recordLocked applies one event. Durations are measured from when the extension
// received the event, on its own clock, so that they are consistent with "now".
func (s *state) recordLocked(source *componentstatus.InstanceID, event *componentstatus.Event, received time.Time) {
	cs, ok := s.components[*source]
	if !ok {
		cs = &componentState{
			name: componentName(source), kind: source.Kind(),
			typ: source.ComponentID().Type().String(), id: source.ComponentID().String(),
		}
		source.AllPipelineIDs(func(id pipeline.ID) bool {
			cs.pipelines = append(cs.pipelines, id)
			return true
		})
		s.components[*source] = cs
	}
	if cs.status != event.Status() {
		cs.since = received
	}
	cs.status = event.Status()
	cs.err = safetext.Error(event.Err())
	s.deliveryStatusLocked(cs, received)
}

// deliveryStatusLocked gives every exporter and memory limiter a delivery check from its
// first status event on, and takes an exporter's own reports of failed and successful
// sends into its delivery.
func (s *state) deliveryStatusLocked(cs *componentState, at time.Time) {
	if s.delivery == nil {
		return
	}
	switch {
	case cs.kind == component.KindExporter:
		signal := "" // an exporter instance serves pipelines of one signal
		if len(cs.pipelines) > 0 {
			signal = cs.pipelines[0].Signal().String()
		}
		switch cs.status {
		case componentstatus.StatusRecoverableError:
			s.delivery.componentStatus(cs.id, signal, true, cs.err, at)
		case componentstatus.StatusOK:
			s.delivery.componentStatus(cs.id, signal, false, "", at)
		default:
			s.delivery.exporter(cs.id)
		}
	case cs.kind == component.KindProcessor && cs.typ == memoryLimiterType:
		s.delivery.limiter(cs.id)
	}
}

// gatesReadiness says whether a component's errors may fail /ready (and a recoverable
// error turn unhealthy after recovery_duration): a receiver's or an extension's, as
// this collector cannot take data or serve without them; a processor's, connector's or
// exporter's only when gate_readiness names it. Those keep taking data (llm_cost prices
// from its last good copy, memory_limiter answers senders with a retryable error, an
// exporter queues), and their causes are usually shared by every replica: taking all of
// them out of rotation would stop the apps' telemetry from arriving at all.
func (s *state) gatesReadiness(cs *componentState) bool {
	switch cs.kind {
	case component.KindReceiver, component.KindExtension:
		return true
	}
	return s.gated[cs.name]
}

// unknownGates are the gate_readiness entries that name no component of this collector.
func (s *state) unknownGates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	for _, cs := range s.components {
		known[cs.name] = true
	}
	var unknown []string
	for name := range s.gated {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	return unknown
}

func (s *state) registerProbes(owner component.ID, probes []health.ProbeInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range probes {
		if slices.Contains(reservedNames, p.Name) || strings.HasPrefix(p.Name, pipelinePrefix) {
			return fmt.Errorf("probe name %q is reserved by the readiness extension: choose another name", p.Name)
		}
		if existing, ok := s.probes[p.Name]; ok && existing.owner != owner {
			return fmt.Errorf("probe name %q is already registered by %q: probe names must be unique across health_probe receivers", p.Name, existing.owner)
		}
	}
	for _, p := range probes {
		s.probes[p.Name] = &probeState{owner: owner, info: p}
	}
	return nil
}

func (s *state) reportProbe(owner component.ID, r health.ProbeResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.probes[r.Name]
	if !ok || ps.owner != owner {
		return
	}
	if !r.Status.Valid() {
		r.Status = health.StatusUnhealthy
	}
	ps.reported = true
	ps.result = r
}

func (s *state) unregisterProbes(owner component.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, ps := range s.probes {
		if ps.owner == owner {
			delete(s.probes, name)
		}
	}
}

// componentHealth maps a component status to the three health levels at time now. A
// component that does not gate readiness stays degraded in a recoverable error however
// long it lasts (an exporter's delivery check says whether data is being lost); an
// exporter, with delivery checks on, only from failing_after on.
func (s *state) componentHealth(cs *componentState, now time.Time) health.Status {
	switch cs.status {
	case componentstatus.StatusRecoverableError:
		if now.Sub(cs.since) > s.recoveryDuration && s.gatesReadiness(cs) {
			return health.StatusUnhealthy
		}
		if cs.kind == component.KindExporter && s.delivery != nil && now.Sub(cs.since) < s.delivery.cfg.FailingAfter {
			// A failed send: its delivery check tolerates failing_after, and so does
			// the pipeline, or one refused connection would degrade /health at once.
			return health.StatusHealthy
		}
		return health.StatusDegraded
	case componentstatus.StatusPermanentError, componentstatus.StatusFatalError:
		return health.StatusUnhealthy
	default:
		return health.StatusHealthy
	}
}

func componentName(id *componentstatus.InstanceID) string {
	return strings.ToLower(id.Kind().String()) + ":" + id.ComponentID().String()
}
