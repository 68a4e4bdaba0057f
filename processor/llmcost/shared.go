package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/processor"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// pricer is what the traces and logs instances of one configured llm_cost component
// share: the engine (price table, resolution cache, unpriced-model labels) and the
// reloader of its price sources, so that a component in two pipelines polls and
// fetches its sources once, resolves each model once and bounds its labels once.
//
// The collector hands both instances the same *Config, which is the key (as the
// upstream receivers that share one instance across signals do). The pricer starts with
// the first instance that starts and shuts down with the last that shuts down; its
// status events go to every instance's host (see fanoutHost).
type pricer struct {
	cfg      *Config
	eng      *engine
	reloader *reloader
	tb       *metadata.TelemetryBuilder
	host     *fanoutHost

	startOnce sync.Once
	startErr  error
	refs      int // instances created and not yet shut down; guarded by pricers.mu
}

var pricers = struct {
	mu sync.Mutex
	m  map[*Config]*pricer
}{m: map[*Config]*pricer{}}

// acquirePricer returns the pricer of cfg, making it for the first instance.
func acquirePricer(set processor.Settings, cfg *Config) (*pricer, error) {
	pricers.mu.Lock()
	defer pricers.mu.Unlock()
	if p := pricers.m[cfg]; p != nil {
		p.refs++
		return p, nil
	}
	base, err := pricing.Builtin()
	if err != nil {
		return nil, fmt.Errorf("embedded price table: %w", err)
	}
	inline, err := pricing.Models(cfg.Prices)
	if err != nil {
		return nil, err
	}
	table, err := base.WithOverrides(inline)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &pricer{cfg: cfg, eng: newEngine(cfg, table), tb: tb, host: &fanoutHost{}, refs: 1}
	if p.reloader, err = newReloader(set.ID, set.TelemetrySettings, cfg, base, inline, p.eng.setTable, tb); err != nil {
		tb.Shutdown()
		return nil, err
	}
	pricers.m[cfg] = p
	return p, nil
}

// start starts the pricer once; every instance's host receives its status events.
func (p *pricer) start(ctx context.Context, host component.Host) error {
	p.host.add(host)
	p.startOnce.Do(func() { p.startErr = p.reloader.start(ctx, p.host) })
	return p.startErr
}

// release is an instance's shutdown: the last one shuts the pricer down.
func (p *pricer) release(ctx context.Context) error {
	pricers.mu.Lock()
	p.refs--
	last := p.refs == 0
	if last && pricers.m[p.cfg] == p {
		delete(pricers.m, p.cfg)
	}
	pricers.mu.Unlock()
	if !last {
		return nil
	}
	err := p.reloader.shutdown(ctx)
	p.tb.Shutdown()
	return err
}

// fanoutHost is the host the shared reloader sees: extensions come from the first
// instance's host, status events go to every instance's host, and an instance that
// starts later is told the last event first.
type fanoutHost struct {
	mu    sync.Mutex
	hosts []component.Host
	last  *componentstatus.Event
}

var (
	_ component.Host           = (*fanoutHost)(nil)
	_ componentstatus.Reporter = (*fanoutHost)(nil)
)

func (h *fanoutHost) add(host component.Host) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts = append(h.hosts, host)
	if h.last != nil {
		componentstatus.ReportStatus(host, h.last)
	}
}

func (h *fanoutHost) GetExtensions() map[component.ID]component.Component {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.hosts) == 0 {
		return nil
	}
	return h.hosts[0].GetExtensions()
}

func (h *fanoutHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = ev
	for _, host := range h.hosts {
		componentstatus.ReportStatus(host, ev)
	}
}
