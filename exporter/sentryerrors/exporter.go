package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"github.com/procode-ai/otelcol-procode/internal/redirect"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// core is what the traces and logs exporters of one sentry_errors component share:
// the mapping, the Sentry projects with their rate limits, the fingerprint windows and
// the HTTP client.
type core struct {
	cfg     *Config
	set     exporter.Settings
	mapper  *mapper
	targets map[string]*target // by route; "" is dsn
	ua      string
	limiter *fingerprintLimiter

	startOnce sync.Once
	startErr  error
	client    *http.Client
}

func newCore(cfg *Config, set exporter.Settings) (*core, error) {
	c := &core{
		cfg:     cfg,
		set:     set,
		mapper:  newMapper(cfg, set.BuildInfo.Version),
		limiter: newFingerprintLimiter(cfg.FingerprintLimit),
		targets: map[string]*target{},
	}
	c.ua = "otelcol-procode/" + c.mapper.sdk.Version
	if cfg.DSN != "" {
		t, err := newTarget(string(cfg.DSN), c.ua)
		if err != nil {
			return nil, errors.New("dsn is not a valid Sentry DSN") // Validate said why
		}
		c.targets[""] = t
	}
	for svc, dsn := range cfg.DSNByService {
		t, err := newTarget(string(dsn), c.ua)
		if err != nil {
			return nil, fmt.Errorf("dsn_by_service::%s is not a valid Sentry DSN", svc)
		}
		c.targets[svc] = t
	}
	return c, nil
}

// start builds the HTTP client (auth extensions need the host) and says once what an
// empty DSN means.
func (c *core) start(ctx context.Context, host component.Host) error {
	c.startOnce.Do(func() {
		client, err := c.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), c.set.TelemetrySettings)
		if err != nil {
			c.startErr = errors.New(safetext.Error(err))
			return
		}
		client.CheckRedirect = sameOrigin
		c.client = client
		c.sayWhatIsSent()
	})
	return c.startErr
}

func (c *core) sayWhatIsSent() {
	switch {
	case !c.cfg.hasDSN():
		c.set.Logger.Warn("Sentry is off: dsn is empty, so error events are counted as dropped " +
			`(otelcol_exporter_sentry_errors_events_dropped{reason="no_dsn"}) and not sent; set dsn (for example SENTRY_DSN) to send them`)
	case c.cfg.DSN == "":
		services := make([]string, 0, len(c.cfg.DSNByService))
		for s := range c.cfg.DSNByService {
			services = append(services, s)
		}
		sort.Strings(services)
		c.set.Logger.Info(`dsn is empty: only the services in dsn_by_service are sent to Sentry; the error events of other services are counted as dropped (reason "no_dsn")`,
			zap.Strings("services", services))
	}
}

func (c *core) shutdown() {
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
}

// The traces and logs exporters of one component share a core (rate limits per DSN,
// fingerprint windows, one start message); it lives while either is in use.
var (
	coresMu sync.Mutex
	cores   = map[*Config]*sharedCore{}
)

type sharedCore struct {
	*core
	refs int
}

func acquireCore(cfg *Config, set exporter.Settings) (*core, error) {
	coresMu.Lock()
	defer coresMu.Unlock()
	sc, ok := cores[cfg]
	if !ok {
		c, err := newCore(cfg, set)
		if err != nil {
			return nil, err
		}
		sc = &sharedCore{core: c}
		cores[cfg] = sc
	}
	sc.refs++
	return sc.core, nil
}

func releaseCore(cfg *Config) {
	coresMu.Lock()
	defer coresMu.Unlock()
	sc, ok := cores[cfg]
	if !ok {
		return
	}
	if sc.refs--; sc.refs == 0 {
		delete(cores, cfg)
		sc.shutdown()
	}
}

// signalExporter is one signal's exporter: its own metrics (the collector labels them
// with the signal), the converter that maps a batch to a request of encoded events, and
// the sender that delivers them.
type signalExporter struct {
	core     *core
	tb       *metadata.TelemetryBuilder
	tel      *telemetry
	sender   *sender
	status   statusReporter
	released sync.Once
}

