package sentryerrors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
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
	for i, p := range costParts {
		a.PutDouble("llm_cost.breakdown."+p, float64(i+1)/100)
	}
	a.PutStr("gen_ai.operation.name", "chat")

	l := m.llmContext(a, new(scrub.Counts), getEventBuf())
	require.NotNil(t, l)
	want := llmContext{
		provider: "anthropic", model: "claude-sonnet-4", operation: "chat",
		inputTokens:         optNum{v: 120, ok: true},
		outputTokens:        optNum{v: 30, ok: true},
		totalTokens:         optNum{v: 150, ok: true}, // none given: input + output
		cacheReadTokens:     optNum{v: 40, ok: true},
		cacheCreationTokens: optNum{v: 5, ok: true},
		reasoningTokens:     optNum{v: 7, ok: true},
		costStatus:          "priced", priceID: "anthropic/claude-sonnet-4", pricingVersion: "2026-05-01",
		finishReasons: []byte(`["stop"]`),
	}
	for i := range costParts {
		want.breakdown[i] = optNum{v: float64(i+1) / 100, ok: true}
	}
	assert.Equal(t, want, *l)

	// The current names win over older ones when both are there.
	a.PutInt("gen_ai.usage.input_tokens", 1)
	a.PutInt("gen_ai.usage.output_tokens", 2)
	a.PutInt("gen_ai.usage.total_tokens", 4)
	a.PutStr("gen_ai.provider.name", "aws.bedrock")
	l = m.llmContext(a, new(scrub.Counts), getEventBuf())
	assert.Equal(t, optNum{v: 1, ok: true}, l.inputTokens)
	assert.Equal(t, optNum{v: 2, ok: true}, l.outputTokens)
	assert.Equal(t, optNum{v: 4, ok: true}, l.totalTokens)
	assert.Equal(t, "aws.bedrock", l.provider)

	// No provider and no model: no llm context, whatever else there is.
	b := pcommon.NewMap()
	b.PutInt("gen_ai.usage.input_tokens", 10)
	assert.Nil(t, m.llmContext(b, new(scrub.Counts), getEventBuf()))
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

// TestTimeFormat: event and breadcrumb timestamps are written as time.RFC3339Nano
// writes them, for UTC times and others, whole seconds and every fraction length.
func TestTimeFormat(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	zone := time.FixedZone("X", 5*3600+1800)
	times := []time.Time{time.Unix(0, 0).UTC(), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 1, 12, 0, 0, 5, zone), time.Date(2026, 6, 1, 12, 0, 0, 5, time.Local)}
	for i := 0; i < 2000; i++ {
		ts := time.Unix(rng.Int63n(1<<34), rng.Int63n(1e9)).UTC()
		switch i % 4 {
		case 0:
			ts = ts.Truncate(time.Second)
		case 1:
			ts = ts.Truncate(time.Millisecond)
		}
		times = append(times, ts)
	}
	for _, ts := range times {
		require.Equal(t, ts.Format(time.RFC3339Nano), string(appendRFC3339Nano([]byte("x"), ts)[1:]), "%v", ts)
	}
}
