// Package logscrub is the collector's telemetry factory: the upstream one
// (otelconftelemetry), whose logger is wrapped so that no log entry carries the
// telemetry it is processing or a credential.
//
// Why: at debug level upstream OTTL components (signal_to_metrics, transform, filter)
// log every span, log record or data point they evaluate, with all its attributes, in
// a "TransformContext" field; an app's span attributes can hold API keys and bearer
// tokens. And upstream errors quote URLs with credentials or query strings. An operator
// who turns on debug logging to troubleshoot must not copy secrets into the log store.
package logscrub // import "github.com/procode-ai/otelcol-procode/internal/logscrub"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.uber.org/zap"
)

// NewFactory returns the upstream telemetry factory with a scrubbing logger. The
// builder (builder-config.yaml, telemetry:) puts it in the distribution.
func NewFactory() telemetry.Factory {
	base := otelconftelemetry.NewFactory()
	return telemetry.NewFactory(base.CreateDefaultConfig,
		telemetry.WithCreateResource(base.CreateResource),
		telemetry.WithCreateMeterProvider(base.CreateMeterProvider),
		telemetry.WithCreateTracerProvider(base.CreateTracerProvider),
		telemetry.WithCreateLogger(func(ctx context.Context, set telemetry.LoggerSettings, cfg component.Config) (*zap.Logger, component.ShutdownFunc, error) {
			logger, shutdown, err := base.CreateLogger(ctx, set, cfg)
			if err != nil {
				return nil, nil, err
			}
			// Outermost, so that every destination (the console and an OTLP log
			// export, if configured) gets the scrubbed entry.
			return logger.WithOptions(zap.WrapCore(Wrap)), shutdown, nil
		}),
	)
}
