package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// dropReason is why an error did not become a delivered event; the values are the
// metric's reason attribute.
type dropReason int

const (
	dropFiltered dropReason = iota
	dropSampled
	dropNoDSN
	dropFingerprintLimit
	dropRateLimited
	dropPermanentError
	numReasons
)

var reasonNames = [numReasons]string{
	dropFiltered:         "scrub.Filtered",
	dropSampled:          "sampled",
	dropNoDSN:            "no_dsn",
	dropFingerprintLimit: "fingerprint_limit",
	dropRateLimited:      "rate_limited",
	dropPermanentError:   "permanent_error",
}

// mappedEvent is an error that passed the filters, ready to be encoded.
type mappedEvent struct {
	route  string // the dsn_by_service key, "" for dsn
	event  *sentryevent.Event
	scrubs scrub.Counts
}

// mapResult is what one batch yields.
type mapResult struct {
	events []mappedEvent
	drops  [numReasons]int64
}

// route picks the DSN for a service; ok is false when no DSN applies.
func (m *mapper) route(service string) (string, bool) {
	if _, ok := m.cfg.DSNByService[service]; ok && service != "" {
		return service, true
	}
	return "", m.cfg.DSN != ""
}

// admit applies ignore_exceptions, sample_rate and the DSN routing to an event about
// to be mapped, counting the drop when it goes no further; route is the DSN key.
func (m *mapper) admit(res *mapResult, id sentry.EventID, typ, service string) (route string, ok bool) {
	if ignored(m.cfg.IgnoreExceptions, typ) {
		res.drops[dropFiltered]++
		return "", false
	}
	if !sampled(id, m.cfg.SampleRate) {
		res.drops[dropSampled]++
		return "", false
	}
	if route, ok = m.route(service); !ok {
		res.drops[dropNoDSN]++
	}
	return route, ok
}

// spanRef is one span of a trace that has an error in the batch.
type spanRef struct {
	span  ptrace.Span
	res   *resourceInfo
	scope pcommon.InstrumentationScope
}

// traceIndex holds the spans of the traces that have errors, for breadcrumbs and for
// the context of ancestor spans.
type traceIndex struct {
	byTrace   map[pcommon.TraceID][]spanRef
	bySpan    map[pcommon.SpanID]spanRef
	timelines map[pcommon.TraceID]traceTimeline
}

// linearScanMax is the most spans of a trace (or events of a span) that each error
// scans in turn; larger ones are put in time order once (see traceTimeline). A few
// dozen cost less scanned than sorted. A variable for tests, which set it to 0 to hold
// both ways to the same result.
var linearScanMax = 32

// traceTimeline is a trace's spans in the order they ended, built once per batch for
// its errors: each error then finds its breadcrumbs and its LLM call by a binary search
// instead of a pass over the whole trace (which made an error storm in one trace cost
// the square of its size: 4,000 spans, half of them errors, took 7.5 s).
type traceTimeline struct {
	ended []timed[spanRef] // spans that ended (end time set), by end time
	llm   []timed[spanRef] // LLM calls (not tool executions), by end time
}

func (ti *traceIndex) timeline(tid pcommon.TraceID) traceTimeline {
	if tl, ok := ti.timelines[tid]; ok {
		return tl
	}
	refs := ti.byTrace[tid]
	both := make([]timed[spanRef], 0, 2*len(refs)) // one array for the two timelines
	tl := traceTimeline{ended: both[:0:len(refs)], llm: both[len(refs):len(refs)]}
	for _, r := range refs {
		end := int64(r.span.EndTimestamp())
		if end != 0 {
			tl.ended = append(tl.ended, timed[spanRef]{at: end, ref: r})
		}
		if isLLMCall(r.span.Attributes()) {
			tl.llm = append(tl.llm, timed[spanRef]{at: end, ref: r})
		}
	}
	sortByTime(tl.ended)
	sortByTime(tl.llm)
	if ti.timelines == nil {
		ti.timelines = make(map[pcommon.TraceID]traceTimeline, len(ti.byTrace))
	}
	ti.timelines[tid] = tl
	return tl
}

