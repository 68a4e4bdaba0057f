// Package agenttraces builds realistic telemetry of an LLM agent application as pdata,
// deterministically from a seed: the load generator sends it and benchmarks measure on
// it. One trace is what one agent request produces: an HTTP server span, an invoke_agent
// span, LLM inference spans that record usage in the instrumentation conventions apps
// use in practice, tool spans and database spans; a configurable share of traces fails
// with an exception.
package agenttraces // import "github.com/procode-ai/otelcol-procode/internal/agenttraces"

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Convention is a way instrumentation libraries record an LLM call on a span.
type Convention int

const (
	OTelGenAI           Convention = iota // current OTel GenAI semantic conventions
	OTelGenAIDeprecated                   // gen_ai.system, prompt_tokens/completion_tokens
	OpenLLMetry                           // Traceloop
	OpenInference                         // Arize Phoenix
	VercelAI                              // Vercel AI SDK
	OpenLIT
	numConventions
)

func (c Convention) String() string {
	return [...]string{"otel", "otel_deprecated", "openllmetry", "openinference", "vercel", "openlit"}[c]
}

// Options shape the generated traces.
type Options struct {
	Seed int64
	// ErrorRatio is the share of traces whose tool call fails with an exception (0.01).
	ErrorRatio float64
	// Services are the service.name values traces are spread over.
	Services []string
}

// DefaultOptions are the load generator's defaults.
func DefaultOptions() Options {
	return Options{Seed: 1, ErrorRatio: 0.01, Services: []string{"procode-agent-framework", "procode-research-agent"}}
}

// Generator builds traces. It is not safe for concurrent use; give each goroutine its own.
type Generator struct {
	opts Options
	rng  *rand.Rand
	now  func() time.Time
	// Counters of what was generated, for reports and test expectations.
	Traces, Spans, LLMSpans, ErrorTraces int
}

// New returns a Generator seeded with opts.Seed.
func New(opts Options) *Generator {
	if len(opts.Services) == 0 {
		opts.Services = DefaultOptions().Services
	}
	return &Generator{
		opts: opts,
		rng:  rand.New(rand.NewPCG(uint64(opts.Seed), uint64(opts.Seed)^0x9e3779b97f4a7c15)),
		now:  time.Now,
	}
}

var agents = []string{"support_agent", "research_agent", "coding_agent", "billing_agent"}
var tools = []string{"web_search", "sql_query", "send_email", "read_file", "calculator"}
var routes = []string{"/api/chat", "/api/agents/{agent_id}/invoke", "/api/tasks"}

// Batch appends traces to td until at least spans spans were added, and returns how
// many spans it added.
func (g *Generator) Batch(td ptrace.Traces, spans int) int {
	added := 0
	for added < spans {
		added += g.Trace(td)
	}
	return added
}

