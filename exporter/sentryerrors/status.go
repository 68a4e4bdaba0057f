package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
)

// statusReporter reports the outcome of each attempt to send to Sentry as the
// exporter's component status, which exporterhelper does not do: a network error, a 5xx
// or a rate limit is a recoverable error (with its text), a delivered request is OK.
// Any status watcher sees it (the readiness extension, contrib's healthcheckv2). A
// request Sentry answered but rejected for good (4xx) leaves the status as it is: Sentry
// is reachable; the events lost are counted (otelcol_exporter_send_failed_*,
// otelcol_exporter_sentry_errors_events_dropped) and the readiness extension's delivery
// check reports them.
//
// One per signal (the traces and logs exporters of one component are separate
// instances with a status each). The zero value is ready to use; it reports nothing
// until start gives it the host.
type statusReporter struct {
	mu      sync.Mutex
	host    component.Host
	failing bool
	lastErr string
}

// start keeps the host that status is reported through.
func (r *statusReporter) start(host component.Host) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.host = host
}

// wrap returns push reporting the outcome of every attempt.
func (r *statusReporter) wrap(push xexporterhelper.RequestConsumeFunc) xexporterhelper.RequestConsumeFunc {
	return func(ctx context.Context, req xexporterhelper.Request) error {
		err := push(ctx, req)
		r.report(err)
		return err
	}
}

// report sends a status event when the outcome differs from the last one reported.
func (r *statusReporter) report(err error) {
	if err != nil && consumererror.IsPermanent(err) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host == nil {
		return
	}
	if err == nil {
		if r.failing {
			r.failing, r.lastErr = false, ""
			componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
		}
		return
	}
	if text := err.Error(); !r.failing || text != r.lastErr {
		r.failing, r.lastErr = true, text
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
	}
}
