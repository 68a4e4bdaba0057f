package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"
)

// healthProbeReceiver is the scraper controller plus what the controller cannot do: cut
// running probes short at shutdown instead of waiting for their timeouts, and tolerate
// a second Shutdown.
type healthProbeReceiver struct {
	controller receiver.Metrics
	scraper    *probeScraper
	once       sync.Once
	err        error
}

func (r *healthProbeReceiver) Start(ctx context.Context, host component.Host) error {
	return r.controller.Start(ctx, host)
}

func (r *healthProbeReceiver) Shutdown(ctx context.Context) error {
	r.once.Do(func() {
		r.scraper.stop()
		r.err = r.controller.Shutdown(ctx)
	})
	return r.err
}
