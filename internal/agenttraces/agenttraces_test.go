package agenttraces

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestDeterministic(t *testing.T) {
	a, b := ptrace.NewTraces(), ptrace.NewTraces()
	New(DefaultOptions()).Batch(a, 500)
	New(DefaultOptions()).Batch(b, 500)
	ma, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(a)
	require.NoError(t, err)
	mb, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(b)
	require.NoError(t, err)
	// Timestamps come from the clock; compare shapes instead of bytes.
	assert.Equal(t, a.SpanCount(), b.SpanCount())
	assert.InDelta(t, len(ma), len(mb), float64(len(ma))/50)
}

func TestMix(t *testing.T) {
	g := New(Options{Seed: 7, ErrorRatio: 0.01})
	td := ptrace.NewTraces()
	n := g.Batch(td, 100_000)
	assert.Equal(t, n, td.SpanCount())
	share := float64(g.LLMSpans) / float64(g.Spans)
	assert.InDelta(t, 0.35, share, 0.07, "about a third of spans are LLM calls")
	assert.InDelta(t, 0.01, float64(g.ErrorTraces)/float64(g.Traces), 0.005)

	models := map[string]bool{}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		spans := rss.At(i).ScopeSpans().At(0).Spans()
		for k := 0; k < spans.Len(); k++ {
			a := spans.At(k).Attributes()
			for _, key := range []string{"gen_ai.request.model", "llm.model_name", "ai.model.id"} {
				if v, ok := a.Get(key); ok {
					models[v.Str()] = true
				}
			}
		}
	}
	assert.Len(t, models, 48, "50 (provider, model) pairs; gpt-4o and gpt-4o-mini come from both OpenAI and Azure")
}

func TestRefreshKeepsParentLinks(t *testing.T) {
	g := New(DefaultOptions())
	td := ptrace.NewTraces()
	g.Trace(td)
	before := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	oldTrace := before.At(0).TraceID()
	g.Refresh(td)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	root := spans.At(0)
	assert.NotEqual(t, oldTrace, root.TraceID())
	assert.True(t, root.ParentSpanID().IsEmpty())
	ids := map[[8]byte]bool{}
	for k := 0; k < spans.Len(); k++ {
		ids[spans.At(k).SpanID()] = true
		assert.Equal(t, root.TraceID(), spans.At(k).TraceID())
	}
	for k := 1; k < spans.Len(); k++ {
		assert.True(t, ids[spans.At(k).ParentSpanID()], "span %d keeps a parent in the trace", k)
	}
}
