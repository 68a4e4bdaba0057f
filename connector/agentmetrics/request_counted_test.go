package agentmetrics

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// One call whose span without usage (no_usage) reached the connector in one batch and
// whose span with usage, priced by llm_cost in a later batch, names the first in
// llm_cost.request_counted_by: the call is one request (and one duration), its tokens
// and cost come from the priced span.
func TestRequestCountedByAnotherSpanAddsTokensAndCostOnly(t *testing.T) {
	c, _ := newTestConnector(t)
	first := newBatch("svc")
	bare := first.span(ptrace.SpanKindClient, pcommon.SpanID{}, 200*time.Millisecond, false, map[string]any{"llm_cost.status": "no_usage",
		"gen_ai.provider.name": "anthropic", "llm_cost.model": "claude-sonnet-4-5", "gen_ai.operation.name": "chat"})
	require.NoError(t, c.ConsumeTraces(context.Background(), first.td))

	second := newBatch("svc")
	second.next = 10
	second.span(ptrace.SpanKindClient, bare.SpanID(), 190*time.Millisecond, false,
		llmAttrs("priced", "anthropic", "claude-sonnet-4-5", 0.0105, 5050, 300, map[string]any{"llm_cost.request_counted_by": bare.SpanID().String()}))
	require.NoError(t, c.ConsumeTraces(context.Background(), second.td))

	md, _ := c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	assert.Equal(t, 1.0, lookup(md, "llm.requests", nil).sum, "the call is counted once")
	assert.Equal(t, uint64(1), lookup(md, "llm.request.duration", nil).count)
	assert.InDelta(t, 0.0105, lookup(md, "llm.cost.usd", nil).sum, 1e-12, "the cost of the priced span")
	assert.Equal(t, 5050.0, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "input"}).sum)
	assert.Equal(t, 300.0, lookup(md, "llm.tokens", map[string]any{"gen_ai.token.type": "output"}).sum)

	// A priced span without the mark is a request of its own.
	third := newBatch("svc")
	third.next = 20
	third.span(ptrace.SpanKindClient, pcommon.SpanID{}, 100*time.Millisecond, false,
		llmAttrs("priced", "anthropic", "claude-sonnet-4-5", 0.0105, 5050, 300, nil))
	require.NoError(t, c.ConsumeTraces(context.Background(), third.td))
	md, _ = c.snapshot(pcommon.NewTimestampFromTime(time.Now()))
	assert.Equal(t, 2.0, lookup(md, "llm.requests", nil).sum)
	assert.InDelta(t, 0.021, lookup(md, "llm.cost.usd", nil).sum, 1e-12)
}
