package llmcost

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// benchModel is one of the 50 models the benchmark batch uses.
type benchModel struct {
	provider, name string // as a span sends them
	in, out        float64
}

var benchProviders = map[string]string{"openai": "openai", "anthropic": "anthropic", "google": "gcp.gemini",
	"mistral": "mistral_ai", "cohere": "cohere", "deepseek": "deepseek", "x-ai": "x_ai", "groq": "groq", "aws": "aws.bedrock"}

// benchModels takes 50 models with flat input and output prices from the first-party
// providers of the built-in table, a few from each.
func benchModels(tb testing.TB) []benchModel {
	t, err := pricing.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	var out []benchModel
	for round := 0; len(out) < 50; round++ {
		for _, p := range t.Providers {
			sp, ok := benchProviders[p.ID]
			if !ok || round >= len(p.Models) || len(out) == 50 {
				continue
			}
			m := p.Models[round]
			ps := m.Periods[len(m.Periods)-1].Prices
			if ps.Input == nil || ps.Output == nil || len(m.Periods) > 1 {
				continue
			}
			out = append(out, benchModel{provider: sp, name: m.ID, in: ps.Input.Base, out: ps.Output.Base})
		}
	}
	return out
}

// benchBatch builds 1,000 spans of realistic agent traces: per trace an HTTP server
// span, an agent span, database and HTTP client spans, tool calls and LLM calls in
// five conventions. About 30% are LLM calls; 50 distinct models.
func benchBatch(tb testing.TB) ptrace.Traces {
	models := benchModels(tb)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-app")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	start := pcommon.NewTimestampFromTime(time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC))
	llm := 0
	for i := 0; spans.Len() < 1000; i++ {
		add := func(name string, attrs map[string]any) {
			if spans.Len() == 1000 {
				return
			}
			s := spans.AppendEmpty()
			s.SetName(name)
			s.SetStartTimestamp(start)
			s.SetEndTimestamp(start + 1e9)
			if err := s.Attributes().FromRaw(attrs); err != nil {
				tb.Fatal(err)
			}
		}
		add("POST /api/chat", map[string]any{"http.request.method": "POST", "http.route": "/api/chat", "http.response.status_code": 200,
			"url.scheme": "https", "server.address": "api.example.com", "user_agent.original": "Mozilla/5.0", "client.address": "10.0.0.1",
			"network.protocol.version": "1.1"})
		add("invoke_agent planner", map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner",
			"gen_ai.agent.id": "agt_123", "gen_ai.usage.input_tokens": 9000, "gen_ai.usage.output_tokens": 800})
		add("SELECT orders", map[string]any{"db.system.name": "postgresql", "db.namespace": "shop", "db.operation.name": "SELECT",
			"db.collection.name": "orders", "db.query.text": "SELECT * FROM orders WHERE id = $1", "server.address": "db", "server.port": 5432})
		add("execute_tool search", map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
			"gen_ai.tool.call.id": "call_1", "gen_ai.tool.type": "function"})
		add("GET", map[string]any{"http.request.method": "GET", "url.full": "https://search.example.com/q", "http.response.status_code": 200,
			"server.address": "search.example.com", "server.port": 443, "network.peer.address": "10.1.2.3"})
		for j := 0; j < 3; j++ {
			m := models[llm%len(models)]
			add("chat "+m.name, llmAttrs(llm%5, m))
			llm++
		}
		add("INSERT audit", map[string]any{"db.system.name": "postgresql", "db.operation.name": "INSERT", "db.collection.name": "audit",
			"server.address": "db", "server.port": 5432})
		add("cache get", map[string]any{"db.system.name": "redis", "db.operation.name": "GET", "server.address": "cache", "server.port": 6379})
	}
	return td
}

