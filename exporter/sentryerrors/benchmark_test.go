package sentryerrors

import (
	"context"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
)

// BenchmarkMapAndEncode measures what the exporter does per error on the pipeline's
// path: mapping a batch's error spans to events (stack parsing, contexts, breadcrumbs,
// scrubbing) and encoding each event's JSON. One op is one error event.
func BenchmarkMapAndEncode(b *testing.B) {
	for _, tc := range []struct{ name, lang, typ, stack string }{
		{"python_chain", "python", "ToolExecutionError", "python_tool_call.txt"},
		{"java_causes", "java", "com.example.orders.OrderProcessingException", "java_causes.txt"},
		{"go_panic", "go", "runtime.boundsError", "go_panic.txt"},
		{"node", "nodejs", "TypeError", "node_error.txt"},
		{"dotnet_inner", "dotnet", "System.InvalidOperationException", "dotnet_inner.txt"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := testMapper(b, nil)
			td := agentTrace(b, tc.lang, tc.typ, "failure with password=hunter2 inside", tc.stack)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			size := 0
			for i := 0; i < b.N; i++ {
				res := m.mapTraces(td)
				for j := range res.events {
					e := &res.events[j]
					payload, _, err := sentryevent.Encode(e.event)
					if err != nil {
						b.Fatal(err)
					}
					size = len(payload)
				}
			}
			cpu := processCPU() - cpu0
			b.ReportMetric(float64(size), "json-B/event")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			// On a shared machine wall time includes waiting for the CPU; the process's own
			// CPU time (GC included) is what one core spends per event.
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
		})
	}
}

// BenchmarkConsumeBatchWithoutErrors is the exporter's cost for a 1,000-span batch in
// which nothing failed: one pass over the spans, nothing mapped, nothing queued.
func BenchmarkConsumeBatchWithoutErrors(b *testing.B) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	setResource(rs.Resource(), "python")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 1000; i++ {
		s := spans.AppendEmpty()
		s.SetTraceID(traceID)
		s.SetSpanID([8]byte{byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6})
		s.SetName("GET /api/items")
		s.SetStartTimestamp(ts(i))
		s.SetEndTimestamp(ts(i + 5))
		s.Attributes().PutStr("http.request.method", "GET")
		s.Attributes().PutInt("http.response.status_code", 200)
		s.Events().AppendEmpty().SetName("cache.miss")
	}
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = "https://public@127.0.0.1:9/1" // never contacted: there is nothing to send
	exp, err := NewFactory().CreateTraces(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = exp.Shutdown(context.Background()) }()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		if err := exp.ConsumeTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/1000, "ns/span")
	// The process's CPU time per span: what the batch costs one core, waits for the CPU aside.
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-ns/span")
}

// BenchmarkEncodeEvent is the encoding alone: one mapped event to its JSON payload.
func BenchmarkEncodeEvent(b *testing.B) {
	m := testMapper(b, nil)
	me := m.mapTraces(agentTrace(b, "python", "ToolExecutionError", "x", "python_tool_call.txt")).events[0]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := encodeEvent(me); err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU is the user+system CPU time the test process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
