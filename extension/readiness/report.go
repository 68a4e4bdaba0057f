package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/procode-ai/otelcol-procode/internal/delivery"
	"github.com/procode-ai/otelcol-procode/internal/health"
)

// check is one named entry of /health or /ready, computed from the state at one instant.
type check struct {
	name string
	// status is the check's own health; effect is what it does to the whole: a failing
	// non-critical probe is unhealthy itself but only degrades the collector.
	status  health.Status
	effect  health.Status
	ready   bool
	gates   bool // a delivery check that is also one of /ready's
	latency time.Duration
	message string
	fields  map[string]any
}

// report is a consistent snapshot of every check.
type report struct {
	now    time.Time
	fatal  string
	phase  lifecycle
	health []check
	ready  []check
}

// report computes every check now. queues are the sending queues as read just before
// (outside the lock: reading them calls into the exporters).
func (s *state) report(queues []delivery.Queue) report {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	r := report{now: now, fatal: s.fatal, phase: s.phase}

	// Group component instances by pipeline; components outside pipelines are extensions.
	groups := map[string][]*componentState{}
	for _, cs := range s.components {
		if len(cs.pipelines) == 0 {
			groups[extensionCheck] = append(groups[extensionCheck], cs)
			continue
		}
		for _, p := range cs.pipelines {
			groups[pipelinePrefix+p.String()] = append(groups[pipelinePrefix+p.String()], cs)
		}
	}
	names := make([]string, 0, len(groups))
	for name := range groups {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := s.componentGroupCheck(name, groups[name], now)
		r.health = append(r.health, c)
		r.ready = append(r.ready, c)
	}

	r.ready = append(r.ready, s.pipelinesCheck(), s.warmupCheck(now))

	probeNames := make([]string, 0, len(s.probes))
	for name := range s.probes {
		probeNames = append(probeNames, name)
	}
	sort.Strings(probeNames)
	for _, name := range probeNames {
		c := probeCheck(s.probes[name])
		r.health = append(r.health, c)
		r.ready = append(r.ready, c)
	}
	if s.delivery != nil {
		for _, c := range s.deliveryChecksLocked(queues, now) {
			r.health = append(r.health, c)
			if c.gates {
				r.ready = append(r.ready, c)
			}
		}
	}
	sortChecks(r.health)
	sortChecks(r.ready)
	return r
}

// deliveryChecksLocked is the check of every exporter and memory limiter.
func (s *state) deliveryChecksLocked(queues []delivery.Queue, now time.Time) []check {
	d := s.delivery
	byExporter := map[string][]delivery.Queue{}
	for _, q := range queues {
		byExporter[q.Exporter] = append(byExporter[q.Exporter], q)
		d.exporter(q.Exporter)
	}
	ids := make([]string, 0, len(d.exporters))
	for id := range d.exporters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	checks := make([]check, 0, len(ids)+len(d.limiters))
	for _, id := range ids {
		c := d.exporterCheck(d.exporters[id], byExporter[id], now)
		c.gates = d.gated[exporterPrefix+id]
		checks = append(checks, c)
	}
	ids = ids[:0]
	for id := range d.limiters {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		checks = append(checks, d.limiterCheck(d.limiters[id], now))
	}
	return checks
}

func (s *state) componentGroupCheck(name string, members []*componentState, now time.Time) check {
	sort.Slice(members, func(i, j int) bool { return members[i].name < members[j].name })
	c := check{name: name, status: health.StatusHealthy, ready: true, fields: map[string]any{}}
	statuses := make(map[string]any, len(members))
	var problems []string
	for _, cs := range members {
		h := s.componentHealth(cs, now)
		c.status = health.Worse(c.status, h)
		statuses[cs.name] = statusName(cs.status)
		if h == health.StatusHealthy {
			continue
		}
		if h == health.StatusUnhealthy && s.gatesReadiness(cs) {
			c.ready = false
		}
		p := fmt.Sprintf("%s %s for %s", cs.name, strings.ReplaceAll(statusName(cs.status), "_", " "), now.Sub(cs.since).Round(time.Second))
		if cs.err != "" {
			p += ": " + cs.err
		}
		problems = append(problems, p)
	}
	c.effect = c.status
	c.fields["components"] = statuses
	if len(problems) == 0 {
		c.message = fmt.Sprintf("%d component(s) running", len(members))
	} else {
		c.message = strings.Join(problems, "; ")
	}
	return c
}

