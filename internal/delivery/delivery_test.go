package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/processor/processortest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sink records events.
type sink struct {
	mu     sync.Mutex
	events []Event
}

func (s *sink) DeliveryEvent(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
}

func (s *sink) of(kind Kind) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, ev := range s.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (s *sink) wait(t *testing.T, kind Kind, n int) []Event {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.of(kind)) >= n }, 10*time.Second, 5*time.Millisecond,
		"waiting for %d events of kind %d", n, kind)
	return s.of(kind)
}

// scopeField stands for the field the collector's service puts on every component's
// logger: one inline object holding the component's attributes.
type scopeField map[string]string

func (f scopeField) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for k, v := range f {
		enc.AddString(k, v)
	}
	return nil
}

// telemetry is what the collector's telemetry factory gives components: a wrapped meter
// provider over a real SDK provider (read by reader, as the collector's own /metrics
// would be) and a wrapped logger whose inner core writes warnings and above only.
type telemetry struct {
	obs    *Observer
	sink   *sink
	reader *sdkmetric.ManualReader
	mp     *MeterProvider
	logs   *observer.ObservedLogs
	logger *zap.Logger
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{obs: NewObserver(), sink: &sink{}, reader: sdkmetric.NewManualReader()}
	t.Cleanup(tel.obs.Subscribe(tel.sink))
	tel.mp = NewMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader)), tel.obs)
	t.Cleanup(func() { require.NoError(t, tel.mp.Shutdown(context.Background())) })
	inner, logs := observer.New(zapcore.WarnLevel)
	tel.logs = logs
	tel.logger = zap.New(WrapCore(inner, tel.obs))
	return tel
}

// settings are an exporter's settings as the service builds them.
func (tel *telemetry) settings(id component.ID, signal string) exporter.Settings {
	set := exportertest.NewNopSettings(id.Type())
	set.ID = id
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	set.MeterProvider = tel.mp
	set.Logger = tel.logger.With(zap.Inline(scopeField{
		componentIDKey: id.String(), componentKindKey: "exporter", signalKey: signal, "otelcol.pipeline.id": signal,
	}))
	return set
}

// pusher is a backend the test controls: each push returns the next queued answer, or
// blocks until one is given when hold is set.
type pusher struct {
	mu      sync.Mutex
	answers []error
	hold    chan struct{}
	held    chan struct{} // gets a value when a push starts waiting on hold
}

func (p *pusher) push(ctx context.Context, _ ptrace.Traces) error {
	p.mu.Lock()
	hold, held := p.hold, p.held
	p.mu.Unlock()
	if hold != nil {
		held <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.answers) == 0 {
		return nil
	}
	err := p.answers[0]
	if len(p.answers) > 1 {
		p.answers = p.answers[1:]
	}
	return err
}

func (p *pusher) set(answers ...error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers = answers
}

func traces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for range n {
		spans.AppendEmpty().SetName("op")
	}
	return td
}

