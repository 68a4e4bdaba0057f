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
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
	"github.com/procode-ai/otelcol-procode/internal/redirect"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// core is what the traces and logs exporters of one sentry_errors component share:
// the mapping, the Sentry projects with their rate limits, the fingerprint windows and
// the HTTP client.
type core struct {
	cfg     *Config
	logger  *zap.Logger
	mapper  *mapper
	targets map[string]*target // by route; "" is dsn
	client  *http.Client
	ua      string
	limiter *fingerprintLimiter

	startOnce sync.Once
	startErr  error
}

func newCore(cfg *Config, set exporter.Settings) (*core, error) {
	c := &core{
		cfg:     cfg,
		logger:  set.Logger,
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

// signal is the part of an exporter that is per signal: its own metrics (the collector
// labels them with the signal) and the sender that counts into them.
type signal struct {
	core   *core
	tb     *metadata.TelemetryBuilder
	tel    *telemetry
	sender *sender
	status statusReporter
}

func newSignal(c *core, set exporter.Settings) (*signal, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	tel := newTelemetry(tb, set.ID.String())
	return &signal{core: c, tb: tb, tel: tel, sender: &sender{
		targets: c.targets,
		retry:   c.cfg.RetryConfig,
		sdk:     &c.mapper.sdk,
		ua:      c.ua,
		now:     time.Now,
		tel:     tel,
	}}, nil
}

func (s *signal) start(ctx context.Context) error {
	if err := s.core.start(ctx); err != nil {
		return err
	}
	s.sender.client = s.core.client
	return nil
}

// start builds the HTTP client and says once what an empty DSN means.
func (c *core) start(ctx context.Context) error {
	c.startOnce.Do(func() {
		tlsCfg, err := c.cfg.TLS.LoadTLSConfig(ctx)
		if err != nil {
			c.startErr = fmt.Errorf("tls: %s", safetext.Error(err))
			return
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsCfg
		tr.MaxIdleConnsPerHost = 16
		c.client = &http.Client{Transport: tr, CheckRedirect: sameOrigin}
		switch {
		case !c.cfg.hasDSN():
			c.logger.Warn("Sentry is off: dsn is empty, so error events are counted as dropped " +
				`(otelcol_exporter_sentry_errors_events_dropped{reason="no_dsn"}) and not sent; set dsn (for example SENTRY_DSN) to send them`)
		case c.cfg.DSN == "":
			services := make([]string, 0, len(c.cfg.DSNByService))
			for s := range c.cfg.DSNByService {
				services = append(services, s)
			}
			sort.Strings(services)
			c.logger.Info(`dsn is empty: only the services in dsn_by_service are sent to Sentry; the error events of other services are counted as dropped (reason "no_dsn")`,
				zap.Strings("services", services))
		}
	})
	return c.startErr
}

func (c *core) shutdown() {
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
}

// eventKey carries one encoded event from ConsumeTraces/ConsumeLogs to the helper's
// converter. The helper takes pdata; the events were already mapped from the whole batch
// (breadcrumbs need the batch), and each is offered to the queue on its own so that the
// queue, retry and failure counts are per event.
type eventKey struct{}

func requestFromContext(ctx context.Context) (*eventsRequest, error) {
	r, ok := ctx.Value(eventKey{}).(*eventsRequest)
	if !ok {
		return nil, errors.New("sentry_errors: no event in the context")
	}
	return r, nil
}

// deliver applies the fingerprint limit, encodes the events and offers each to the
// helper; drops are counted by reason.
func (s *signal) deliver(ctx context.Context, res mapResult, offer func(context.Context) error) error {
	c := s.core
	for r, n := range res.drops {
		s.tel.dropped(ctx, dropReason(r), n)
	}
	var errs []error
	now := time.Now()
	for i := range res.events {
		me := &res.events[i]
		if !c.limiter.allow(groupKey(me.event, me.ctx), now) {
			s.tel.dropped(ctx, dropFingerprintLimit, 1)
			me.release()
			continue
		}
		pb, trimmed, err := encodePayload(me.event, me.ctx)
		eventID := string(me.event.EventID)
		me.release() // the payload is written: the event's storage can serve the next one
		if err != nil {
			pb.release()
			// Cannot happen with the values the mapper writes; never drop silently all the same.
			s.tel.dropped(ctx, dropPermanentError, 1)
			errs = append(errs, fmt.Errorf("encode event %s: %w", eventID, err))
			continue
		}
		if trimmed > 0 {
			c.logger.Debug("error event trimmed to fit Sentry's event size limit",
				zap.String("event_id", eventID), zap.Int("steps", trimmed), zap.Int("bytes", len(pb.b)))
		}
		s.tel.scrubbed(ctx, &me.scrubs)
		req := &eventsRequest{events: []encodedEvent{pooled(me.route, eventID, pb)}}
		if err := offer(context.WithValue(ctx, eventKey{}, req)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type tracesExporter struct {
	*signal
	inner exporter.Traces
}

func (e *tracesExporter) Start(ctx context.Context, host component.Host) error {
	if err := e.signal.start(ctx); err != nil {
		return err
	}
	e.status.start(host)
	return e.inner.Start(ctx, host)
}

func (e *tracesExporter) Shutdown(ctx context.Context) error {
	return e.inner.Shutdown(ctx)
}

func (e *tracesExporter) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (e *tracesExporter) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	res := e.core.mapper.mapTraces(td)
	if len(res.events) == 0 && res.drops == ([numReasons]int64{}) {
		return nil
	}
	return e.deliver(ctx, res, func(ctx context.Context) error {
		return e.inner.ConsumeTraces(ctx, ptrace.NewTraces())
	})
}

type logsExporter struct {
	*signal
	inner exporter.Logs
}

func (e *logsExporter) Start(ctx context.Context, host component.Host) error {
	if err := e.signal.start(ctx); err != nil {
		return err
	}
	e.status.start(host)
	return e.inner.Start(ctx, host)
}

func (e *logsExporter) Shutdown(ctx context.Context) error {
	return e.inner.Shutdown(ctx)
}

func (e *logsExporter) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (e *logsExporter) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	res := e.core.mapper.mapLogs(ld)
	if len(res.events) == 0 && res.drops == ([numReasons]int64{}) {
		return nil
	}
	return e.deliver(ctx, res, func(ctx context.Context) error {
		return e.inner.ConsumeLogs(ctx, plog.NewLogs())
	})
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