func (s *state) pipelinesCheck() check {
	c := check{name: checkPipelines, status: health.StatusHealthy, effect: health.StatusHealthy}
	switch s.phase {
	case lifecycleStarting:
		c.message = "pipelines are starting"
	case lifecycleReady:
		c.ready = true
		c.message = "all pipelines started"
	default:
		c.message = "shutting down: not accepting new traffic"
	}
	return c
}

func (s *state) warmupCheck(now time.Time) check {
	c := check{name: checkWarmup, status: health.StatusHealthy, effect: health.StatusHealthy}
	var waiting []string
	for name, ps := range s.probes {
		if !ps.reported {
			waiting = append(waiting, name)
		}
	}
	sort.Strings(waiting)
	elapsed := now.Sub(s.startedAt)
	switch {
	case len(waiting) == 0:
		c.ready = true
		c.message = fmt.Sprintf("all %d probes reported", len(s.probes))
	case elapsed >= s.warmupTimeout:
		c.ready = true
		c.message = fmt.Sprintf("warmup_timeout %s passed; still waiting for %s", s.warmupTimeout, strings.Join(waiting, ", "))
	default:
		c.message = fmt.Sprintf("waiting for the first result of %s", strings.Join(waiting, ", "))
	}
	return c
}

func probeCheck(ps *probeState) check {
	c := check{
		name:  ps.info.Name,
		ready: true,
		fields: map[string]any{
			"type":     ps.info.Type,
			"critical": ps.info.Critical,
		},
	}
	if !ps.reported {
		// Unknown is not healthy: say degraded until the first result arrives.
		c.status, c.effect = health.StatusDegraded, health.StatusDegraded
		c.message = "waiting for the first result"
		return c
	}
	res := ps.result
	c.status = res.Status
	c.effect = res.Status
	if res.Status == health.StatusUnhealthy && !ps.info.Critical {
		c.effect = health.StatusDegraded
	}
	c.ready = !(ps.info.Critical && res.Status == health.StatusUnhealthy)
	c.latency = res.Latency
	c.message = res.Message
	if !res.Time.IsZero() {
		c.fields["last_checked"] = res.Time.UTC().Format(time.RFC3339)
	}
	if res.ErrorType != "" {
		c.fields["error_type"] = res.ErrorType
	}
	for k, v := range res.Details {
		if _, taken := c.fields[k]; !taken && !reservedField(k) {
			c.fields[k] = v
		}
	}
	return c
}

func reservedField(k string) bool {
	return k == "status" || k == "latency_ms" || k == "message" || k == "ready"
}

func sortChecks(cs []check) {
	slices.SortFunc(cs, func(a, b check) int { return strings.Compare(a.name, b.name) })
}

func statusName(st componentstatus.Status) string {
	switch st {
	case componentstatus.StatusStarting:
		return "starting"
	case componentstatus.StatusOK:
		return "ok"
	case componentstatus.StatusRecoverableError:
		return "recoverable_error"
	case componentstatus.StatusPermanentError:
		return "permanent_error"
	case componentstatus.StatusFatalError:
		return "fatal_error"
	case componentstatus.StatusStopping:
		return "stopping"
	case componentstatus.StatusStopped:
		return "stopped"
	default:
		return "none"
	}
}

// latencyMS renders a duration in milliseconds with microsecond precision.
func latencyMS(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