// llmAttrs is an LLM call of model m in one of five conventions.
func llmAttrs(conv int, m benchModel) map[string]any {
	common := map[string]any{"server.address": "api.provider.com", "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 1024,
		"gen_ai.response.id": "resp_abc123", "gen_ai.response.finish_reasons": "stop"}
	var a map[string]any
	switch conv {
	case 0: // OTel GenAI
		a = map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": m.provider, "gen_ai.request.model": m.name,
			"gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300, "gen_ai.usage.cache_read.input_tokens": 200,
			"gen_ai.agent.name": "planner"}
	case 1: // deprecated GenAI
		a = map[string]any{"gen_ai.system": m.provider, "gen_ai.request.model": m.name,
			"gen_ai.usage.prompt_tokens": 1200, "gen_ai.usage.completion_tokens": 300}
	case 2: // OpenLLMetry
		a = map[string]any{"gen_ai.system": m.provider, "llm.request.type": "chat", "gen_ai.request.model": m.name,
			"gen_ai.response.model": m.name, "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300,
			"llm.usage.total_tokens": 1500, "gen_ai.usage.cache_read_input_tokens": 100}
	case 3: // OpenInference
		a = map[string]any{"openinference.span.kind": "LLM", "llm.provider": m.provider, "llm.model_name": m.name,
			"llm.token_count.prompt": 1200, "llm.token_count.completion": 300, "llm.token_count.total": 1500}
	default: // Vercel AI SDK
		a = map[string]any{"ai.operationId": "ai.generateText.doGenerate", "ai.model.provider": m.provider + ".chat", "ai.model.id": m.name,
			"ai.usage.promptTokens": 1200, "ai.usage.completionTokens": 300, "operation.name": "ai.generateText.doGenerate"}
	}
	for k, v := range common {
		a[k] = v
	}
	return a
}

