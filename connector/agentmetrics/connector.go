package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

// Metric indexes into agentMetrics.metrics.
const (
	mLLMRequests = iota
	mLLMDuration
	mLLMTokens
	mLLMCost
	mLLMUnpriced
	mAgentInvocations
	mAgentDuration
	mToolCalls
	mHTTPRequests
	mHTTPDuration
	mDBDuration
	mDBErrors
	mAgentRunCost
	mAgentRunDropped
	mDimCost
	mDimTokens
	mBudgetSpend
	mBudgetLimit
	mBudgetRatio
	numMetrics
)

const (
	labelService = "service.name"
	unknown      = "unknown"
	noAgent      = "none"
)

func metricDefs(cfg *Config) [numMetrics]*metricDef {
	llm := []string{labelService, attrProvider, attrModel, attrOperation}
	return [numMetrics]*metricDef{
		mLLMRequests: {name: "llm.requests", unit: "{request}", kind: kindIntSum,
			description: "LLM calls, by provider, model (price entry or capped name), operation and outcome.",
			labels:      append(append([]string{}, llm...), "outcome")},
		mLLMDuration: {name: "llm.request.duration", unit: "s", kind: kindHistogram, buckets: cfg.LLM.Buckets,
			description: "Duration of LLM calls.", labels: llm},
		mLLMTokens: {name: "llm.tokens", unit: "{token}", kind: kindIntSum,
			description: "Tokens used by LLM calls, by type (input counts every input token; cache_read and cache_write are parts of it).",
			labels:      []string{labelService, attrProvider, attrModel, "gen_ai.token.type"}},
		mLLMCost: {name: "llm.cost.usd", unit: "{USD}", kind: kindDoubleSum,
			description: "Cost of LLM calls in USD (priced by llm_cost or sent by the app), by provider, model, service and agent.",
			labels:      []string{labelService, attrProvider, attrModel, attrAgentName}},
		mLLMUnpriced: {name: "llm.unpriced.requests", unit: "{request}", kind: kindIntSum,
			description: "LLM calls whose model has no price, by model name as sent (lower-cased, capped).",
			labels:      []string{labelService, attrProvider, attrModel}},
		mAgentInvocations: {name: "agent.invocations", unit: "{invocation}", kind: kindIntSum,
			description: "Agent executions (invoke_agent spans), by agent and outcome.",
			labels:      []string{labelService, attrAgentName, "outcome"}},
		mAgentDuration: {name: "agent.duration", unit: "s", kind: kindHistogram, buckets: cfg.Agent.Buckets,
			description: "Duration of agent executions.", labels: []string{labelService, attrAgentName}},
		mToolCalls: {name: "agent.tool.calls", unit: "{call}", kind: kindIntSum,
			description: "Tool calls (execute_tool spans), by tool and outcome.",
			labels:      []string{labelService, attrToolName, "outcome"}},
		mHTTPRequests: {name: "http.server.requests", unit: "{request}", kind: kindIntSum,
			description: "HTTP requests served (server spans), by method, route and status class.",
			labels:      []string{labelService, attrHTTPMethod, attrHTTPRoute, "http.status_class"}},
		mHTTPDuration: {name: "http.server.request.duration", unit: "s", kind: kindHistogram, buckets: cfg.HTTP.Buckets,
			description: "Duration of HTTP requests served.", labels: []string{labelService, attrHTTPMethod, attrHTTPRoute}},
		mDBDuration: {name: "db.client.operation.duration", unit: "s", kind: kindHistogram, buckets: cfg.DB.Buckets,
			description: "Duration of database client operations.", labels: []string{labelService, attrDBSystem, attrDBOperation}},
		mDBErrors: {name: "db.client.errors", unit: "{error}", kind: kindIntSum,
			description: "Database client operations that failed.", labels: []string{labelService, attrDBSystem, attrDBOperation}},
		mAgentRunCost: {name: "agent.run.cost.usd", unit: "{USD}", kind: kindHistogram, buckets: cfg.AgentRunCost.Buckets,
			description: "Total cost in USD of the LLM calls of one agent run (invoke_agent span), by agent.",
			labels:      []string{labelService, attrAgentName}},
		mAgentRunDropped: {name: "agent.run.cost.dropped", unit: "{call}", kind: kindIntSum,
			description: "LLM calls whose cost could not be added to their agent run's cost (their cost counts in every other series), by reason.",
			labels:      []string{labelService, "reason"}},
		mDimCost: {name: "llm.dimension.cost.usd", unit: "{USD}", kind: kindDoubleSum,
			description: "Cost of LLM calls in USD by a configured cost dimension and its value (top spenders; the rest _other).",
			labels:      []string{labelService, "dimension", "dimension_value"}},
		mDimTokens: {name: "llm.dimension.tokens", unit: "{token}", kind: kindIntSum,
			description: "Tokens used by LLM calls by a configured cost dimension and its value, and token type.",
			labels:      []string{labelService, "dimension", "dimension_value", "gen_ai.token.type"}},
		mBudgetSpend: {name: "llm.budget.spend.usd", unit: "{USD}", kind: kindGauge,
			description: "USD spent in the budget's current UTC period.", labels: []string{labelService, "budget", "period"}},
		mBudgetLimit: {name: "llm.budget.limit.usd", unit: "{USD}", kind: kindGauge,
			description: "The budget's limit in USD per period.", labels: []string{labelService, "budget", "period"}},
		mBudgetRatio: {name: "llm.budget.used_ratio", unit: "", kind: kindGauge,
			description: "Spend in the current period divided by the limit.", labels: []string{labelService, "budget", "period"}},
	}
}