// isLLMCall reports whether attrs describe an LLM call: a model or provider, and not a
// tool execution.
func isLLMCall(attrs pcommon.Map) bool {
	return str(attrs, "gen_ai.request.model", "gen_ai.provider.name", "gen_ai.system") != "" &&
		str(attrs, "gen_ai.operation.name") != "execute_tool"
}

func (ti *traceIndex) parent(s ptrace.Span) (spanRef, bool) {
	if s.ParentSpanID().IsEmpty() {
		return spanRef{}, false
	}
	p, ok := ti.bySpan[s.ParentSpanID()]
	if !ok || p.span.TraceID() != s.TraceID() {
		return spanRef{}, false
	}
	return p, true
}

// isErrorSpan reports whether a span yields any event: an exception event or status ERROR.
func isErrorSpan(s ptrace.Span) bool {
	if s.Status().Code() == ptrace.StatusCodeError {
		return true
	}
	evs := s.Events()
	for i := 0; i < evs.Len(); i++ {
		if evs.At(i).Name() == "exception" {
			return true
		}
	}
	return false
}

// hasErrorSpan reports whether any span of the batch yields an event.
func hasErrorSpan(td ptrace.Traces) bool {
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				if isErrorSpan(s) {
					return true
				}
			}
		}
	}
	return false
}

// mapTraces turns the errors of a batch into events. A batch without errors costs one
// pass over its spans and no allocation.
func (m *mapper) mapTraces(td ptrace.Traces) mapResult {
	var res mapResult
	var bs *batchScratch // taken at the first error
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				if !isErrorSpan(s) {
					continue
				}
				if bs == nil {
					bs = newBatchScratch()
				}
				bs.errTraces[s.TraceID()] = struct{}{}
				bs.errSpans = append(bs.errSpans, spanRef{span: s, scope: sss.At(j).Scope()})
			}
		}
	}
	if bs == nil {
		return res
	}
	errTraces, errSpans, ti := bs.errTraces, bs.errSpans, &bs.index

	// Second pass, only for the traces with errors: index their spans.
	resInfo := bs.resources(rss.Len())
	errIdx := 0
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				if _, ok := errTraces[s.TraceID()]; !ok {
					continue
				}
				ri := &resInfo[i]
				if !ri.filled {
					m.resourceInto(ri, rss.At(i).Resource())
				}
				ref := spanRef{span: s, res: ri, scope: sss.At(j).Scope()}
				refs := ti.byTrace[s.TraceID()]
				if refs == nil {
					refs = bs.refList()
				}
				ti.byTrace[s.TraceID()] = append(refs, ref)
				ti.bySpan[s.SpanID()] = ref
				// errSpans is in the same order as this walk.
				if errIdx < len(errSpans) && errSpans[errIdx].span == s {
					errSpans[errIdx].res = ri
					errIdx++
				}
			}
		}
	}

	for _, ref := range errSpans {
		m.spanEvents(ref, ti, &res)
	}
	return res
}

// spanEvents makes one event per exception event of the span, or one for its ERROR
// status when it has none.
func (m *mapper) spanEvents(ref spanRef, ti *traceIndex, res *mapResult) {
	s := ref.span
	evs := s.Events()
	found := false
	// A span with many events: its events in time order, once for all its exceptions
	// (see traceTimeline).
	var events []timed[int]
	if n := evs.Len(); m.cfg.MaxBreadcrumbs > 0 && n > linearScanMax {
		events = make([]timed[int], n)
		for i := range events {
			events[i] = timed[int]{at: int64(evs.At(i).Timestamp()), ref: i}
		}
		sortByTime(events)
	}
	for i := 0; i < evs.Len(); i++ {
		e := evs.At(i)
		if e.Name() != "exception" {
			continue
		}
		found = true
		a := e.Attributes()
		in := exceptionInput{
			typ:        str(a, "exception.type"),
			message:    str(a, "exception.message"),
			stacktrace: str(a, "exception.stacktrace"),
			mechanism:  "opentelemetry",
		}
		ts := e.Timestamp().AsTime()
		if e.Timestamp() == 0 {
			ts = s.EndTimestamp().AsTime()
		}
		m.spanEvent(ref, ti, events, i, in, ts, res)
	}
	if !found && s.Status().Code() == ptrace.StatusCodeError {
		in := exceptionInput{
			typ:       str(s.Attributes(), "error.type"),
			message:   s.Status().Message(),
			mechanism: "opentelemetry.span_status",
		}
		if in.message == "" && in.typ == "" {
			in.message = s.Name() + " failed"
		}
		m.spanEvent(ref, ti, events, -1, in, s.EndTimestamp().AsTime(), res)
	}
}

