package sentryerrors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestLLMContextReadsEachConvention: the llm context takes each field from the first of
// its attributes (current convention, older names, OpenLLMetry's) that holds a usable
// value: a number, or text that is one; NaN and text that is not a number give way to the
// next name.
func TestLLMContextReadsEachConvention(t *testing.T) {
	m := testMapper(t, nil)
	a := pcommon.NewMap()
	a.PutStr("gen_ai.system", "anthropic")
	a.PutStr("gen_ai.request.model", "claude-sonnet-4")
	a.PutStr("gen_ai.usage.input_tokens", "many") // not a number: the next name is read
	a.PutStr("gen_ai.usage.prompt_tokens", "120")
	a.PutInt("llm.usage.prompt_tokens", 999)
	a.PutInt("llm.usage.completion_tokens", 30)
	a.PutDouble("gen_ai.usage.cost", math.NaN())
	a.PutInt("gen_ai.usage.cache_read.input_tokens", 40)
	a.PutInt("gen_ai.usage.cache_creation.input_tokens", 5)
	a.PutInt("gen_ai.usage.reasoning.output_tokens", 7)
	a.PutStr("llm_cost.status", "priced")
	a.PutStr("llm_cost.model", "anthropic/claude-sonnet-4")
	a.PutStr("llm_cost.pricing_version", "2026-05-01")
	a.PutEmptySlice("gen_ai.response.finish_reasons").AppendEmpty().SetStr("stop")
	for i, p := range sentryevent.CostParts {
		a.PutDouble("llm_cost.breakdown."+p, float64(i+1)/100)
	}
	a.PutStr("gen_ai.operation.name", "chat")

	l := m.llmContext(a, new(scrub.Counts))
	require.NotNil(t, l)
	num := func(v float64) sentryevent.Number { return sentryevent.Number{V: v, OK: true} }
	want := sentryevent.LLM{
		Provider: "anthropic", Model: "claude-sonnet-4", Operation: "chat",
		InputTokens:         num(120),
		OutputTokens:        num(30),
		TotalTokens:         num(150), // none given: input + output
		CacheReadTokens:     num(40),
		CacheCreationTokens: num(5),
		ReasoningTokens:     num(7),
		CostStatus:          "priced", PriceID: "anthropic/claude-sonnet-4", PricingVersion: "2026-05-01",
		FinishReasons: []byte(`["stop"]`),
	}
	for i := range sentryevent.CostParts {
		want.Breakdown[i] = num(float64(i+1) / 100)
	}
	assert.Equal(t, want, *l)

	// The current names win over older ones when both are there.
	a.PutInt("gen_ai.usage.input_tokens", 1)
	a.PutInt("gen_ai.usage.output_tokens", 2)
	a.PutInt("gen_ai.usage.total_tokens", 4)
	a.PutStr("gen_ai.provider.name", "aws.bedrock")
	l = m.llmContext(a, new(scrub.Counts))
	assert.Equal(t, sentryevent.Number{V: 1, OK: true}, l.InputTokens)
	assert.Equal(t, sentryevent.Number{V: 2, OK: true}, l.OutputTokens)
	assert.Equal(t, sentryevent.Number{V: 4, OK: true}, l.TotalTokens)
	assert.Equal(t, "aws.bedrock", l.Provider)

	// No provider and no model: no llm context, whatever else there is.
	b := pcommon.NewMap()
	b.PutInt("gen_ai.usage.input_tokens", 10)
	assert.Nil(t, m.llmContext(b, new(scrub.Counts)))
}

// TestEventIDFraming: an event id is the first half of the SHA-256 of its parts, each
// preceded by its length, in hex, whether the parts are small (hashed from the stack)
// or large (a log record's body, hashed as a stream).
func TestEventIDFraming(t *testing.T) {
	for _, parts := range [][][]byte{
		{[]byte("span"), make([]byte, 16), make([]byte, 8), {0, 0, 0, 1}},
		{[]byte("log"), []byte(strings.Repeat("body ", 100))},
		{},
	} {
		var framed []byte
		for _, p := range parts {
			framed = binary.BigEndian.AppendUint32(framed, uint32(len(p)))
			framed = append(framed, p...)
		}
		sum := sha256.Sum256(framed)
		assert.Equal(t, hex.EncodeToString(sum[:16]), string(eventID(parts...)))
	}
}

// TestKindNames: the otel context's span kind is the kind's name without "Span", lower case.
func TestKindNames(t *testing.T) {
	for _, k := range []ptrace.SpanKind{ptrace.SpanKindUnspecified, ptrace.SpanKindInternal, ptrace.SpanKindServer,
		ptrace.SpanKindClient, ptrace.SpanKindProducer, ptrace.SpanKindConsumer, ptrace.SpanKind(42)} {
		assert.Equal(t, strings.ToLower(strings.TrimPrefix(k.String(), "Span")), kindName(k))
	}
}
