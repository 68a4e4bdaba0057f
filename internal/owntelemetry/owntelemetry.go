// Package owntelemetry is the distribution's telemetry factory (builder-config.yaml,
// telemetry:): the upstream one, otelconftelemetry, configured by service::telemetry as
// usual, with two additions.
//
//   - Its logger scrubs every entry (internal/logscrub): no log entry carries the
//     telemetry being processed or a credential, even at debug level.
//   - Its logger and its meter provider let the readiness extension see, in process,
//     what exporters and memory limiters record about delivery (internal/delivery):
//     sends, failed attempts and their errors, data given up on, queue sizes,
//     refusals. This works with the collector's own metrics off or served elsewhere.
package owntelemetry // import "github.com/procode-ai/otelcol-procode/internal/owntelemetry"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/procode-ai/otelcol-procode/internal/delivery"
	"github.com/procode-ai/otelcol-procode/internal/logscrub"
)

// NewFactory returns the upstream telemetry factory with a scrubbing, observed logger and
// an observed meter provider.
func NewFactory() telemetry.Factory {
	base := otelconftelemetry.NewFactory()
	return telemetry.NewFactory(base.CreateDefaultConfig,
		telemetry.WithCreateResource(base.CreateResource),
		telemetry.WithCreateLogger(func(ctx context.Context, set telemetry.LoggerSettings, cfg component.Config) (*zap.Logger, component.ShutdownFunc, error) {
			logger, shutdown, err := base.CreateLogger(ctx, set, cfg)
			if err != nil {
				return nil, nil, err
			}
			// Scrubbing wraps every destination (the console and an OTLP log export, if
			// configured). The observer is outermost, so that the meter provider built
			// next finds it on this logger (the service passes it in MeterSettings).
			obs := delivery.NewObserver()
			return logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
				return delivery.WrapCore(logscrub.Wrap(c), obs)
			})), shutdown, nil
		}),
		telemetry.WithCreateMeterProvider(func(ctx context.Context, set telemetry.MeterSettings, cfg component.Config) (telemetry.MeterProvider, error) {
			mp, err := base.CreateMeterProvider(ctx, set, cfg)
			if err != nil {
				return nil, err
			}
			var obs *delivery.Observer
			if set.Logger != nil {
				obs, _ = delivery.ObserverOf(set.Logger.Core())
			}
			if obs == nil {
				// Not the logger built above: failed attempts' errors are not seen, the
				// rest still is.
				obs = delivery.NewObserver()
				if set.Logger != nil {
					set.Logger.Warn("Delivery checks will not see exporters' retry errors: the service did not pass this factory's logger to its meter provider")
				}
			}
			return delivery.NewMeterProvider(mp, obs), nil
		}),
		telemetry.WithCreateTracerProvider(base.CreateTracerProvider),
	)
}