func (m *mapper) spanEvent(ref spanRef, ti *traceIndex, events []timed[int], eventIndex int, in exceptionInput, ts time.Time, res *mapResult) {
	s, ri := ref.span, ref.res
	tid, sid := s.TraceID(), s.SpanID()
	var idx [4]byte
	binary.BigEndian.PutUint32(idx[:], uint32(int32(eventIndex)))
	id := eventID([]byte("span"), tid[:], sid[:], idx[:])

	mainType := in.typ
	if mainType == "" && in.stacktrace == "" {
		mainType = str(s.Attributes(), "error.type")
	}
	route, ok := m.admit(res, id, mainType, ri.service)
	if !ok {
		return
	}

	var c scrub.Counts
	ev := m.newEvent(ri, id, ts, &c)
	ev.Level = sentry.LevelError
	ev.Logger = m.scrub.Text(truncate(ref.scope.Name(), 256), &c)
	parsedType, panicked := m.exceptions(ev, ri, in, &c)
	if ignored(m.cfg.IgnoreExceptions, parsedType) {
		res.drops[dropFiltered]++
		return
	}
	if panicked {
		ev.Level = sentry.LevelFatal
	}

	attrs := s.Attributes()
	tr := &sentryevent.Trace{Op: spanOp(s), Status: spanStatus(s)}
	tr.TraceID, tr.SpanID, tr.ParentSpanID = hexIDs(tid, sid, s.ParentSpanID())
	if s.Name() != "" {
		tr.Description = m.scrub.Text(truncate(s.Name(), 256), &c)
	}
	ev.Contexts.Trace = tr
	httpRoute := m.ancestorContexts(ev, ref, ti, &c)
	if ev.Contexts.LLM == nil {
		ev.Contexts.LLM = m.precedingLLMCall(ti, tid, sid, ts, &c)
	}
	ev.Contexts.Agent = m.toolFields(ev.Contexts.Agent, attrs, &c)
	errorType := str(attrs, "error.type")
	if errorType == "" {
		errorType = parsedType
	}
	m.setTags(ev, errorType, httpRoute, &c)
	ev.Contexts.Otel = m.otelContext(attrs, ri.attrs, &c)
	ev.Contexts.Otel.Kind = kindName(s.Kind())
	ev.Contexts.Otel.Scope = ev.Logger
	if m.cfg.MaxBreadcrumbs > 0 {
		ev.Breadcrumbs = finishBreadcrumbs(m.spanBreadcrumbs(s, ti, events, eventIndex, ts, &c), m.cfg.MaxBreadcrumbs)
	}
	ev.Fingerprint = m.fingerprintValues(parsedType, s.Name(), attrs, ri.attrs, &c)

	res.events = append(res.events, mappedEvent{route: route, event: ev, scrubs: c})
}