type agentMetrics struct {
	cfg    *Config
	next   consumer.Metrics
	logger *zap.Logger
	scope  string

	mu      sync.Mutex
	metrics [numMetrics]*metricState
	groups  [numGroupKinds]groupSet
	// Per-batch scratch, reused under mu (see batch.go).
	fields     spanFields
	batch      batchState
	overflowed bool

	// clock is time.Now, replaced in tests.
	clock func() time.Time
	id    component.ID

	dims          []*dimension
	lastRebalance time.Time
	runs          runTracker
	runCost       bool // agent_run_cost is enabled and the llm and agent groups are too
	budgets       []*budget
	storage       storage.Client

	stop chan struct{}
	done chan struct{}
}

var _ connector.Traces = (*agentMetrics)(nil)

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) *agentMetrics {
	c := &agentMetrics{cfg: cfg, next: next, logger: set.Logger, scope: scopeName,
		clock: time.Now, id: set.ID, batch: newBatchState()}
	for i, def := range metricDefs(cfg) {
		c.metrics[i] = newMetricState(def)
	}
	for i := range c.groups {
		c.groups[i] = newGroupSet()
	}
	for _, attr := range cfg.CostDimensions.Attributes {
		c.dims = append(c.dims, newDimension(attr, cfg.CostDimensions.MaxValues))
	}
	c.fields.dimKeys = newDimKeys(cfg.CostDimensions.Attributes)
	c.runCost = cfg.AgentRunCost.Enabled && cfg.LLM.Enabled && cfg.Agent.Enabled
	c.runs = newRunTracker(cfg.AgentRunCost.MaxOpenRuns)
	c.budgets = newBudgets(cfg)
	return c
}

func (*agentMetrics) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *agentMetrics) Start(ctx context.Context, host component.Host) error {
	if err := c.startStorage(ctx, host); err != nil {
		return err
	}
	c.stop = make(chan struct{})
	c.done = make(chan struct{})
	go c.flushLoop()
	return nil
}

// Shutdown emits the totals once more and stops. It is safe when Start never ran.
func (c *agentMetrics) Shutdown(ctx context.Context) error {
	if c.stop == nil {
		return nil
	}
	close(c.stop)
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.closeRuns(c.clock())
	c.flush(ctx)
	c.stop = nil
	if c.storage != nil {
		err := c.storage.Close(ctx)
		c.storage = nil
		return err
	}
	return nil
}

func (c *agentMetrics) flushLoop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.flush(context.Background())
		}
	}
}