// Trace appends one agent request's trace to td and returns its span count.
func (g *Generator) Trace(td ptrace.Traces) int {
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	service := g.opts.Services[g.rng.IntN(len(g.opts.Services))]
	res.PutStr("service.name", service)
	res.PutStr("service.version", "1.4.2")
	res.PutStr("deployment.environment.name", "production")
	res.PutStr("telemetry.sdk.language", "python")
	res.PutStr("host.name", "agent-7f9c")
	spans := rs.ScopeSpans().AppendEmpty()
	spans.Scope().SetName("procode.agents")
	ss := spans.Spans()

	failed := g.rng.Float64() < g.opts.ErrorRatio
	traceID := g.traceID()
	start := g.now().Add(-2 * time.Second)
	agent := agents[g.rng.IntN(len(agents))]
	route := routes[g.rng.IntN(len(routes))]

	root := ss.AppendEmpty()
	g.span(root, traceID, pcommon.SpanID{}, "POST "+route, ptrace.SpanKindServer, start, 1800*time.Millisecond)
	ra := root.Attributes()
	ra.PutStr("http.request.method", "POST")
	ra.PutStr("http.route", route)
	ra.PutStr("url.path", "/api/chat")
	ra.PutStr("url.scheme", "https")
	ra.PutStr("server.address", "api.procode.example")
	ra.PutStr("user_agent.original", "procode-web/3.1")
	ra.PutStr("enduser.id", fmt.Sprintf("user-%d", g.rng.IntN(500)))
	status := int64(200)
	if failed {
		status = 500
		root.Status().SetCode(ptrace.StatusCodeError)
	}
	ra.PutInt("http.response.status_code", status)

	agentSpan := ss.AppendEmpty()
	g.span(agentSpan, traceID, root.SpanID(), "invoke_agent "+agent, ptrace.SpanKindInternal, start.Add(10*time.Millisecond), 1700*time.Millisecond)
	aa := agentSpan.Attributes()
	aa.PutStr("gen_ai.operation.name", "invoke_agent")
	aa.PutStr("gen_ai.agent.name", agent)
	aa.PutStr("gen_ai.agent.id", agent+"-v3")

	n := 2
	t := start.Add(20 * time.Millisecond)
	llmCalls := 2 + g.rng.IntN(3)
	var inTotal, outTotal int64
	for i := 0; i < llmCalls; i++ {
		s := ss.AppendEmpty()
		d := time.Duration(200+g.rng.IntN(900)) * time.Millisecond
		m := Models[g.rng.IntN(len(Models))]
		in, out := g.llm(s, traceID, agentSpan.SpanID(), m, Convention(g.rng.IntN(int(numConventions))), t, d)
		inTotal += in
		outTotal += out
		t = t.Add(d)
		n++
		g.LLMSpans++
	}
	// Agent spans repeat their children's usage, as several instrumentations do: a
	// pricer must not bill it twice.
	aa.PutInt("gen_ai.usage.input_tokens", inTotal)
	aa.PutInt("gen_ai.usage.output_tokens", outTotal)

	toolCalls := 1 + g.rng.IntN(2)
	for i := 0; i < toolCalls; i++ {
		s := ss.AppendEmpty()
		tool := tools[g.rng.IntN(len(tools))]
		g.span(s, traceID, agentSpan.SpanID(), "execute_tool "+tool, ptrace.SpanKindInternal, t, 40*time.Millisecond)
		s.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
		s.Attributes().PutStr("gen_ai.tool.name", tool)
		if failed && i == toolCalls-1 {
			g.exception(s, t.Add(35*time.Millisecond))
		}
		t = t.Add(45 * time.Millisecond)
		n++
	}

	dbCalls := 1 + g.rng.IntN(2)
	for i := 0; i < dbCalls; i++ {
		s := ss.AppendEmpty()
		op := []string{"SELECT", "INSERT", "UPDATE"}[g.rng.IntN(3)]
		g.span(s, traceID, root.SpanID(), op+" conversations", ptrace.SpanKindClient, t, time.Duration(2+g.rng.IntN(30))*time.Millisecond)
		s.Attributes().PutStr("db.system.name", "postgresql")
		s.Attributes().PutStr("db.operation.name", op)
		s.Attributes().PutStr("db.collection.name", "conversations")
		s.Attributes().PutStr("db.namespace", "procode")
		n++
	}

	g.Traces++
	g.Spans += n
	if failed {
		g.ErrorTraces++
	}
	return n
}

func (g *Generator) span(s ptrace.Span, traceID pcommon.TraceID, parent pcommon.SpanID, name string, kind ptrace.SpanKind, start time.Time, d time.Duration) {
	s.SetTraceID(traceID)
	s.SetSpanID(g.spanID())
	s.SetParentSpanID(parent)
	s.SetName(name)
	s.SetKind(kind)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(d)))
}

