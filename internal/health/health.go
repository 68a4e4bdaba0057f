// Package health holds the types that the health_probe receiver and the readiness
// extension share: the three-level health status, one probe's result, and the
// interface through which a receiver reports results to the extension.
package health // import "github.com/procode-ai/otelcol-procode/internal/health"

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Status is the health of one check or of the whole collector, in the three levels
// the ProCode framework documents.
type Status string

const (
	StatusHealthy   Status = "healthy"
	StatusDegraded  Status = "degraded"
	StatusUnhealthy Status = "unhealthy"
)

// Worse returns the more severe of two statuses; unknown values count as unhealthy.
func Worse(a, b Status) Status {
	if a.rank() >= b.rank() {
		return a
	}
	return b
}

func (s Status) rank() int {
	switch s {
	case StatusHealthy:
		return 0
	case StatusDegraded:
		return 1
	default:
		return 2
	}
}

// Valid reports whether s is one of the three defined statuses.
func (s Status) Valid() bool {
	return s == StatusHealthy || s == StatusDegraded || s == StatusUnhealthy
}

// ProbeInfo describes a probe before it has produced any result, so that readiness can
// wait for its first result and knows whether it gates readiness.
type ProbeInfo struct {
	Name     string
	Type     string
	Critical bool
}

// ProbeResult is the outcome of one run of one probe, as readiness shows it.
//
// Message must be short, bounded text written by the probe itself; it must never carry
// a secret, a URL with credentials or query string, or a response body. Details holds
// check-specific fields (for example free_gb for a disk probe) and is rendered as-is
// into the /health JSON, so its values must be JSON-encodable scalars.
type ProbeResult struct {
	Name      string
	Type      string
	Critical  bool
	Status    Status
	Latency   time.Duration
	Message   string
	ErrorType string
	Details   map[string]any
	Time      time.Time
}

// Reporter receives probe results. The readiness extension implements it; the
// health_probe receiver finds it through host.GetExtensions() by the component ID named
// in its config.
//
// Implementations must be safe for concurrent use and must not block for long: probes
// call ReportProbe from their own goroutines.
type Reporter interface {
	// RegisterProbes declares the probes that owner will report. It fails when a probe
	// name is already registered by another owner, because results are keyed by name.
	RegisterProbes(owner component.ID, probes []ProbeInfo) error
	// ReportProbe records the newest result of one registered probe. Results for
	// probes that owner did not register are ignored.
	ReportProbe(owner component.ID, result ProbeResult)
	// UnregisterProbes forgets every probe of owner, for example at its shutdown.
	UnregisterProbes(owner component.ID)
}

// FindReporter returns the Reporter registered as extension id, or an error an operator
// can act on when it is missing or of the wrong type.
func FindReporter(extensions map[component.ID]component.Component, id component.ID) (Reporter, error) {
	ext, ok := extensions[id]
	if !ok {
		return nil, fmt.Errorf("readiness extension %q is not configured: add it under extensions and to service::extensions, or remove the readiness setting", id)
	}
	r, ok := ext.(Reporter)
	if !ok {
		return nil, fmt.Errorf("extension %q is of type %q, which cannot receive probe results: name a readiness extension", id, id.Type())
	}
	return r, nil
}