func (c *agentMetrics) flush(ctx context.Context) {
	md, n := c.snapshot(pcommon.NewTimestampFromTime(c.clock()))
	c.saveBudgets(ctx)
	if n == 0 {
		return
	}
	if err := c.next.ConsumeMetrics(ctx, md); err != nil {
		c.logger.Warn("Agent metrics were not accepted downstream; they are sent again, as running totals, at the next flush", zap.Error(err))
	}
}

func (c *agentMetrics) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	wall := c.clock()
	now := pcommon.NewTimestampFromTime(wall)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepRuns(wall)
	c.batch.reset(td)
	f := &c.fields
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service := unknown
		if v, ok := rs.Resource().Attributes().Get(labelService); ok && v.Str() != "" {
			service = c.validLabel(c.capLabel(v.Str()))
		}
		c.batch.resource = c.readDims(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				f.scan(span.Attributes())
				c.record(span, f, service, now)
			}
		}
	}
	c.endBatch(wall, now)
	return nil
}

func (c *agentMetrics) overflow() {
	if !c.overflowed {
		c.overflowed = true
		c.logger.Warn("agent_metrics: a metric reached max_series label sets; further label sets are counted in one series labelled otel.metric.overflow=true",
			zap.Int("max_series", c.cfg.MaxSeries))
	}
}

// Kinds of groups (see groups.go).
const (
	gLLM = iota
	gAgent
	gTool
	gHTTP
	gDB
	numGroupKinds
)

func (c *agentMetrics) group(kind int, k labelKey) *group {
	if g, ok := c.groups[kind].groups[k]; ok {
		return g
	}
	// A new label set, or one that is not valid UTF-8: repaired, it may be a group
	// that exists already.
	for i := range k {
		k[i] = c.validLabel(k[i])
	}
	return c.groups[kind].get(&k, c.cfg.MaxSeries)
}

func (c *agentMetrics) record(span ptrace.Span, f *spanFields, service string, now pcommon.Timestamp) {
	outcome := slotOK
	if span.Status().Code() == ptrace.StatusCodeError || f.errorType != "" {
		outcome = slotError
	}
	seconds := durationSeconds(span)

	switch f.operation {
	case "invoke_agent":
		agent := or(c.capLabel(f.agent), unknown)
		g := c.group(gAgent, labelKey{service, agent})
		// Remember this run, for the LLM calls below it in the batch.
		c.batch.addRun(span, g, c.spanDims(f))
		if c.cfg.Agent.Enabled {
			c.member(g, outcome, mAgentInvocations, func(k *labelKey) { *k = g.key; k[2] = outcomeNames[outcome] }, now).intSum++
			c.member(g, slotDuration, mAgentDuration, func(k *labelKey) { *k = g.key }, now).observe(c.cfg.Agent.Buckets, seconds)
		}
	case "execute_tool":
		if c.cfg.Agent.Enabled {
			g := c.group(gTool, labelKey{service, or(c.capLabel(f.tool), unknown)})
			c.member(g, outcome, mToolCalls, func(k *labelKey) { *k = g.key; k[2] = outcomeNames[outcome] }, now).intSum++
		}
	}
	if c.cfg.LLM.Enabled && isCall(f.status) {
		c.recordLLM(span, f, service, outcome, seconds, now)
	}
	kind := span.Kind()
	if c.cfg.HTTP.Enabled && kind == ptrace.SpanKindServer && f.httpMethod != "" {
		g := c.group(gHTTP, labelKey{service, httpMethod(f.httpMethod), or(c.capLabel(f.httpRoute), unknown)})
		class := statusClass(f.httpStatus)
		c.member(g, slotClass+class, mHTTPRequests, func(k *labelKey) { *k = g.key; k[3] = statusClassNames[class] }, now).intSum++
		c.member(g, slotDuration, mHTTPDuration, func(k *labelKey) { *k = g.key }, now).observe(c.cfg.HTTP.Buckets, seconds)
	}
	if c.cfg.DB.Enabled && kind == ptrace.SpanKindClient && f.dbSystem != "" {
		g := c.group(gDB, labelKey{service, c.capLabel(f.dbSystem), or(c.capLabel(f.dbOperation), unknown)})
		c.member(g, slotDuration, mDBDuration, func(k *labelKey) { *k = g.key }, now).observe(c.cfg.DB.Buckets, seconds)
		if outcome == slotError {
			c.member(g, slotError, mDBErrors, func(k *labelKey) { *k = g.key }, now).intSum++
		}
	}
}

