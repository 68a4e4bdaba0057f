package llmcost

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
)

// mtok is a price in USD per million tokens applied to n tokens: tests compute
// expected costs from the published prices with it.
func mtok(n, usdPerMillion float64) float64 { return n * usdPerMillion / 1e6 }

// newTracesProcessor starts a traces processor with cfg that forwards to sink.
func newTracesProcessor(t *testing.T, cfg *Config, sink *consumertest.TracesSink) processor.Traces {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

func newLogsProcessor(t *testing.T, cfg *Config, sink *consumertest.LogsSink) processor.Logs {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	p, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return p
}

// oneSpan builds a trace with a single span carrying attrs.
func oneSpan(name string, start time.Time, attrs map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-app")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("test")
	span := ss.Spans().AppendEmpty()
	span.SetName(name)
	span.SetKind(ptrace.SpanKindClient)
	span.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	span.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(1500 * time.Millisecond)))
	if err := span.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return td
}

func oneLog(ts time.Time, attrs map[string]any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "agent-app")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.SetEventName("gen_ai.client.inference.operation.details")
	if err := lr.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return ld
}

func firstSpanAttrs(td ptrace.Traces) pcommon.Map {
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
}

func newNopSettings() processor.Settings { return processortest.NewNopSettings(metadata.Type) }
