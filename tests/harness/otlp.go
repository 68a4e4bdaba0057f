package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// AppResource is the resource of the test app that sends telemetry.
func AppResource(service string) *resource.Resource {
	return resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(service),
		semconv.ServiceVersion("1.2.3"),
		semconv.TelemetrySDKLanguageGo,
	)
}

// TracerProvider is an OpenTelemetry SDK tracer provider that exports synchronously to
// the collector's OTLP gRPC receiver, so that a span is sent when it ends. Call
// ForceFlush or Shutdown (the test cleanup does) to be sure everything left.
func TracerProvider(t testing.TB, c *Collector, service string) *sdktrace.TracerProvider {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatalf("otlp trace exporter: %v", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithResource(AppResource(service)),
	)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	})
	return tp
}

// MeterProvider is an OpenTelemetry SDK meter provider exporting to the collector over
// OTLP gRPC; call ForceFlush to send.
func MeterProvider(t testing.TB, c *Collector, service string) *sdkmetric.MeterProvider {
	t.Helper()
	exp, err := otlpmetricgrpc.New(context.Background(), otlpmetricgrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatalf("otlp metric exporter: %v", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithResource(AppResource(service)),
	)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = mp.Shutdown(ctx)
	})
	return mp
}

// LoggerProvider is an OpenTelemetry SDK logger provider exporting to the collector over
// OTLP gRPC as records are emitted.
func LoggerProvider(t testing.TB, c *Collector, service string) *sdklog.LoggerProvider {
	t.Helper()
	exp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatalf("otlp log exporter: %v", err)
	}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
		sdklog.WithResource(AppResource(service)),
	)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = lp.Shutdown(ctx)
	})
	return lp
}
