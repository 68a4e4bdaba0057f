package delivery

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// lockingSink stands for the readiness extension: it takes a lock per event.
type lockingSink struct {
	mu sync.Mutex
	n  int64
}

func (s *lockingSink) DeliveryEvent(ev Event) {
	s.mu.Lock()
	s.n += ev.Items
	s.mu.Unlock()
}

// BenchmarkSentCounter measures what exporterhelper pays per request (not per span) for
// otelcol_exporter_sent_spans: the SDK counter alone, and wrapped with an observer and a
// subscriber. Instruments the observer does not know are the SDK's own, unwrapped.
func BenchmarkSentCounter(b *testing.B) {
	opt := metric.WithAttributeSet(attribute.NewSet(attribute.String("exporter", "otlp/traces")))
	for _, tc := range []struct {
		name    string
		observe bool
	}{{"sdk", false}, {"observed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var mp metric.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			if tc.observe {
				obs := NewObserver()
				obs.Subscribe(&lockingSink{})
				mp = NewMeterProvider(mp.(*sdkmetric.MeterProvider), obs)
			}
			c, err := mp.Meter("exporterhelper").Int64Counter("otelcol_exporter_sent_spans")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.Add(ctx, 100, opt)
			}
		})
	}
}
