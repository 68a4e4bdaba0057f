package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
)

const (
	defaultMaxBreadcrumbs = 50
	defaultMinSeverity    = "error"
)

// defaultRequestHeaders may appear in an event's request; they carry no credentials.
var defaultRequestHeaders = []string{
	"accept", "accept-encoding", "accept-language", "content-length", "content-type",
	"host", "referer", "user-agent", "x-request-id",
}

// NewFactory returns the factory of the sentry_errors exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
		exporter.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		MinSeverity:    defaultMinSeverity,
		MaxBreadcrumbs: defaultMaxBreadcrumbs,
		RequestHeaders: append([]string(nil), defaultRequestHeaders...),
		SampleRate:     1,
		FingerprintLimit: FingerprintLimitConfig{
			Window: time.Minute,
		},
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: 10 * time.Second},
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
		QueueConfig:   configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
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

func acquireCore(cfg *Config, set exporter.Settings) (*core, func(context.Context) error, error) {
	coresMu.Lock()
	defer coresMu.Unlock()
	sc, ok := cores[cfg]
	if !ok {
		c, err := newCore(cfg, set)
		if err != nil {
			return nil, nil, err
		}
		sc = &sharedCore{core: c}
		cores[cfg] = sc
	}
	sc.refs++
	var once sync.Once
	release := func(context.Context) error {
		once.Do(func() {
			coresMu.Lock()
			defer coresMu.Unlock()
			sc.refs--
			if sc.refs == 0 {
				delete(cores, cfg)
				sc.shutdown()
			}
		})
		return nil
	}
	return sc.core, release, nil
}

func helperOptions(cfg *Config, release component.ShutdownFunc) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(cfg.TimeoutConfig),
		exporterhelper.WithRetry(cfg.RetryConfig),
		xexporterhelper.WithQueueBatch(cfg.QueueConfig, xexporterhelper.QueueBatchSettings{Encoding: queueEncoding{}}),
		exporterhelper.WithShutdown(release),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	sig, inner, err := newExporter(ctx, set, cfg.(*Config), func(sig *signal, opts []exporterhelper.Option) (exporter.Traces, error) {
		return xexporterhelper.NewTracesRequest(ctx, set,
			func(ctx context.Context, _ ptrace.Traces) (xexporterhelper.Request, error) {
				return requestFromContext(ctx)
			},
			sig.status.wrap(sig.sender.push), opts...)
	})
	if err != nil {
		return nil, err
	}
	return &tracesExporter{signal: sig, inner: inner}, nil
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	sig, inner, err := newExporter(ctx, set, cfg.(*Config), func(sig *signal, opts []exporterhelper.Option) (exporter.Logs, error) {
		return xexporterhelper.NewLogsRequest(ctx, set,
			func(ctx context.Context, _ plog.Logs) (xexporterhelper.Request, error) {
				return requestFromContext(ctx)
			},
			sig.status.wrap(sig.sender.push), opts...)
	})
	if err != nil {
		return nil, err
	}
	return &logsExporter{signal: sig, inner: inner}, nil
}

// newExporter takes the shared core (one per DSN and settings), builds the signal's
// mapper and sender, and the exporterhelper wrapper with create; whatever fails, it
// gives back what it took.
func newExporter[E any](ctx context.Context, set exporter.Settings, cfg *Config,
	create func(*signal, []exporterhelper.Option) (E, error),
) (*signal, E, error) {
	var none E
	c, release, err := acquireCore(cfg, set)
	if err != nil {
		return nil, none, err
	}
	sig, err := newSignal(c, set)
	if err != nil {
		_ = release(ctx)
		return nil, none, err
	}
	inner, err := create(sig, helperOptions(cfg, func(ctx context.Context) error {
		sig.tb.Shutdown()
		return release(ctx)
	}))
	if err != nil {
		sig.tb.Shutdown()
		_ = release(ctx)
		return nil, none, err
	}
	return sig, inner, nil
}
