package owntelemetry

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configtelemetry"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/procode-ai/otelcol-procode/internal/delivery"
	"github.com/procode-ai/otelcol-procode/internal/logscrub"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type events struct {
	mu  sync.Mutex
	got []delivery.Event
}

func (e *events) DeliveryEvent(ev delivery.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

// content stands for OTTL's TransformContext: an object that logs a whole span.
type content map[string]string

func (c content) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for k, v := range c {
		enc.AddString(k, v)
	}
	return nil
}

// build makes the logger and meter provider as the service does: the logger first, then
// the meter provider with that logger in its settings.
func build(t *testing.T, level configtelemetry.Level) (*zap.Logger, *observer.ObservedLogs, telemetry.MeterProvider) {
	t.Helper()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*otelconftelemetry.Config)
	cfg.Metrics.Level = level
	cfg.Metrics.Readers = nil
	res, schema, err := f.CreateResource(context.Background(), telemetry.Settings{}, cfg)
	require.NoError(t, err)
	settings := telemetry.Settings{Resource: &res, SchemaURL: schema}
	core, logs := observer.New(zapcore.WarnLevel)
	logger, shutdown, err := f.CreateLogger(context.Background(), telemetry.LoggerSettings{
		Settings:       settings,
		BuildZapLogger: func(zap.Config, ...zap.Option) (*zap.Logger, error) { return zap.New(core), nil },
	}, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, shutdown(context.Background())) })
	mp, err := f.CreateMeterProvider(context.Background(), telemetry.MeterSettings{Settings: settings, Logger: logger}, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	return logger, logs, mp
}

// The logger scrubs: telemetry content and secrets never reach the log.
func TestLoggerScrubs(t *testing.T) {
	logger, logs, _ := build(t, configtelemetry.LevelNormal)
	logger.Warn("evaluated https://u:p@h.example/x?token=t-in-msg", zap.Object("TransformContext", content{"k": "secret-value"}))
	require.Equal(t, 1, logs.Len())
	assert.Equal(t, logscrub.Omitted, logs.All()[0].ContextMap()["TransformContext"])
	assert.Equal(t, "evaluated https://h.example/x", logs.All()[0].Message)
}

// The logger and the meter provider of one service share one observer, which a
// component finds through its meter provider and which sees exporter telemetry also
// with the collector's own metrics off.
func TestDeliveryObservedWithMetricsOff(t *testing.T) {
	for _, level := range []configtelemetry.Level{configtelemetry.LevelNone, configtelemetry.LevelNormal} {
		t.Run(level.String(), func(t *testing.T) {
			logger, logs, mp := build(t, level)
			obs, ok := delivery.Find(mp)
			require.True(t, ok)
			got := &events{}
			t.Cleanup(obs.Subscribe(got))

			sent, err := mp.Meter("go.opentelemetry.io/collector/exporter/exporterhelper").Int64Counter("otelcol_exporter_sent_spans")
			require.NoError(t, err)
			sent.Add(context.Background(), 4, metric.WithAttributes(attribute.String("exporter", "otlp/traces")))
			exp := logger.With(zap.String("otelcol.component.id", "otlp/traces"), zap.String("otelcol.component.kind", "exporter"))
			exp.Info("Exporting failed. Will retry the request after interval.",
				zap.Error(errors.New(`Post "https://k:secret-pw@tempo.example/v1/traces": connection refused`)))

			got.mu.Lock()
			defer got.mu.Unlock()
			require.Len(t, got.got, 2)
			assert.Equal(t, delivery.Sent, got.got[0].Kind)
			assert.Equal(t, "otlp/traces", got.got[0].Component)
			assert.Equal(t, int64(4), got.got[0].Items)
			assert.Equal(t, delivery.Retrying, got.got[1].Kind)
			assert.Equal(t, `Post "https://tempo.example/v1/traces": connection refused`, got.got[1].Err)
			assert.Zero(t, logs.Len(), "an info entry under a warn level is observed, not written")
		})
	}
}

// Sampling (on by default: the first 10 entries of a message per second, then every
// 100th) and an error log level leave the logged entries as they are and every failed
// attempt observed: the observer sees each entry before the sampler drops it.
func TestDeliveryObservedThroughSampling(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*otelconftelemetry.Config)
	cfg.Metrics.Level = configtelemetry.LevelNone
	cfg.Metrics.Readers = nil
	cfg.Logs.Level = zapcore.ErrorLevel
	cfg.Logs.Sampling.Initial, cfg.Logs.Sampling.Thereafter = 1, 0
	res, schema, err := f.CreateResource(context.Background(), telemetry.Settings{}, cfg)
	require.NoError(t, err)
	settings := telemetry.Settings{Resource: &res, SchemaURL: schema}
	core, logs := observer.New(zapcore.ErrorLevel)
	logger, shutdown, err := f.CreateLogger(context.Background(), telemetry.LoggerSettings{
		Settings:       settings,
		BuildZapLogger: func(zap.Config, ...zap.Option) (*zap.Logger, error) { return zap.New(core), nil },
	}, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, shutdown(context.Background())) })
	mp, err := f.CreateMeterProvider(context.Background(), telemetry.MeterSettings{Settings: settings, Logger: logger}, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	obs, ok := delivery.Find(mp)
	require.True(t, ok)
	got := &events{}
	t.Cleanup(obs.Subscribe(got))

	exp := logger.With(zap.String("otelcol.component.id", "otlp/traces"), zap.String("otelcol.component.kind", "exporter"))
	for range 5 {
		exp.Info("Exporting failed. Will retry the request after interval.", zap.Error(errors.New("connection refused")))
		exp.Error("Exporting failed. Dropping data.", zap.Error(errors.New("no more retries left: connection refused")), zap.Int("dropped_items", 3))
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	kinds := map[delivery.Kind]int{}
	for _, ev := range got.got {
		kinds[ev.Kind]++
	}
	assert.Equal(t, map[delivery.Kind]int{delivery.Retrying: 5, delivery.Dropped: 5}, kinds)
	assert.Equal(t, 1, logs.Len(), "the sampler lets one error entry through, and no info entry")
}