// llm fills an inference span in convention c and returns its input and output tokens.
func (g *Generator) llm(s ptrace.Span, traceID pcommon.TraceID, parent pcommon.SpanID, m Model, c Convention, start time.Time, d time.Duration) (int64, int64) {
	op := "chat"
	if m.Embedding {
		op = "embeddings"
	}
	g.span(s, traceID, parent, op+" "+m.Name, ptrace.SpanKindClient, start, d)
	in := int64(200 + g.rng.IntN(6000))
	out := int64(20 + g.rng.IntN(800))
	if m.Embedding {
		out = 0
	}
	cached := int64(0)
	if !m.Embedding && g.rng.IntN(3) == 0 {
		cached = in / 2
	}
	a := s.Attributes()
	switch c {
	case OTelGenAI:
		a.PutStr("gen_ai.operation.name", op)
		a.PutStr("gen_ai.provider.name", m.Provider)
		a.PutStr("gen_ai.request.model", m.Name)
		a.PutStr("gen_ai.response.model", m.Name)
		a.PutInt("gen_ai.usage.input_tokens", in)
		a.PutInt("gen_ai.usage.output_tokens", out)
		if cached > 0 {
			a.PutInt("gen_ai.usage.cache_read.input_tokens", cached)
		}
	case OTelGenAIDeprecated:
		a.PutStr("gen_ai.operation.name", op)
		a.PutStr("gen_ai.system", m.Provider)
		a.PutStr("gen_ai.request.model", m.Name)
		a.PutInt("gen_ai.usage.prompt_tokens", in)
		a.PutInt("gen_ai.usage.completion_tokens", out)
	case OpenLLMetry:
		a.PutStr("llm.request.type", map[bool]string{true: "embedding", false: "chat"}[m.Embedding])
		a.PutStr("gen_ai.system", m.Provider)
		a.PutStr("gen_ai.request.model", m.Name)
		a.PutStr("gen_ai.response.model", m.Name)
		a.PutInt("gen_ai.usage.prompt_tokens", in)
		a.PutInt("gen_ai.usage.completion_tokens", out)
		a.PutInt("llm.usage.total_tokens", in+out)
		if cached > 0 {
			a.PutInt("gen_ai.usage.cache_read_input_tokens", cached)
		}
	case OpenInference:
		a.PutStr("openinference.span.kind", map[bool]string{true: "EMBEDDING", false: "LLM"}[m.Embedding])
		a.PutStr("llm.provider", m.Provider)
		a.PutStr("llm.model_name", m.Name)
		// OpenInference apps often send counts as doubles or strings.
		a.PutDouble("llm.token_count.prompt", float64(in))
		a.PutStr("llm.token_count.completion", fmt.Sprint(out))
		a.PutInt("llm.token_count.total", in+out)
		if cached > 0 {
			a.PutInt("llm.token_count.prompt_details.cache_read", cached)
		}
	case VercelAI:
		s.SetName("ai.generateText.doGenerate")
		a.PutStr("operation.name", "ai.generateText.doGenerate")
		a.PutStr("ai.model.provider", m.Provider+".chat")
		a.PutStr("ai.model.id", m.Name)
		a.PutInt("ai.usage.promptTokens", in)
		a.PutInt("ai.usage.completionTokens", out)
	case OpenLIT:
		a.PutStr("gen_ai.operation.name", op)
		a.PutStr("gen_ai.system", m.Provider)
		a.PutStr("gen_ai.request.model", m.Name)
		a.PutInt("gen_ai.usage.input_tokens", in)
		a.PutInt("gen_ai.usage.output_tokens", out)
		a.PutInt("gen_ai.usage.total_tokens", in+out)
	}
	return in, out
}

const pythonTraceback = `Traceback (most recent call last):
  File "/app/procode/agents/tools.py", line 88, in run_tool
    result = await tool.invoke(arguments)
  File "/app/procode/tools/web_search.py", line 41, in invoke
    response.raise_for_status()
  File "/usr/local/lib/python3.12/site-packages/httpx/_models.py", line 829, in raise_for_status
    raise HTTPStatusError(message, request=request, response=self)
httpx.HTTPStatusError: Server error '503 Service Unavailable'`

func (g *Generator) exception(s ptrace.Span, at time.Time) {
	s.Status().SetCode(ptrace.StatusCodeError)
	s.Status().SetMessage("tool call failed")
	ev := s.Events().AppendEmpty()
	ev.SetName("exception")
	ev.SetTimestamp(pcommon.NewTimestampFromTime(at))
	ev.Attributes().PutStr("exception.type", "httpx.HTTPStatusError")
	ev.Attributes().PutStr("exception.message", "Server error '503 Service Unavailable'")
	ev.Attributes().PutStr("exception.stacktrace", pythonTraceback)
}

func (g *Generator) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(id[8:], g.rng.Uint64())
	return id
}

func (g *Generator) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], g.rng.Uint64()|1)
	return id
}

// Refresh gives every span of td new trace and span IDs (keeping parent links) and
// moves its timestamps so the trace ends now, so that a pre-built batch can be sent
// again and again as new traces.
func (g *Generator) Refresh(td ptrace.Traces) {
	now := pcommon.NewTimestampFromTime(g.now())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			if spans.Len() == 0 {
				continue
			}
			traceID := g.traceID()
			ids := make(map[pcommon.SpanID]pcommon.SpanID, spans.Len())
			var latest pcommon.Timestamp
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				ids[s.SpanID()] = g.spanID()
				if s.EndTimestamp() > latest {
					latest = s.EndTimestamp()
				}
			}
			shift := now - latest
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				s.SetTraceID(traceID)
				s.SetSpanID(ids[s.SpanID()])
				if p, ok := ids[s.ParentSpanID()]; ok {
					s.SetParentSpanID(p)
				}
				s.SetStartTimestamp(s.StartTimestamp() + shift)
				s.SetEndTimestamp(s.EndTimestamp() + shift)
				evs := s.Events()
				for e := 0; e < evs.Len(); e++ {
					evs.At(e).SetTimestamp(evs.At(e).Timestamp() + shift)
				}
			}
		}
	}
}
