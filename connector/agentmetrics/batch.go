package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// spanKey names a span across batches: span ids are only unique within a trace.
type spanKey struct {
	trace pcommon.TraceID
	span  pcommon.SpanID
}

// batchSpan is what a walk up the parents needs of a span: its trace, its parent, and
// whether it is an invoke_agent span (its index in runs, else -1).
type batchSpan struct {
	trace  pcommon.TraceID
	parent pcommon.SpanID
	run    int32
}

// batchRun is an invoke_agent span of the batch.
type batchRun struct {
	key   spanKey
	group *group // its agent group: (service, agent)
	dims  int32  // offset in batchState.dimVals of its own dimension values
	cost  float64
}

// batchCall is an LLM call of the batch with cost (or, with dimensions, tokens),
// counted once the batch is read.
type batchCall struct {
	key       spanKey
	parent    pcommon.SpanID
	group     *group // its LLM group: (service, provider, model, operation)
	agent     string // its own gen_ai.agent.name, capped; "" when it has none
	cost      float64
	hasCost   bool
	tokens    [numTokenTypes]int64
	hasTokens [numTokenTypes]bool
	resource  int32 // offset in dimVals of its resource's dimension values
	dims      int32 // offset in dimVals of its own dimension values
}

// batchState is per-batch scratch, reused from batch to batch so that a batch of known
// label sets allocates nothing. Strings point into the batch's own memory.
type batchState struct {
	// td is the batch. spans indexes its spans by id, built only when a call's parent is
	// not an invoke_agent span of the batch (runIdx), or calls are held. Both are keyed
	// by span id alone (8 bytes hash faster than 24) and check the trace id on a hit.
	td       ptrace.Traces
	spans    map[pcommon.SpanID]batchSpan
	indexed  bool
	runIdx   map[pcommon.SpanID]int32
	runs     []batchRun
	calls    []batchCall
	dimVals  []string // dimension values: one entry per dimension per span or resource read
	resource int32    // offset of the current resource's values
	resolved []string // a call's dimension values, resolved (endBatch)
}

func newBatchState() batchState {
	return batchState{spans: make(map[pcommon.SpanID]batchSpan), runIdx: make(map[pcommon.SpanID]int32)}
}

func (b *batchState) reset(td ptrace.Traces) {
	b.td = td
	if b.indexed {
		clear(b.spans)
		b.indexed = false
	}
	clear(b.runIdx)
	b.runs = b.runs[:0]
	b.calls = b.calls[:0]
	b.dimVals = b.dimVals[:0]
}

func (b *batchState) addRun(span ptrace.Span, g *group, dims int32) int32 {
	k := spanKey{span.TraceID(), span.SpanID()}
	b.runs = append(b.runs, batchRun{key: k, group: g, dims: dims})
	run := int32(len(b.runs) - 1)
	b.runIdx[k.span] = run
	return run
}

// runOf returns the index of the run of span id in trace, if it is one of the batch.
func (b *batchState) runOf(trace pcommon.TraceID, id pcommon.SpanID) (int32, bool) {
	run, ok := b.runIdx[id]
	if !ok || b.runs[run].key.trace != trace {
		return -1, false
	}
	return run, true
}

// index builds the index of every span of the batch, once per batch at most.
func (b *batchState) index() {
	if b.indexed {
		return
	}
	b.indexed = true
	b.eachSpan(func(span ptrace.Span) {
		run, _ := b.runOf(span.TraceID(), span.SpanID())
		b.spans[span.SpanID()] = batchSpan{trace: span.TraceID(), parent: span.ParentSpanID(), run: run}
	})
}

// eachSpan calls f with every span of the batch.
func (b *batchState) eachSpan(f func(ptrace.Span)) {
	rss := b.td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				f(spans.At(k))
			}
		}
	}
}

func (b *batchState) addCall(span ptrace.Span, f *spanFields, g *group, hasCost bool, dims int32) {
	b.calls = append(b.calls, batchCall{key: spanKey{span.TraceID(), span.SpanID()}, parent: span.ParentSpanID(),
		group: g, agent: f.agent, cost: f.cost, hasCost: hasCost, tokens: f.tokens, hasTokens: f.hasTokens,
		resource: b.resource, dims: dims})
}

// maxDepth bounds the walk up a span's parents (a cycle of ids is possible in bad input).
const maxDepth = 64

