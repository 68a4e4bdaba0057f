package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// hasExceptionAttrs reports whether a log record carries exception.* attributes.
func hasExceptionAttrs(lr plog.LogRecord) bool {
	a := lr.Attributes()
	for _, k := range [...]string{"exception.type", "exception.message", "exception.stacktrace"} {
		if _, ok := a.Get(k); ok {
			return true
		}
	}
	return false
}

// isErrorRecord reports whether a log record becomes an event.
func isErrorRecord(lr plog.LogRecord, minSev plog.SeverityNumber) bool {
	return severityOf(lr) >= minSev || hasExceptionAttrs(lr)
}

// hasErrorRecord reports whether any record of the batch becomes an event.
func hasErrorRecord(ld plog.Logs, minSev plog.SeverityNumber) bool {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if isErrorRecord(lr, minSev) {
					return true
				}
			}
		}
	}
	return false
}

type logRef struct {
	lr    plog.LogRecord
	res   *resourceInfo
	scope pcommon.InstrumentationScope
}

// mapLogs turns the error log records of a batch into events.
func (m *mapper) mapLogs(ld plog.Logs) mapResult {
	var res mapResult
	minSev, _ := parseSeverity(m.cfg.MinSeverity)
	var errs []logRef
	var errTraces map[pcommon.TraceID]struct{}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		var ri *resourceInfo
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				if !isErrorRecord(lr, minSev) {
					continue
				}
				if ri == nil {
					ri = m.resource(rls.At(i).Resource())
				}
				errs = append(errs, logRef{lr: lr, res: ri, scope: sls.At(j).Scope()})
				if tid := lr.TraceID(); !tid.IsEmpty() {
					if errTraces == nil {
						errTraces = map[pcommon.TraceID]struct{}{}
					}
					errTraces[tid] = struct{}{}
				}
			}
		}
	}
	if len(errs) == 0 {
		return res
	}
	// Earlier records of the same trace become breadcrumbs: each trace's records in time
	// order, so that each error finds its latest ones by a binary search (see
	// traceTimeline).
	var byTrace map[pcommon.TraceID][]timed[plog.LogRecord]
	if len(errTraces) > 0 && m.cfg.MaxBreadcrumbs > 0 {
		byTrace = make(map[pcommon.TraceID][]timed[plog.LogRecord], len(errTraces))
		for i := 0; i < rls.Len(); i++ {
			sls := rls.At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					if _, ok := errTraces[lr.TraceID()]; ok {
						byTrace[lr.TraceID()] = append(byTrace[lr.TraceID()], timed[plog.LogRecord]{at: unixNanos(logTime(lr)), ref: lr})
					}
				}
			}
		}
		for _, tl := range byTrace {
			sortByTime(tl)
		}
	}
	for _, ref := range errs {
		m.logEvent(ref, byTrace, &res)
	}
	return res
}