var outcomeNames = [2]string{slotOK: "ok", slotError: "error"}

// isCall reports whether a span with this llm_cost.status is an LLM call of its own:
// not an aggregate of its children's calls (skipped, which includes pending spans) and
// not a second span of a call another span already counts (duplicate). A call without
// token counts (no_usage) or with impossible ones (invalid) is a call: a request,
// without tokens or cost.
func isCall(status string) bool {
	switch status {
	case "", "skipped", "duplicate":
		return false
	}
	return true
}

func (c *agentMetrics) recordLLM(span ptrace.Span, f *spanFields, service string, outcome int, seconds float64, now pcommon.Timestamp) {
	g := c.group(gLLM, labelKey{service, or(c.capLabel(f.provider), unknown), or(c.capLabel(f.model), unknown), or(c.capLabel(f.operation), unknown)})
	if !f.requestCounted { // else the call's request (and duration) came with another span
		c.member(g, outcome, mLLMRequests, func(k *labelKey) { *k = g.key; k[4] = outcomeNames[outcome] }, now).intSum++
		c.member(g, slotDuration, mLLMDuration, func(k *labelKey) { *k = g.key }, now).observe(c.cfg.LLM.Buckets, seconds)
	}

	hasCost := false
	switch f.status {
	case "invalid":
		return
	case "unpriced":
		c.member(g, slotUnpriced, mLLMUnpriced, func(k *labelKey) { k[0], k[1], k[2] = g.key[0], g.key[1], g.key[2] }, now).intSum++
	case "priced", "provided":
		hasCost = f.hasCost
	}
	// Cost goes to its agent, dimensions, budgets and run once the whole batch is read:
	// most instrumentations name the agent, and set the tenant or user, on the
	// invoke_agent span only, which ends (and may come) after its calls.
	if hasCost || (len(c.dims) > 0 && f.anyTokens()) {
		c.batch.addCall(span, f, g, hasCost, c.spanDims(f))
	}
	for t := 0; t < numTokenTypes; t++ {
		if f.hasTokens[t] {
			c.member(g, slotTokens+t, mLLMTokens, func(k *labelKey) {
				k[0], k[1], k[2], k[3] = g.key[0], g.key[1], g.key[2], tokenTypeNames[t]
			}, now).intSum += f.tokens[t]
		}
	}
}

// maxDuration bounds a span's plausible duration: one whose start is missing or that
// lasted longer has no duration (noDuration), rather than a 56-year call in a histogram.
const maxDuration = 24 * time.Hour

// noDuration is the duration of a span whose times cannot be right; observe skips it.
const noDuration = -1

func durationSeconds(span ptrace.Span) float64 {
	start, end := span.StartTimestamp(), span.EndTimestamp()
	switch {
	case start == 0 || end == 0:
		return noDuration
	case end <= start:
		return 0
	case end-start > pcommon.Timestamp(maxDuration):
		return noDuration
	}
	return float64(end-start) / 1e9
}

// capLabel cuts a label value from a span attribute to MaxLabelLength bytes on a rune
// boundary. It only reads valid text, the per-span case; bytes that are not UTF-8 are
// replaced where a value is about to key a new group or series (see validLabel).
func (c *agentMetrics) capLabel(s string) string {
	n := c.cfg.MaxLabelLength
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// httpMethod bounds the method label to the methods HTTP defines, as the OTel HTTP
// conventions do; anything else is _OTHER.
func httpMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m
	}
	return "_OTHER"
}

var statusClassNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", unknown}

// statusClass is the index in statusClassNames of an HTTP status code's class.
func statusClass(code int64) int {
	if code < 100 || code > 599 {
		return len(statusClassNames) - 1
	}
	return int(code/100) - 1
}
