package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// probeScraper runs every probe once per scrape on a bounded pool of workers and turns
// the results into metrics. Each result goes to the readiness extension as soon as its
// run ends, so a slow target delays nobody's readiness but its own.
type probeScraper struct {
	id       component.ID
	cfg      *Config
	logger   *zap.Logger
	runners  []*runner
	mb       *metadata.MetricsBuilder
	reporter health.Reporter // nil without readiness

	// ctx ends at shutdown and cuts every run short.
	ctx    context.Context
	cancel context.CancelFunc
}

func newProbeScraper(cfg *Config, set receiver.Settings) (*probeScraper, error) {
	s := &probeScraper{
		id:     set.ID,
		cfg:    cfg,
		logger: set.Logger,
		mb:     metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	timeout := cfg.probeTimeout()
	for i := range cfg.Probes {
		p, err := resolveProbe(cfg.Probes[i])
		if err != nil {
			return nil, err
		}
		r, err := newRunner(&p, timeout, set.TelemetrySettings)
		if err != nil {
			return nil, err
		}
		s.runners = append(s.runners, r)
	}
	return s, nil
}

func (s *probeScraper) start(ctx context.Context, host component.Host) error {
	for _, r := range s.runners {
		if err := r.prober.start(ctx, host); err != nil {
			return err
		}
	}
	if s.cfg.Readiness == (component.ID{}) {
		return nil
	}
	reporter, err := health.FindReporter(host.GetExtensions(), s.cfg.Readiness)
	if err != nil {
		return err
	}
	infos := make([]health.ProbeInfo, len(s.runners))
	for i, r := range s.runners {
		infos[i] = health.ProbeInfo{Name: r.cfg.Name, Type: r.cfg.Type, Critical: r.cfg.Critical}
	}
	if err := reporter.RegisterProbes(s.id, infos); err != nil {
		return err
	}
	s.reporter = reporter
	s.logger.Info("Probes report to the readiness extension",
		zap.Int("probes", len(infos)), zap.String("extension", s.cfg.Readiness.String()))
	return nil
}

// stop cuts running probes short; the controller's shutdown then finds the round over.
func (s *probeScraper) stop() {
	s.cancel()
}

func (s *probeScraper) shutdown(ctx context.Context) error {
	s.cancel()
	if s.reporter != nil {
		s.reporter.UnregisterProbes(s.id)
		s.reporter = nil
	}
	var first error
	for _, r := range s.runners {
		if err := r.prober.shutdown(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// scrape runs one round: every probe once, at most workers at a time.
func (s *probeScraper) scrape(context.Context) (pmetric.Metrics, error) {
	n := len(s.runners)
	workers := min(s.cfg.Workers, n)
	jobs := make(chan *runner)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range jobs {
				res := r.execute(s.ctx)
				if res.done && s.reporter != nil {
					s.reporter.ReportProbe(s.id, r.result(res))
				}
			}
		})
	}
feed:
	for _, r := range s.runners {
		r.last = run{}
		select {
		case jobs <- r:
		case <-s.ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	for _, r := range s.runners {
		if r.last.done {
			s.record(r)
		}
	}
	return s.mb.Emit(), nil
}

// record adds the metrics of r's newest run.
func (s *probeScraper) record(r *runner) {
	res := r.last
	ts := pcommon.NewTimestampFromTime(res.start)
	name, typ, cat, crit := r.cfg.Name, r.probeTyp, r.cfg.Category, r.cfg.Critical
	o := res.outcome

	up := int64(0)
	if o.ok {
		up = 1
	}
	s.mb.RecordHealthprobeUpDataPoint(ts, up, name, typ, cat, crit)
	for _, st := range []metadata.AttributeProbeStatus{metadata.AttributeProbeStatusHealthy, metadata.AttributeProbeStatusDegraded, metadata.AttributeProbeStatusUnhealthy} {
		v := int64(0)
		if st.String() == string(res.status) {
			v = 1
		}
		s.mb.RecordHealthprobeStatusDataPoint(ts, v, name, typ, cat, crit, st)
	}
	s.mb.RecordHealthprobeDurationDataPoint(ts, res.duration.Seconds(), name, typ, cat, crit)
	for et := 1; et < numErrorTypes; et++ {
		if r.errors[et] > 0 {
			s.mb.RecordHealthprobeErrorsDataPoint(ts, r.errors[et], name, typ, cat, crit, metadata.AttributeErrorType(et))
		}
	}
	if h := o.http; h != nil {
		for ph := range numPhases {
			if h.seen[ph] {
				s.mb.RecordHealthprobeHTTPPhaseDurationDataPoint(ts, h.phases[ph].Seconds(), name, typ, cat, crit, phaseAttr[ph])
			}
		}
		if h.statusCode > 0 {
			s.mb.RecordHealthprobeHTTPStatusCodeDataPoint(ts, int64(h.statusCode), name, typ, cat, crit)
		}
		if h.hasCert {
			s.mb.RecordHealthprobeTLSCertRemainingDataPoint(ts, h.certRemaining.Seconds(), name, typ, cat, crit)
		}
		for _, c := range h.checks {
			v := int64(0)
			if c.passed {
				v = 1
			}
			s.mb.RecordHealthprobeHTTPBodyCheckDataPoint(ts, v, name, typ, cat, crit, c.name)
		}
	}
	if d := o.disk; d != nil {
		s.mb.RecordHealthprobeDiskFreeDataPoint(ts, int64(d.free), name, typ, cat, crit)   //nolint:gosec // byte counts fit
		s.mb.RecordHealthprobeDiskTotalDataPoint(ts, int64(d.total), name, typ, cat, crit) //nolint:gosec // byte counts fit
		s.mb.RecordHealthprobeDiskFreeRatioDataPoint(ts, float64(d.free)/float64(d.total), name, typ, cat, crit)
	}
	if m := o.memory; m != nil {
		s.mb.RecordHealthprobeMemoryUsedRatioDataPoint(ts, float64(m.used)/float64(m.limit), name, typ, cat, crit)
	}
}