func newSignalExporter(cfg *Config, set exporter.Settings) (*signalExporter, error) {
	c, err := acquireCore(cfg, set)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		releaseCore(cfg)
		return nil, err
	}
	tel := newTelemetry(tb, set.ID.String())
	return &signalExporter{core: c, tb: tb, tel: tel, sender: &sender{
		targets: c.targets,
		retry:   cfg.RetryConfig,
		sdk:     &c.mapper.sdk,
		ua:      c.ua,
		now:     time.Now,
		tel:     tel,
	}}, nil
}

func (e *signalExporter) start(ctx context.Context, host component.Host) error {
	if err := e.core.start(ctx, host); err != nil {
		return err
	}
	e.sender.client = e.core.client
	e.status.start(host)
	return nil
}

// shutdown is safe to call more than once, and when start never ran.
func (e *signalExporter) shutdown(context.Context) error {
	e.released.Do(func() {
		e.tb.Shutdown()
		releaseCore(e.core.cfg)
	})
	return nil
}

func (e *signalExporter) push(ctx context.Context, req xexporterhelper.Request) error {
	return e.sender.push(ctx, req)
}

func (e *signalExporter) tracesRequest(ctx context.Context, td ptrace.Traces) (xexporterhelper.Request, error) {
	return e.request(ctx, e.core.mapper.mapTraces(td)), nil
}

func (e *signalExporter) logsRequest(ctx context.Context, ld plog.Logs) (xexporterhelper.Request, error) {
	return e.request(ctx, e.core.mapper.mapLogs(ld)), nil
}

// request applies the fingerprint limit and encodes the batch's events into one
// request, whose items are the events; drops are counted by reason.
func (e *signalExporter) request(ctx context.Context, res mapResult) *eventsRequest {
	for r, n := range res.drops {
		e.tel.dropped(ctx, dropReason(r), n)
	}
	req := &eventsRequest{events: make([]encodedEvent, 0, len(res.events))}
	now := time.Now()
	for i := range res.events {
		me := &res.events[i]
		if !e.core.limiter.allow(groupKey(me.event), now) {
			e.tel.dropped(ctx, dropFingerprintLimit, 1)
			continue
		}
		payload, trimmed, err := sentryevent.Encode(me.event)
		eventID := string(me.event.EventID)
		if err != nil {
			// Cannot happen with the values the mapper writes; never drop silently all the same.
			e.tel.dropped(ctx, dropPermanentError, 1)
			e.core.set.Logger.Error("error event dropped: it cannot be encoded", zap.String("event_id", eventID), zap.Error(err))
			continue
		}
		if trimmed > 0 {
			e.core.set.Logger.Debug("error event trimmed to fit Sentry's event size limit",
				zap.String("event_id", eventID), zap.Int("steps", trimmed), zap.Int("bytes", len(payload)))
		}
		e.tel.scrubbed(ctx, &me.scrubs)
		req.events = append(req.events, encodedEvent{route: me.route, eventID: eventID, payload: payload, trace: traceOf(me)})
	}
	return req
}

// traceOf is the envelope trace header of an event of a trace.
func traceOf(me *mappedEvent) traceHeader {
	tr := me.event.Contexts.Trace
	if tr == nil || tr.TraceID == "" {
		return traceHeader{}
	}
	return traceHeader{TraceID: tr.TraceID, Release: me.event.Release, Environment: me.event.Environment}
}

// sameOrigin follows a redirect only on the DSN's own host (redirect.SameHost): the
// X-Sentry-Auth header, which carries the DSN's key, would go along, and the event too.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if !redirect.SameHost(req, via) {
		return http.ErrUseLastResponse
	}
	if len(via) >= redirect.MaxHops {
		return fmt.Errorf("stopped after %d redirects", redirect.MaxHops)
	}
	return nil
}
