package owntelemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/config/configtelemetry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/service"
	"go.opentelemetry.io/collector/service/pipelines"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/procode-ai/otelcol-procode/extension/readiness"
)

// oneErrorSpan is a receiver that hands one error span to its pipeline once started.
type oneErrorSpan struct {
	next consumer.Traces
	done chan struct{}
}

func (r *oneErrorSpan) Start(context.Context, component.Host) error {
	go func() {
		defer close(r.done)
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "billing-api")
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName("POST /charge")
		span.SetTraceID([16]byte{1})
		span.SetSpanID([8]byte{2})
		span.Status().SetCode(ptrace.StatusCodeError)
		ev := span.Events().AppendEmpty()
		ev.SetName("exception")
		ev.Attributes().PutStr("exception.type", "CardError")
		ev.Attributes().PutStr("exception.message", "card declined")
		_ = r.next.ConsumeTraces(context.Background(), td)
	}()
	return nil
}

func (r *oneErrorSpan) Shutdown(context.Context) error {
	<-r.done
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// The collector's own service, built with this telemetry factory, the readiness
// extension and an exporterhelper exporter whose backend refuses connections, with the
// collector's metrics off and its log level at warn: /health has the exporter's failed
// attempts with their error (cleaned), taken from the retry entries that the logger
// never writes at that level. The service's own logger core is inside ours here, as in
// the binary: it takes the component attributes out of the fields it is given.
func TestServiceDeliveryChecks(t *testing.T) {
	ctx := context.Background()
	srcType := component.MustNewType("one_error_span")
	src := receiver.NewFactory(srcType, func() component.Config { return &struct{}{} },
		receiver.WithTraces(func(_ context.Context, _ receiver.Settings, _ component.Config, next consumer.Traces) (receiver.Traces, error) {
			return &oneErrorSpan{next: next, done: make(chan struct{})}, nil
		}, component.StabilityLevelDevelopment))

	// An exporter built on exporterhelper, as every upstream one is, that reports no
	// status of its own: what /health knows of it comes from the observed telemetry.
	backendType := component.MustNewType("backend")
	backend := exporter.NewFactory(backendType, func() component.Config { return &struct{}{} },
		exporter.WithTraces(func(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
			retry := configretry.NewDefaultBackOffConfig()
			retry.InitialInterval, retry.MaxInterval, retry.MaxElapsedTime = 50*time.Millisecond, 100*time.Millisecond, time.Second
			return exporterhelper.NewTraces(ctx, set, cfg, func(context.Context, ptrace.Traces) error {
				return errors.New(`Post "https://k:pw-secret@backend.example/v1/traces": dial tcp 10.0.0.9:443: connect: connection refused`)
			}, exporterhelper.WithRetry(retry))
		}, component.StabilityLevelDevelopment))

	readinessFactory := readiness.NewFactory()
	readinessCfg := readinessFactory.CreateDefaultConfig().(*readiness.Config)
	endpoint := freeAddr(t)
	readinessCfg.ServerConfig.NetAddr.Endpoint = endpoint
	readinessCfg.Delivery.FailingAfter = 0

	telemetryFactory := NewFactory()
	telemetryCfg := telemetryFactory.CreateDefaultConfig().(*otelconftelemetry.Config)
	telemetryCfg.Metrics.Level = configtelemetry.LevelNone
	telemetryCfg.Logs.Level = zapcore.WarnLevel

	srcID, backendID, readinessID := component.NewID(srcType), component.NewIDWithName(backendType, "vendor"), component.NewID(readinessFactory.Type())
	srv, err := service.New(ctx, service.Settings{
		BuildInfo:           component.NewDefaultBuildInfo(),
		ReceiversConfigs:    map[component.ID]component.Config{srcID: &struct{}{}},
		ReceiversFactories:  map[component.Type]receiver.Factory{srcType: src},
		ExportersConfigs:    map[component.ID]component.Config{backendID: &struct{}{}},
		ExportersFactories:  map[component.Type]exporter.Factory{backendType: backend},
		ExtensionsConfigs:   map[component.ID]component.Config{readinessID: readinessCfg},
		ExtensionsFactories: map[component.Type]extension.Factory{readinessFactory.Type(): readinessFactory},
		AsyncErrorChannel:   make(chan error, 1),
		TelemetryFactory:    telemetryFactory,
		BuildZapLogger: func(cfg zap.Config, opts ...zap.Option) (*zap.Logger, error) {
			return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(cfg.EncoderConfig), zapcore.AddSync(io.Discard), cfg.Level), opts...), nil
		},
	}, service.Config{
		Telemetry:  telemetryCfg,
		Extensions: []component.ID{readinessID},
		Pipelines: pipelines.Config{
			pipeline.NewID(pipeline.SignalTraces): {Receivers: []component.ID{srcID}, Exporters: []component.ID{backendID}},
		},
	})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { require.NoError(t, srv.Shutdown(ctx)) })

	var check map[string]any
	require.Eventually(t, func() bool {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + endpoint + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct {
			Checks map[string]map[string]any `json:"checks"`
		}
		body, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(body, &h) != nil {
			return false
		}
		check = h.Checks["exporter:backend/vendor"]
		return check["last_error"] != nil
	}, 20*time.Second, 50*time.Millisecond, "no failed attempt in /health")
	assert.Equal(t, "degraded", check["status"])
	assert.Contains(t, fmt.Sprint(check["last_error"]), "connection refused")
	assert.NotContains(t, fmt.Sprint(check), "pw-secret")
	assert.Contains(t, fmt.Sprint(check["message"]), "(connection refused)")
}