// nearestRun walks up from parent to the nearest invoke_agent span of the batch. It
// returns that run's index, or -1 with the first ancestor that is not in the batch
// (missing; zero when the chain ends at a root span: the call is in no agent run).
func (b *batchState) nearestRun(trace pcommon.TraceID, parent pcommon.SpanID) (run int32, missing spanKey) {
	if parent.IsEmpty() {
		return -1, spanKey{}
	}
	// Most calls are children of their invoke_agent span.
	if run, ok := b.runOf(trace, parent); ok {
		return run, spanKey{}
	}
	b.index()
	id := parent
	for range maxDepth {
		if id.IsEmpty() {
			return -1, spanKey{}
		}
		s, ok := b.spans[id]
		if !ok || s.trace != trace {
			return -1, spanKey{trace, id}
		}
		if s.run >= 0 {
			return s.run, spanKey{}
		}
		id = s.parent
	}
	return -1, spanKey{}
}

// endBatch counts each call's cost under its agent, its dimension values, the budgets
// it matches and its agent run, now that every invoke_agent span of the batch is known.
func (c *agentMetrics) endBatch(wall time.Time, now pcommon.Timestamp) {
	b := &c.batch
	if c.runCost {
		c.claimHeld(wall)
	}
	nd := len(c.dims)
	for i := range b.calls {
		call := &b.calls[i]
		run, missing := b.nearestRun(call.key.trace, call.parent)
		var r *batchRun
		if run >= 0 {
			r = &b.runs[run]
		}
		// The agent label of llm.cost.usd: the call's own, else its parent's when that is
		// its invoke_agent span, else none. Runs, dimensions and budgets' agent selector
		// look further up, to the nearest invoke_agent ancestor (a call under a tool or
		// chain span is still that agent's spend).
		agent := c.capLabel(call.agent)
		budgetAgent := agent
		if agent == "" {
			agent = noAgent
			if r != nil && r.key.span == call.parent {
				agent = r.group.key[1]
			}
			budgetAgent = agent
			if r != nil {
				budgetAgent = r.group.key[1]
			}
		}
		if call.hasCost {
			c.costSeries(call.group, agent, now).dblSum += call.cost
			if c.runCost {
				switch {
				case r != nil:
					r.cost += call.cost
				case missing != spanKey{}:
					c.hold(missing, call.cost, 1, call.group, wall)
				}
			}
		}
		// A dimension's value: the span's attribute, else its invoke_agent ancestor's,
		// else its resource's.
		b.resolved = b.resolved[:0]
		for d := 0; d < nd; d++ {
			v := b.dimVals[int(call.dims)+d]
			if v == "" && r != nil {
				v = b.dimVals[int(r.dims)+d]
			}
			if v == "" {
				v = b.dimVals[int(call.resource)+d]
			}
			b.resolved = append(b.resolved, v)
			c.addDimension(c.dims[d], call, v, now)
		}
		if call.hasCost {
			for _, bg := range c.budgets {
				if bg.matches(call.group, budgetAgent, b.resolved) {
					bg.add(call.cost, wall)
				}
			}
		}
	}
	if c.runCost {
		for i := range b.runs {
			c.openRun(&b.runs[i], wall, now)
		}
	}
	for _, d := range c.dims {
		d.lastRaw, d.last, d.lastSeries = "", nil, nil // it points into the batch
	}
}

// readDims appends the values of the configured dimensions found in attrs ("" when
// absent) and returns their offset. It searches attrs once per dimension: for resources.
func (c *agentMetrics) readDims(attrs pcommon.Map) int32 {
	b := &c.batch
	off := int32(len(b.dimVals))
	for _, d := range c.dims {
		v := ""
		if a, ok := attrs.Get(d.attr); ok {
			v = dimString(a)
		}
		b.dimVals = append(b.dimVals, v)
	}
	return off
}

// spanDims appends the dimension values scan found on a span and returns their offset.
func (c *agentMetrics) spanDims(f *spanFields) int32 {
	b := &c.batch
	off := int32(len(b.dimVals))
	for i := range c.dims {
		v := ""
		if f.dimFound&(1<<i) != 0 {
			v = dimString(f.dimKeys.vals[i])
		}
		b.dimVals = append(b.dimVals, v)
	}
	return off
}

func dimString(a pcommon.Value) string {
	if a.Type() == pcommon.ValueTypeStr {
		return a.Str()
	}
	return a.AsString() // numbers, booleans: allocates, once per span
}