func newExporter(t *testing.T, tel *telemetry, p *pusher, queueSize int64) exporter.Traces {
	t.Helper()
	id := component.MustNewIDWithName("otlp", "backend")
	retry := configretry.NewDefaultBackOffConfig()
	retry.InitialInterval, retry.MaxInterval, retry.MaxElapsedTime = 5*time.Millisecond, 10*time.Millisecond, 200*time.Millisecond
	queue := exporterhelper.QueueBatchConfig{Sizer: exporterhelper.RequestSizerTypeRequests, QueueSize: queueSize, NumConsumers: 1}
	exp, err := exporterhelper.NewTraces(context.Background(), tel.settings(id, "traces"), &struct{}{}, p.push,
		exporterhelper.WithRetry(retry), exporterhelper.WithQueue(configoptional.Some(queue)))
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

// The real exporterhelper of the pinned collector, driven through every outcome: the
// observer sees each with the exporter's ID, the signal, the item count and the cleaned
// error, while the wrapped meter provider still gets every measurement. This is the test
// that fails if an upgrade renames what the package observes.
func TestObservesExporterhelper(t *testing.T) {
	tel := newTelemetry(t)
	p := &pusher{}
	exp := newExporter(t, tel, p, 2)

	// Delivered.
	require.NoError(t, exp.ConsumeTraces(context.Background(), traces(3)))
	sent := tel.sink.wait(t, Sent, 1)
	assert.Equal(t, Event{Kind: Sent, Component: "otlp/backend", Signal: "traces", Items: 3, Time: sent[0].Time}, sent[0])

	// Failing attempts, retried, then given up on; the error carries a URL with
	// credentials and a query secret that must not come through.
	p.set(fmt.Errorf(`Post "https://user:hunter2@collector.example/v1/traces?api_key=k-123": dial tcp 10.0.0.1:443: connect: connection refused`))
	require.NoError(t, exp.ConsumeTraces(context.Background(), traces(2)))
	retrying := tel.sink.wait(t, Retrying, 2)
	assert.Equal(t, "otlp/backend", retrying[0].Component)
	assert.Equal(t, "traces", retrying[0].Signal)
	assert.Contains(t, retrying[0].Err, "connect: connection refused")
	failed := tel.sink.wait(t, SendFailed, 1)
	assert.Equal(t, int64(2), failed[0].Items)
	assert.False(t, failed[0].Permanent)
	dropped := tel.sink.wait(t, Dropped, 1)
	assert.Contains(t, dropped[0].Err, "no more retries left")
	assert.Equal(t, int64(2), dropped[0].Items)
	for _, ev := range append(retrying, dropped...) {
		for _, secret := range []string{"hunter2", "k-123", "user:"} {
			assert.NotContains(t, ev.Err, secret)
		}
	}
	// The retry entries are at info level: the configured level (warn) still decides what
	// is written, and the observer saw them anyway.
	assert.Zero(t, tel.logs.FilterMessage(msgRetrying).Len(), "the observer must not change what the logger writes")
	assert.Equal(t, 1, tel.logs.FilterMessageSnippet(msgDropping).Len())

	// A permanent error is given up on at once.
	p.set(consumererror.NewPermanent(errors.New("400 Bad Request: payload rejected")))
	require.NoError(t, exp.ConsumeTraces(context.Background(), traces(1)))
	failed = tel.sink.wait(t, SendFailed, 2)
	assert.True(t, failed[1].Permanent)
	assert.Equal(t, int64(1), failed[1].Items)

	// A full queue (its size counts the request in flight too): one request held by the
	// consumer, one waiting, the third refused.
	hold, held := make(chan struct{}), make(chan struct{}, 10)
	p.mu.Lock()
	p.hold, p.held, p.answers = hold, held, nil
	p.mu.Unlock()
	require.NoError(t, exp.ConsumeTraces(context.Background(), traces(1)))
	<-held
	require.NoError(t, exp.ConsumeTraces(context.Background(), traces(1)))
	require.Eventually(t, func() bool {
		qs := tel.obs.Queues(context.Background())
		return len(qs) == 1 && qs[0].Size == 2
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, []Queue{{Exporter: "otlp/backend", Signal: "traces", Size: 2, Capacity: 2}}, tel.obs.Queues(context.Background()))
	require.Error(t, exp.ConsumeTraces(context.Background(), traces(4)))
	enqueue := tel.sink.wait(t, EnqueueFailed, 1)
	assert.Equal(t, Event{Kind: EnqueueFailed, Component: "otlp/backend", Signal: "traces", Items: 4, Time: enqueue[0].Time}, enqueue[0])
	dropped = tel.sink.wait(t, Dropped, 3)
	assert.Contains(t, dropped[1].Err, "400 Bad Request")
	assert.Contains(t, dropped[2].Err, "sending queue is full")
	assert.Equal(t, int64(4), dropped[2].Items)
	close(hold)
	tel.sink.wait(t, Sent, 3) // the two held requests went out

	// The wrapped provider got the same measurements, and reads the queue itself.
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					got[m.Name] += dp.Value
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					got[m.Name] += dp.Value
				}
			}
		}
	}
	assert.Equal(t, int64(5), got["otelcol_exporter_sent_spans"])
	assert.Equal(t, int64(3), got["otelcol_exporter_send_failed_spans"])
	assert.Equal(t, int64(4), got["otelcol_exporter_enqueue_failed_spans"])
	assert.Equal(t, int64(2), got["otelcol_exporter_queue_capacity"])

	require.NoError(t, exp.Shutdown(context.Background()))
	// Its queue callbacks are gone with it.
	assert.Empty(t, tel.obs.Queues(context.Background()))
}

// Without a queue or retry, a failed send is given up on and rejected at once.
func TestObservesRejectionWithoutQueue(t *testing.T) {
	tel := newTelemetry(t)
	p := &pusher{}
	p.set(errors.New("503 Service Unavailable"))
	id := component.MustNewID("otlphttp")
	exp, err := exporterhelper.NewTraces(context.Background(), tel.settings(id, "traces"), &struct{}{}, p.push)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })

	require.Error(t, exp.ConsumeTraces(context.Background(), traces(5)))
	failed := tel.sink.wait(t, SendFailed, 1)
	assert.Equal(t, "otlphttp", failed[0].Component)
	assert.Equal(t, int64(5), failed[0].Items)
	dropped := tel.sink.wait(t, Dropped, 1)
	assert.Contains(t, dropped[0].Err, "503 Service Unavailable")
	assert.Equal(t, int64(5), dropped[0].Items)
	assert.Empty(t, tel.sink.of(Retrying))
}