func startBenchTraces(b *testing.B, f processor.Factory, cfg any) processor.Traces {
	b.Helper()
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// runBatch times p on the batch. Before each run, with the timer (and allocation
// counting) stopped, the attributes the previous run appended are removed again, so
// every run prices pristine spans without the benchmark itself producing garbage.
// Allocations counted are the processor's own.
func runBatch(b *testing.B, p processor.Traces, batch ptrace.Traces) {
	spans := batch.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	lens := make([]int, spans.Len())
	for i := range lens {
		lens[i] = spans.At(i).Attributes().Len()
	}
	restore := func() {
		for i := range lens {
			n, attrs := 0, spans.At(i).Attributes()
			if attrs.Len() == lens[i] {
				continue
			}
			attrs.RemoveIf(func(string, pcommon.Value) bool { n++; return n > lens[i] })
		}
	}
	if err := p.ConsumeTraces(context.Background(), batch); err != nil { // warm the cache
		b.Fatal(err)
	}
	n := batch.SpanCount()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		restore()
		b.StartTimer()
		if err := p.ConsumeTraces(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	restore()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/span")
}

// BenchmarkProcessTraces: 1,000-span batch, ~30% LLM calls in five conventions, 50
// models, warm resolution cache.
func BenchmarkProcessTraces(b *testing.B) {
	runBatch(b, startBenchTraces(b, NewFactory(), createDefaultConfig()), benchBatch(b))
}

// BenchmarkResolveCold resolves every entry id of the built-in table with an empty
// cache: the one-off cost of a name the processor has not seen.
func BenchmarkResolveCold(b *testing.B) {
	t, err := pricing.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	type ref struct{ provider, model string }
	var refs []ref
	for _, p := range t.Providers {
		for _, m := range p.Models {
			refs = append(refs, ref{p.ID, m.ID})
		}
	}
	// Unknown names walk every rule of the table: the worst case.
	for i := 0; i < 50; i++ {
		refs = append(refs, ref{"", fmt.Sprintf("in-house-model-%d-2025-01-01", i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := refs[i%len(refs)]
		m, _ := t.Resolve(r.provider, r.model, nil)
		if m == nil && r.provider != "" {
			b.Fatalf("%s/%s does not resolve", r.provider, r.model)
		}
	}
	b.ReportMetric(float64(len(refs)), "names")
}

// ottlStatements is the same pricing written as transform processor statements, the
// way a user would without llm_cost: per model and per convention, input and output at
// the model's base price. It still lacks cache, reasoning, tier and date prices,
// normalisation, validation and provenance.
func ottlStatements(models []benchModel) []any {
	type conv struct{ model, in, out string }
	convs := []conv{
		{`span.attributes["gen_ai.request.model"]`, `span.attributes["gen_ai.usage.input_tokens"]`, `span.attributes["gen_ai.usage.output_tokens"]`},
		{`span.attributes["gen_ai.request.model"]`, `span.attributes["gen_ai.usage.prompt_tokens"]`, `span.attributes["gen_ai.usage.completion_tokens"]`},
		{`span.attributes["llm.model_name"]`, `span.attributes["llm.token_count.prompt"]`, `span.attributes["llm.token_count.completion"]`},
		{`span.attributes["ai.model.id"]`, `span.attributes["ai.usage.promptTokens"]`, `span.attributes["ai.usage.completionTokens"]`},
	}
	var out []any
	for _, m := range models {
		for _, c := range convs {
			out = append(out, fmt.Sprintf(`set(span.attributes["gen_ai.usage.cost"], Double(%s) * %s + Double(%s) * %s) where %s == %q and %s != nil and %s != nil`,
				c.in, strconv.FormatFloat(m.in/1e6, 'f', -1, 64), c.out, strconv.FormatFloat(m.out/1e6, 'f', -1, 64), c.model, m.name, c.in, c.out))
		}
	}
	return out
}

// BenchmarkOTTLTransform runs ottlStatements in the transform processor over the same
// batch: the side-by-side for BenchmarkProcessTraces.
func BenchmarkOTTLTransform(b *testing.B) {
	f := transformprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	stmts := ottlStatements(benchModels(b))
	err := confmap.NewFromStringMap(map[string]any{
		"error_mode":       "ignore",
		"trace_statements": []any{map[string]any{"context": "span", "statements": stmts}},
	}).Unmarshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(stmts)), "statements")
	runBatch(b, startBenchTraces(b, f, cfg), benchBatch(b))
}

// TestOTTLStatementsPriceLikeUs checks that the OTTL side really prices the batch, so
// the side-by-side compares equal work: every LLM span gets the same cost from both.
func TestOTTLStatementsPriceLikeUs(t *testing.T) {
	batch := benchBatch(t)
	f := transformprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	require := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	require(confmap.NewFromStringMap(map[string]any{"error_mode": "ignore",
		"trace_statements": []any{map[string]any{"context": "span", "statements": ottlStatements(benchModels(t))}}}).Unmarshal(cfg))
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	require(err)
	require(p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require(p.Shutdown(context.Background())) }()
	ottlIn := ptrace.NewTraces()
	batch.CopyTo(ottlIn)
	require(p.ConsumeTraces(context.Background(), ottlIn))
	ours := process(t, createDefaultConfig().(*Config), batch)

	a, o := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans(), ours.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	llm, priced := 0, 0
	for i := 0; i < a.Len(); i++ {
		if !strings.HasPrefix(o.At(i).Name(), "chat ") {
			continue
		}
		llm++
		oc, ok1 := o.At(i).Attributes().Get(attrCost)
		ac, ok2 := a.At(i).Attributes().Get(attrCost)
		if !ok1 || !ok2 {
			t.Fatalf("span %d (%s): cost ours %v ottl %v", i, o.At(i).Name(), ok1, ok2)
		}
		// OTTL ignores cached-token discounts, so compare on spans without cache reads.
		if _, cached := o.At(i).Attributes().Get("gen_ai.usage.cache_read.input_tokens"); !cached {
			if d := oc.Double() - ac.Double(); d > 1e-12 || d < -1e-12 {
				t.Fatalf("span %d (%s): ours %v, ottl %v", i, o.At(i).Name(), oc.Double(), ac.Double())
			}
			priced++
		}
	}
	if llm < 290 || llm > 310 || priced == 0 {
		t.Fatalf("%d LLM spans of %d, %d compared", llm, a.Len(), priced)
	}
}

// attrPool is a set of identical attribute maps that a benchmark works through, putting
// them back (removing what it appended) with the timer stopped only once per pool, so
// the timer's own cost does not land on every operation.
type attrPool struct {
	maps []pcommon.Map
	n0   int
	next int
}

func newAttrPool(b *testing.B, raw map[string]any) *attrPool {
	p := &attrPool{maps: make([]pcommon.Map, 1024)}
	for i := range p.maps {
		p.maps[i] = pcommon.NewMap()
		if err := p.maps[i].FromRaw(raw); err != nil {
			b.Fatal(err)
		}
		p.maps[i].EnsureCapacity(p.maps[i].Len() + 16)
	}
	p.n0 = p.maps[0].Len()
	return p
}

func (p *attrPool) get(b *testing.B) pcommon.Map {
	if p.next == len(p.maps) {
		b.StopTimer()
		for _, m := range p.maps {
			n := 0
			m.RemoveIf(func(string, pcommon.Value) bool { n++; return n > p.n0 })
		}
		p.next = 0
		b.StartTimer()
	}
	p.next++
	return p.maps[p.next-1]
}

// BenchmarkSpanKinds splits BenchmarkProcessTraces by kind of span: spans that are no
// LLM call (read, nothing written), and an LLM call in each convention (read, priced,
// about a dozen attributes written).
func BenchmarkSpanKinds(b *testing.B) {
	m := benchModels(b)[0]
	kinds := []struct {
		name  string
		attrs map[string]any
	}{
		{"http_server", map[string]any{"http.request.method": "POST", "http.route": "/api/chat", "http.response.status_code": 200,
			"url.scheme": "https", "server.address": "api.example.com", "user_agent.original": "Mozilla/5.0", "client.address": "10.0.0.1"}},
		{"execute_tool", map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search", "gen_ai.tool.call.id": "call_1"}},
		{"llm_otel", llmAttrs(0, m)}, {"llm_deprecated", llmAttrs(1, m)}, {"llm_openllmetry", llmAttrs(2, m)},
		{"llm_openinference", llmAttrs(3, m)}, {"llm_vercel", llmAttrs(4, m)},
	}
	p, err := newProcessor(processortest.NewNopSettings(NewFactory().Type()), createDefaultConfig().(*Config), signalSpans)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			pool := newAttrPool(b, k.attrs)
			var rec record
			p.eng.process(&rec, pcommon.NewMap(), "chat", 0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.eng.process(&rec, pool.get(b), "chat", 1_756_728_000_000_000_000)
			}
		})
	}
}

// BenchmarkAttributeWritesFloor is what pdata alone charges to append the attributes a
// priced OTel span receives (status, model, match, version, cost and three breakdown
// buckets) to a span with the same attributes: the floor under any processor that
// writes them.
func BenchmarkAttributeWritesFloor(b *testing.B) {
	pool := newAttrPool(b, llmAttrs(0, benchModels(b)[0]))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		attrs := pool.get(b)
		attrs.PutDouble(attrCost, 0.1)
		attrs.PutStr(attrStatus, statusPriced)
		attrs.PutStr(attrModel, "gpt-4o")
		attrs.PutStr(attrMatch, "exact")
		attrs.PutStr(attrVersion, "embedded 2026-09-23")
		attrs.PutDouble(attrBreakInput, 0.05)
		attrs.PutDouble(attrBreakOutput, 0.04)
		attrs.PutDouble(attrBreakCacheRead, 0.01)
	}
}
