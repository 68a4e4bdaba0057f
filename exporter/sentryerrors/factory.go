package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
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
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 10 * time.Second // per envelope
	client.MaxIdleConnsPerHost = 16
	queue := exporterhelper.NewDefaultQueueConfig()
	// queue_size counts error events, whatever the batches that brought them.
	queue.Sizer = exporterhelper.RequestSizerTypeItems
	return &Config{
		MinSeverity:    defaultMinSeverity,
		MaxBreadcrumbs: defaultMaxBreadcrumbs,
		RequestHeaders: append([]string(nil), defaultRequestHeaders...),
		SampleRate:     1,
		FingerprintLimit: FingerprintLimitConfig{
			Window: time.Minute,
		},
		ClientConfig: client,
		RetryConfig:  configretry.NewDefaultBackOffConfig(),
		QueueConfig:  configoptional.Some(queue),
	}
}

// helperOptions: the HTTP client's timeout bounds each envelope (as in otlphttp), so the
// helper's own timeout is off.
func helperOptions(cfg *Config, e *signalExporter) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(cfg.RetryConfig),
		xexporterhelper.WithQueueBatch(cfg.QueueConfig, xexporterhelper.QueueBatchSettings{Encoding: queueEncoding{}}),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newSignalExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	exp, err := xexporterhelper.NewTracesRequest(ctx, set, e.tracesRequest, e.status.wrap(e.push), helperOptions(cfg.(*Config), e)...)
	if err != nil {
		_ = e.shutdown(ctx)
		return nil, err
	}
	return tracesWithErrors{exp}, nil
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	e, err := newSignalExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	exp, err := xexporterhelper.NewLogsRequest(ctx, set, e.logsRequest, e.status.wrap(e.push), helperOptions(cfg.(*Config), e)...)
	if err != nil {
		_ = e.shutdown(ctx)
		return nil, err
	}
	minSev, _ := parseSeverity(cfg.(*Config).MinSeverity)
	return logsWithErrors{Logs: exp, minSev: minSev}, nil
}

// tracesWithErrors hands the helper only the batches that have an error: most have
// none, and those cost one pass over their spans instead of a trip through the queue
// (a persistent queue would write each to disk).
type tracesWithErrors struct{ exporter.Traces }

func (e tracesWithErrors) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if !hasErrorSpan(td) {
		return nil
	}
	return e.Traces.ConsumeTraces(ctx, td)
}

// logsWithErrors is tracesWithErrors for logs: only batches with a record at or above
// min_severity, or with exception attributes, reach the helper.
type logsWithErrors struct {
	exporter.Logs
	minSev plog.SeverityNumber
}

func (e logsWithErrors) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if !hasErrorRecord(ld, e.minSev) {
		return nil
	}
	return e.Logs.ConsumeLogs(ctx, ld)
}