// Find reaches the observer through a component's meter provider, also when the service
// wraps it again; any other provider has none.
func TestFind(t *testing.T) {
	tel := newTelemetry(t)
	obs, ok := Find(tel.mp)
	require.True(t, ok)
	assert.Same(t, tel.obs, obs)
	obs, ok = Find(attributeAdding{tel.mp})
	require.True(t, ok)
	assert.Same(t, tel.obs, obs)
	_, ok = Find(sdkmetric.NewMeterProvider())
	assert.False(t, ok)
	_, ok = Find(nil)
	assert.False(t, ok)

	o, ok := ObserverOf(tel.logger.Core())
	require.True(t, ok)
	assert.Same(t, tel.obs, o)
}

// attributeAdding stands for the service's wrapper that adds component attributes to
// every meter.
type attributeAdding struct{ *MeterProvider }

// The logger reports the configured level, and entries of components other than
// exporters and processors pass through untouched.
func TestLoggerUnchanged(t *testing.T) {
	tel := newTelemetry(t)
	assert.Equal(t, zapcore.WarnLevel, tel.logger.Level())
	rcv := tel.logger.With(zap.Inline(scopeField{componentIDKey: "otlp", componentKindKey: "receiver"}))
	assert.False(t, rcv.Core().Enabled(zapcore.InfoLevel))
	rcv.Info(msgRetrying)
	rcv.Warn("something else", zap.String("k", "v"))
	assert.Empty(t, tel.sink.events)
	require.Equal(t, 1, tel.logs.Len())
	assert.Equal(t, "something else", tel.logs.All()[0].Message)

	exp := tel.logger.With(zap.String(componentIDKey, "debug"), zap.String(componentKindKey, "Exporter"))
	assert.True(t, exp.Core().Enabled(zapcore.InfoLevel), "info entries of exporters are checked")
	assert.False(t, exp.Core().Enabled(zapcore.DebugLevel))
	exp.Info("Exporting failed. Will retry the request after interval.", zap.Error(errors.New("boom")), zap.String("interval", "5s"))
	evs := tel.sink.of(Retrying)
	require.Len(t, evs, 1)
	assert.Equal(t, "debug", evs[0].Component)
	assert.Equal(t, "boom", evs[0].Err)
}

func TestCounterKind(t *testing.T) {
	for name, want := range map[string][2]any{
		"otelcol_exporter_sent_spans":                          {Sent, "traces"},
		"otelcol_exporter_send_failed_log_records":             {SendFailed, "logs"},
		"otelcol_exporter_enqueue_failed_metric_points":        {EnqueueFailed, "metrics"},
		"otelcol_processor_memory_limiter_refused_log_records": {Refused, "logs"},
	} {
		kind, signal, ok := counterKind(name)
		require.True(t, ok, name)
		assert.Equal(t, want[0], kind, name)
		assert.Equal(t, want[1], signal, name)
	}
	for _, name := range []string{"otelcol_exporter_sent_bytes", "otelcol_receiver_refused_spans", "otelcol_exporter_queue_size", strings.Repeat("x", 5)} {
		_, _, ok := counterKind(name)
		assert.False(t, ok, name)
	}
}

// The real memory_limiter of the pinned collector, with a limit below what the test
// process already uses: it says why it starts refusing (its logger names no component),
// and each refusal is counted with the processor's ID.
func TestObservesMemoryLimiter(t *testing.T) {
	tel := newTelemetry(t)
	f := memorylimiterprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*memorylimiterprocessor.Config)
	cfg.CheckInterval = 10 * time.Millisecond
	cfg.MemoryLimitMiB, cfg.MemorySpikeLimitMiB = 2, 1
	id := component.MustNewID("memory_limiter")
	set := processortest.NewNopSettings(f.Type())
	set.ID = id
	set.MeterProvider = tel.mp
	// memory_limiter is shared by the pipelines that use it: the collector leaves only the
	// component kind on its logger.
	set.Logger = tel.logger.With(zap.Inline(scopeField{componentKindKey: "processor"}))
	proc, err := f.CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })

	refusing := tel.sink.wait(t, Refusing, 1)
	assert.Empty(t, refusing[0].Component)
	assert.Regexp(t, `^memory usage \d+ MiB is above the soft limit$`, refusing[0].Err)
	require.Eventually(t, func() bool {
		return proc.ConsumeTraces(context.Background(), traces(7)) != nil
	}, 10*time.Second, 10*time.Millisecond)
	refused := tel.sink.wait(t, Refused, 1)
	assert.Equal(t, Event{Kind: Refused, Component: "memory_limiter", Signal: "traces", Items: 7, Time: refused[0].Time}, refused[0])
}
