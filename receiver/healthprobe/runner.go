package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// numErrorTypes bounds the error.type enum (values start at 1).
const numErrorTypes = int(metadata.AttributeErrorTypeOther) + 1

// runner runs one configured probe and keeps its state across runs: the debounced
// status and the error counters. Only one goroutine uses a runner at a time.
type runner struct {
	cfg      *ProbeConfig
	probeTyp metadata.AttributeProbeType
	timeout  time.Duration
	prober   prober

	status   health.Status // "" until the first result
	failures int           // consecutive failed runs
	passes   int           // consecutive passed runs
	errors   [numErrorTypes]int64

	last run // the newest run, read when recording metrics
}

// run is one finished run of a probe.
type run struct {
	done     bool // false when the run was abandoned at shutdown
	start    time.Time
	duration time.Duration
	outcome  outcome
	status   health.Status
	message  string
}

func newRunner(cfg *ProbeConfig, receiverTimeout time.Duration, telemetry component.TelemetrySettings) (*runner, error) {
	r := &runner{
		cfg:      cfg,
		probeTyp: metadata.MapAttributeProbeType[cfg.Type],
		timeout:  cfg.effectiveTimeout(receiverTimeout),
	}
	var err error
	switch cfg.Type {
	case typeHTTP:
		r.prober, err = newHTTPProber(cfg, telemetry)
	case typeTCP:
		r.prober = newTCPProber(cfg)
	case typePostgreSQL:
		r.prober, err = newPostgreSQLProber(cfg)
	case typeDisk:
		r.prober = newDiskProber(cfg)
	case typeMemory:
		r.prober = newMemoryProber(cfg)
	default:
		err = fmt.Errorf("probe %q: unknown type %q", cfg.Name, cfg.Type)
	}
	return r, err
}

// execute runs the probe once within its timeout, updates the status and returns the
// run. A run cut short because the receiver is shutting down is not done.
func (r *runner) execute(parent context.Context) run {
	ctx, cancel := context.WithTimeout(parent, r.timeout)
	defer cancel()
	start := time.Now()
	o := r.prober.probe(ctx)
	elapsed := time.Since(start)
	if parent.Err() != nil {
		return run{}
	}
	if !o.ok && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		o.errorType = metadata.AttributeErrorTypeTimeout
		o.message = fmt.Sprintf("timed out after %s", r.timeout)
	}
	res := run{done: true, start: start, duration: elapsed, outcome: o}
	// Failure text from libraries was cleaned when the outcome was made (failed,
	// failedErr); everything else in a message is written here from numbers.
	res.status, res.message = r.update(o, elapsed)
	r.last = res
	return res
}

// update applies one outcome to the status. The first result sets the status directly;
// after that failure_threshold consecutive failures make the probe unhealthy and
// success_threshold consecutive passes make it healthy (or degraded) again.
func (r *runner) update(o outcome, elapsed time.Duration) (health.Status, string) {
	msg := o.message
	if o.ok {
		r.failures = 0
		r.passes++
		pass := health.StatusHealthy
		if o.degraded {
			pass = health.StatusDegraded
		}
		if r.cfg.DegradedLatency > 0 && elapsed > r.cfg.DegradedLatency {
			pass = health.StatusDegraded
			msg = fmt.Sprintf("%s; slower than degraded_latency %s", msg, r.cfg.DegradedLatency)
		}
		switch {
		case r.status != health.StatusUnhealthy, r.passes >= r.cfg.SuccessThreshold:
			r.status = pass
		default:
			msg = fmt.Sprintf("recovering, %d of %d passes needed: %s", r.passes, r.cfg.SuccessThreshold, msg)
		}
		return r.status, msg
	}
	r.passes = 0
	r.failures++
	if o.errorType > 0 && int(o.errorType) < numErrorTypes {
		r.errors[o.errorType]++
	}
	switch {
	case r.status == "", r.status == health.StatusUnhealthy, r.failures >= r.cfg.FailureThreshold:
		r.status = health.StatusUnhealthy
	default:
		msg = fmt.Sprintf("failed %d of %d times allowed: %s", r.failures, r.cfg.FailureThreshold, msg)
	}
	return r.status, msg
}

// result is the run as the readiness extension shows it.
func (r *runner) result(res run) health.ProbeResult {
	pr := health.ProbeResult{
		Name:     r.cfg.Name,
		Type:     r.cfg.Type,
		Critical: r.cfg.Critical,
		Status:   res.status,
		Latency:  res.duration,
		Message:  res.message,
		Time:     res.start.Add(res.duration),
		Details:  map[string]any{"category": r.cfg.Category},
	}
	if !res.outcome.ok {
		pr.ErrorType = res.outcome.errorType.String()
	}
	for k, v := range res.outcome.details {
		pr.Details[k] = v
	}
	return pr
}