func (m *mapper) logEvent(ref logRef, byTrace map[pcommon.TraceID][]timed[plog.LogRecord], res *mapResult) {
	lr, ri := ref.lr, ref.res
	a := lr.Attributes()
	tid, sid := lr.TraceID(), lr.SpanID()
	body := lr.Body().AsString()
	in := exceptionInput{
		typ:        str(a, "exception.type"),
		message:    str(a, "exception.message"),
		stacktrace: str(a, "exception.stacktrace"),
		mechanism:  "opentelemetry.log",
	}
	id := logEventID(ref, body, in)
	route, ok := m.admit(res, id, in.typ, ri.service)
	if !ok {
		return
	}

	var c scrub.Counts
	ts := logTime(lr)
	if ts.IsZero() {
		ts = time.Now()
	}
	ev := m.newEvent(ri, id, ts, &c)
	sev := severityOf(lr)
	ev.Level = levelOf(sev)
	if sev == plog.SeverityNumberUnspecified {
		ev.Level = sentry.LevelError // only exception.* attributes brought it here
	}
	ev.Logger = m.scrub.Text(truncate(ref.scope.Name(), 256), &c)

	mainType := in.typ
	if in.typ != "" || in.message != "" || in.stacktrace != "" {
		var panicked bool
		mainType, panicked = m.exceptions(ev, ri, in, &c)
		if ignored(m.cfg.IgnoreExceptions, mainType) {
			res.drops[dropFiltered]++
			return
		}
		if panicked {
			ev.Level = sentry.LevelFatal
		}
	}
	ev.Message = m.logMessage(lr, body, in, len(ev.Exceptions) > 0, &c)

	if !tid.IsEmpty() {
		ev.Contexts.Trace = &sentryevent.Trace{TraceID: tid.String()}
		if !sid.IsEmpty() {
			ev.Contexts.Trace.SpanID = sid.String()
		}
	}
	ev.Contexts.LLM = m.llmContext(a, &c)
	ev.Contexts.Agent = m.toolFields(m.agentContext(a, &c), a, &c)
	ev.Request = m.request(a, &c)
	ev.User = m.user(a, &c)
	errorType := str(a, "error.type")
	if errorType == "" {
		errorType = mainType
	}
	m.setTags(ev, errorType, str(a, "http.route"), &c)
	ev.Contexts.Otel = m.otelContext(a, ri.attrs, &c)
	ev.Contexts.Otel.Scope = ev.Logger
	ev.Contexts.Otel.SeverityText = m.scrub.Text(truncate(lr.SeverityText(), 64), &c)
	ev.Contexts.Otel.EventName = m.scrub.Text(truncate(lr.EventName(), 256), &c)

	var bc []*sentryevent.Breadcrumb
	latestUpTo(byTrace[tid], unixNanos(ts), m.cfg.MaxBreadcrumbs, func(o plog.LogRecord) bool { return o == lr },
		func(o plog.LogRecord) { bc = append(bc, m.logBreadcrumb(o, &c)) })
	ev.Breadcrumbs = finishBreadcrumbs(bc, m.cfg.MaxBreadcrumbs)
	ev.Fingerprint = m.fingerprintValues(mainType, lr.EventName(), a, ri.attrs, &c)
	res.events = append(res.events, mappedEvent{route: route, event: ev, scrubs: c})
}

// logEventID identifies a log record's event. A record has no event index: its content
// identifies it, attributes included (two records alike but for their stack trace or
// attributes are two errors, and one id would make Sentry drop the second as a
// duplicate).
func logEventID(ref logRef, body string, in exceptionInput) sentry.EventID {
	lr := ref.lr
	tid, sid := lr.TraceID(), lr.SpanID()
	return eventID([]byte("log"), tid[:], sid[:], timestampBytes(lr.Timestamp()), timestampBytes(lr.ObservedTimestamp()),
		[]byte{byte(lr.SeverityNumber())}, []byte(lr.SeverityText()), []byte(body), []byte(in.typ), []byte(in.message),
		[]byte(ref.res.service), []byte(ref.scope.Name()), attrsDigest(lr.Attributes()))
}

// logMessage is the event's message: the body when it says more than the exception's
// message (GenAI content events' bodies are left out unless include_genai_content),
// else for a record without exception its event name or severity.
func (m *mapper) logMessage(lr plog.LogRecord, body string, in exceptionInput, hasException bool, c *scrub.Counts) string {
	_, genAIEvent := genAIContentEvents[lr.EventName()]
	hidden := genAIEvent && !m.cfg.IncludeGenAIContent
	if hidden && body != "" {
		c[scrub.RuleGenAIContent]++
	}
	switch {
	case body != "" && body != in.message && !hidden:
		return m.scrub.Text(truncate(body, maxMessageLen), c)
	case hasException:
		return ""
	}
	if msg := m.scrub.Text(truncate(lr.EventName(), 256), c); msg != "" {
		return msg
	}
	return m.scrub.Text(truncate(lr.SeverityText(), 64), c) + " log record"
}

// attrsDigest is a digest of a record's attributes, keys and values, in their order.
func attrsDigest(a pcommon.Map) []byte {
	h := sha256.New()
	var n [8]byte
	for k, v := range a.All() {
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write([]byte(k))
		s := v.AsString()
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}