// ancestorContexts fills the event's transaction, llm and agent contexts, request and
// user from the span, else from its nearest ancestor in the batch that has each, and
// returns the http.route found so.
func (m *mapper) ancestorContexts(ev *sentryevent.Event, ref spanRef, ti *traceIndex, c *scrub.Counts) (httpRoute string) {
	var chainArr [8]spanRef // most agent traces are shallower
	chain := append(chainArr[:0], ref)
	for p, ok := ti.parent(ref.span); ok && len(chain) < 64; p, ok = ti.parent(p.span) {
		chain = append(chain, p)
	}
	ev.Transaction = m.scrub.Text(truncate(chain[len(chain)-1].span.Name(), 256), c)
	for i, r := range chain {
		a := r.span.Attributes()
		if ev.Contexts.LLM == nil {
			if ev.Contexts.LLM = m.llmContext(a, c); ev.Contexts.LLM != nil && i > 0 {
				ev.Contexts.LLM.SpanID = r.span.SpanID().String()
			}
		}
		if ev.Contexts.Agent == nil {
			ev.Contexts.Agent = m.agentContext(a, c)
		}
		if ev.Request == nil {
			ev.Request = m.request(a, c)
		}
		if ev.User.ID == "" {
			ev.User = m.user(a, c)
		}
		if httpRoute == "" {
			httpRoute = str(a, "http.route")
		}
	}
	return httpRoute
}

// precedingLLMCall is the llm context of the LLM call of the trace that ended last at or
// before the error (of equal end times, the first in the batch), nil when none did: an
// error after an LLM call, such as a tool call failing on the model's arguments.
func (m *mapper) precedingLLMCall(ti *traceIndex, tid pcommon.TraceID, sid pcommon.SpanID, ts time.Time, c *scrub.Counts) *sentryevent.LLM {
	var last *spanRef
	if refs := ti.byTrace[tid]; len(refs) <= linearScanMax {
		for i, r := range refs {
			if r.span.SpanID() == sid || r.span.EndTimestamp().AsTime().After(ts) || !isLLMCall(r.span.Attributes()) {
				continue
			}
			if last == nil || r.span.EndTimestamp() > last.span.EndTimestamp() {
				last = &refs[i]
			}
		}
	} else {
		calls := ti.timeline(tid).llm
		for i := upTo(calls, ts.UnixNano()) - 1; i >= 0; i-- {
			if last != nil && calls[i].at < int64(last.span.EndTimestamp()) {
				break
			}
			if calls[i].ref.span.SpanID() != sid {
				last = &calls[i].ref
			}
		}
	}
	if last == nil {
		return nil
	}
	llm := m.llmContext(last.span.Attributes(), c)
	if llm != nil {
		llm.SpanID = last.span.SpanID().String()
	}
	return llm
}

// spanBreadcrumbs are the span's other events, then the spans of the trace that ended
// before the error; only the latest max_breadcrumbs of each can be among the latest of
// all. events is the span's events in time order, nil for a span of few events.
func (m *mapper) spanBreadcrumbs(s ptrace.Span, ti *traceIndex, events []timed[int], eventIndex int, ts time.Time, c *scrub.Counts) []*sentryevent.Breadcrumb {
	var bc []*sentryevent.Breadcrumb
	k, at, sid := m.cfg.MaxBreadcrumbs, ts.UnixNano(), s.SpanID()
	evs := s.Events()
	if events == nil {
		for i := 0; i < evs.Len(); i++ {
			if e := evs.At(i); i != eventIndex && !e.Timestamp().AsTime().After(ts) {
				bc = append(bc, m.eventBreadcrumb(e, c))
			}
		}
	} else {
		latestUpTo(events, at, k, func(i int) bool { return i == eventIndex },
			func(i int) { bc = append(bc, m.eventBreadcrumb(evs.At(i), c)) })
	}
	if refs := ti.byTrace[s.TraceID()]; len(refs) <= linearScanMax {
		for _, r := range refs {
			if end := r.span.EndTimestamp(); r.span.SpanID() != sid && end != 0 && !end.AsTime().After(ts) {
				bc = append(bc, m.spanBreadcrumb(r.span, c))
			}
		}
	} else {
		latestUpTo(ti.timeline(s.TraceID()).ended, at, k, func(r spanRef) bool { return r.span.SpanID() == sid },
			func(r spanRef) { bc = append(bc, m.spanBreadcrumb(r.span, c)) })
	}
	return bc
}

// spanOp names the span's operation the way Sentry's performance views do.
func spanOp(s ptrace.Span) string {
	a := s.Attributes()
	if op := str(a, "gen_ai.operation.name"); op != "" {
		if known, ok := genAIOps[op]; ok {
			return known
		}
		return "gen_ai." + op
	}
	if str(a, "http.request.method", "http.method") != "" {
		if s.Kind() == ptrace.SpanKindServer {
			return "http.server"
		}
		return "http.client"
	}
	if str(a, "db.system.name", "db.system") != "" {
		return "db"
	}
	if str(a, "rpc.system") != "" {
		return "rpc"
	}
	if str(a, "messaging.system") != "" {
		return "queue"
	}
	switch s.Kind() {
	case ptrace.SpanKindServer:
		return "server"
	case ptrace.SpanKindClient:
		return "client"
	case ptrace.SpanKindProducer:
		return "queue.publish"
	case ptrace.SpanKindConsumer:
		return "queue.process"
	}
	return "default"
}

// genAIOps are the sentry ops of the GenAI operations the semantic conventions name,
// written once rather than joined for each event.
var genAIOps = func() map[string]string {
	ops := map[string]string{}
	for _, op := range []string{"chat", "create_agent", "embeddings", "execute_tool", "generate_content", "invoke_agent", "text_completion"} {
		ops[op] = "gen_ai." + op
	}
	return ops
}()

// kindName is the span kind as the otel context writes it.
func kindName(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindInternal:
		return "internal"
	case ptrace.SpanKindServer:
		return "server"
	case ptrace.SpanKindClient:
		return "client"
	case ptrace.SpanKindProducer:
		return "producer"
	case ptrace.SpanKindConsumer:
		return "consumer"
	case ptrace.SpanKindUnspecified:
		return "unspecified"
	}
	return strings.ToLower(strings.TrimPrefix(k.String(), "Span"))
}

// spanStatus maps the span status to Sentry's span status, using the HTTP or gRPC code
// where there is one.
func spanStatus(s ptrace.Span) string {
	if s.Status().Code() != ptrace.StatusCodeError {
		return "ok"
	}
	a := s.Attributes()
	if code, ok := num(a, "http.response.status_code", "http.status_code"); ok {
		switch int(code) {
		case 400:
			return "invalid_argument"
		case 401:
			return "unauthenticated"
		case 403:
			return "permission_denied"
		case 404:
			return "not_found"
		case 409:
			return "already_exists"
		case 429:
			return "resource_exhausted"
		case 499:
			return "cancelled"
		case 501:
			return "unimplemented"
		case 503:
			return "unavailable"
		case 504:
			return "deadline_exceeded"
		}
		if code >= 500 {
			return "internal_error"
		}
	}
	if code, ok := num(a, "rpc.grpc.status_code"); ok {
		grpc := []string{"ok", "cancelled", "unknown_error", "invalid_argument", "deadline_exceeded", "not_found",
			"already_exists", "permission_denied", "resource_exhausted", "failed_precondition", "aborted",
			"out_of_range", "unimplemented", "internal_error", "unavailable", "data_loss", "unauthenticated"}
		if c := int(code); c >= 0 && c < len(grpc) {
			return grpc[c]
		}
	}
	return "unknown_error"
}

// hexIDs writes a span's trace, span and parent span IDs in hex, in one allocation;
// the parent is "" when the span has none.
func hexIDs(tid pcommon.TraceID, sid, parent pcommon.SpanID) (traceID, spanID, parentID string) {
	var b [64]byte
	hex.Encode(b[:32], tid[:])
	hex.Encode(b[32:48], sid[:])
	n := 48
	if !parent.IsEmpty() {
		hex.Encode(b[48:], parent[:])
		n = 64
	}
	all := string(b[:n])
	return all[:32], all[32:48], all[48:]
}
