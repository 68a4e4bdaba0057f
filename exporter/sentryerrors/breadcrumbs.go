package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// spanBreadcrumb describes a span of the same trace that ended before the error: an
// LLM call, a tool call, an HTTP or database call, or any other operation.
func (m *mapper) spanBreadcrumb(span ptrace.Span, c *scrub.Counts) *sentryevent.Breadcrumb {
	b := &sentryevent.Breadcrumb{
		Type:      "default",
		Category:  "span",
		Message:   m.scrub.Text(truncate(span.Name(), 256), c),
		Timestamp: span.EndTimestamp().AsTime().UTC(),
		Level:     sentry.LevelInfo,
	}
	if span.Status().Code() == ptrace.StatusCodeError {
		b.Level = sentry.LevelError
		b.Type = "error"
		if msg := span.Status().Message(); msg != "" {
			b.Put(sentryevent.CrumbField{Key: "status_message", Text: m.scrub.Text(truncate(msg, maxValueLen), c)})
		}
	}
	b.Put(sentryevent.CrumbField{Key: "duration_ms", Num: float64(span.EndTimestamp()-span.StartTimestamp()) / 1e6, Kind: sentryevent.CrumbFloat})
	m.describeSpan(b, span, c)
	return b
}

// describeSpan gives a span's breadcrumb the category and data of what the span did: an
// LLM call, a tool call, an agent, an HTTP or database call, RPC or messaging.
func (m *mapper) describeSpan(b *sentryevent.Breadcrumb, span ptrace.Span, c *scrub.Counts) {
	attrs := span.Attributes()
	op := str(attrs, "gen_ai.operation.name")
	switch {
	case op == "execute_tool":
		b.Category = "gen_ai.tool"
		putData(b, "tool", str(attrs, "gen_ai.tool.name"), m, c)
	case op == "invoke_agent" || op == "create_agent":
		b.Category = "gen_ai.agent"
		putData(b, "agent", str(attrs, "gen_ai.agent.name"), m, c)
	case op != "" || str(attrs, "gen_ai.request.model", "gen_ai.provider.name", "gen_ai.system") != "":
		b.Category = "gen_ai"
		putData(b, "provider", str(attrs, "gen_ai.provider.name", "gen_ai.system"), m, c)
		putData(b, "model", str(attrs, "gen_ai.request.model", "gen_ai.response.model"), m, c)
		if f, ok := num(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"); ok {
			b.Put(sentryevent.CrumbField{Key: "input_tokens", Num: f, Kind: sentryevent.CrumbCount})
		}
		if f, ok := num(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"); ok {
			b.Put(sentryevent.CrumbField{Key: "output_tokens", Num: f, Kind: sentryevent.CrumbCount})
		}
		if f, ok := num(attrs, "gen_ai.usage.cost"); ok {
			b.Put(sentryevent.CrumbField{Key: "cost_usd", Num: f, Kind: sentryevent.CrumbFloat})
		}
	case str(attrs, "http.request.method", "http.method") != "":
		b.Type = "http"
		b.Category = "http"
		if span.Kind() == ptrace.SpanKindServer {
			b.Category = "http.server"
		}
		putData(b, "method", str(attrs, "http.request.method", "http.method"), m, c)
		if u := str(attrs, "url.full", "http.url"); u != "" {
			putData(b, "url", cleanURL(u), m, c)
		} else if route := str(attrs, "http.route"); route != "" {
			putData(b, "url", route, m, c)
		}
		if f, ok := num(attrs, "http.response.status_code", "http.status_code"); ok {
			b.Put(sentryevent.CrumbField{Key: "status_code", Num: f, Kind: sentryevent.CrumbCount})
		}
	case str(attrs, "db.system.name", "db.system") != "":
		b.Type = "query"
		b.Category = "db.query"
		putData(b, "db.system", str(attrs, "db.system.name", "db.system"), m, c)
		// The summary names the operation without the statement's values.
		if s := str(attrs, "db.query.summary", "db.operation.name", "db.operation"); s != "" {
			b.Message = m.scrub.Text(truncate(s, 256), c)
		}
		putData(b, "collection", str(attrs, "db.collection.name", "db.sql.table"), m, c)
	case str(attrs, "rpc.system") != "":
		b.Category = "rpc"
	case str(attrs, "messaging.system") != "":
		b.Category = "messaging"
	}
}

func putData(b *sentryevent.Breadcrumb, k, v string, m *mapper, c *scrub.Counts) {
	if v == "" {
		return
	}
	if rule, deny := m.scrub.KeyRule(k); deny {
		c[rule]++
		b.Put(sentryevent.CrumbField{Key: k, Text: scrub.Filtered})
		return
	}
	b.Put(sentryevent.CrumbField{Key: k, Text: m.scrub.Text(truncate(v, maxValueLen), c)})
}

// eventBreadcrumb describes a span event (a log line, a retry, an earlier exception).
func (m *mapper) eventBreadcrumb(e ptrace.SpanEvent, c *scrub.Counts) *sentryevent.Breadcrumb {
	b := &sentryevent.Breadcrumb{
		Type:      "default",
		Category:  "span.event",
		Message:   m.scrub.Text(truncate(e.Name(), 256), c),
		Timestamp: e.Timestamp().AsTime().UTC(),
		Level:     sentry.LevelInfo,
	}
	if _, content := genAIContentEvents[e.Name()]; content && !m.cfg.IncludeGenAIContent {
		c[scrub.RuleGenAIContent]++
		b.Category = "gen_ai.content"
		return b
	}
	if e.Name() == "exception" {
		b.Type, b.Level, b.Category = "error", sentry.LevelError, "exception"
		typ := str(e.Attributes(), "exception.type")
		msg := str(e.Attributes(), "exception.message")
		b.Message = m.scrub.Text(truncate(truncate(typ, 256)+": "+truncate(msg, 512), 512), c)
		return b
	}
	if a := e.Attributes(); a.Len() > 0 {
		// At most 16 attributes, as JSON like the otel context's.
		if obj := m.appendAttrs(nil, a, 1, 16, c); len(obj) > len("{}") {
			b.Attrs = json.RawMessage(obj)
		}
	}
	return b
}

// logBreadcrumb describes an earlier log record of the same trace.
func (m *mapper) logBreadcrumb(lr plog.LogRecord, c *scrub.Counts) *sentryevent.Breadcrumb {
	b := &sentryevent.Breadcrumb{
		Type:      "default",
		Category:  "log",
		Timestamp: logTime(lr).UTC(),
		Level:     levelOf(severityOf(lr)),
	}
	if b.Level == sentry.LevelError || b.Level == sentry.LevelFatal {
		b.Type = "error"
	}
	if _, content := genAIContentEvents[lr.EventName()]; content && !m.cfg.IncludeGenAIContent {
		c[scrub.RuleGenAIContent]++
		b.Category = "gen_ai.content"
		b.Message = lr.EventName()
		return b
	}
	b.Message = m.scrub.Text(boundedText(lr.Body(), 512), c)
	return b
}

// timed is something that happened at a time (Unix nanoseconds), for timelines.
type timed[T any] struct {
	at  int64
	ref T
}

// sortByTime orders a timeline oldest first, keeping the given order of equal times.
func sortByTime[T any](tl []timed[T]) {
	slices.SortStableFunc(tl, func(a, b timed[T]) int { return cmp.Compare(a.at, b.at) })
}

// upTo is the number of entries of a sorted timeline at or before at.
func upTo[T any](tl []timed[T], at int64) int {
	return sort.Search(len(tl), func(i int) bool { return tl[i].at > at })
}

// latestUpTo calls add with the latest k entries of a sorted timeline at or before at
// that skip does not leave out, oldest first.
func latestUpTo[T any](tl []timed[T], at int64, k int, skip func(T) bool, add func(T)) {
	end := upTo(tl, at)
	start, n := end, 0
	for start > 0 && n < k {
		start--
		if !skip(tl[start].ref) {
			n++
		}
	}
	for i := start; i < end; i++ {
		if !skip(tl[i].ref) {
			add(tl[i].ref)
		}
	}
}

// finishBreadcrumbs orders breadcrumbs oldest first and keeps the most recent max.
func finishBreadcrumbs(bc []*sentryevent.Breadcrumb, max int) []*sentryevent.Breadcrumb {
	if len(bc) == 0 || max == 0 {
		return nil
	}
	slices.SortStableFunc(bc, func(a, b *sentryevent.Breadcrumb) int { return a.Timestamp.Compare(b.Timestamp) })
	if len(bc) > max {
		bc = bc[len(bc)-max:]
	}
	return bc
}

// unixNanos is t in Unix nanoseconds for a timeline; the zero time is before all others.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func logTime(lr plog.LogRecord) time.Time {
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return time.Time{}
}

// severityOf is the record's severity number, read from its text when the number is unset.
func severityOf(lr plog.LogRecord) plog.SeverityNumber {
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		return n
	}
	switch t := lowerASCII(lr.SeverityText()); {
	case t == "":
		return plog.SeverityNumberUnspecified
	case hasAnyPrefix(t, "fatal", "crit", "emerg", "alert", "panic"):
		return plog.SeverityNumberFatal
	case hasAnyPrefix(t, "err", "severe"):
		return plog.SeverityNumberError
	case hasAnyPrefix(t, "warn"):
		return plog.SeverityNumberWarn
	case hasAnyPrefix(t, "info", "notice"):
		return plog.SeverityNumberInfo
	case hasAnyPrefix(t, "debug", "fine"):
		return plog.SeverityNumberDebug
	case hasAnyPrefix(t, "trace", "finest"):
		return plog.SeverityNumberTrace
	}
	return plog.SeverityNumberUnspecified
}

func levelOf(n plog.SeverityNumber) sentry.Level {
	switch {
	case n >= plog.SeverityNumberFatal:
		return sentry.LevelFatal
	case n >= plog.SeverityNumberError:
		return sentry.LevelError
	case n >= plog.SeverityNumberWarn:
		return sentry.LevelWarning
	case n >= plog.SeverityNumberInfo:
		return sentry.LevelInfo
	case n == plog.SeverityNumberUnspecified:
		return sentry.LevelInfo
	}
	return sentry.LevelDebug
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

func timestampBytes(ts pcommon.Timestamp) []byte {
	return []byte(strconv.FormatUint(uint64(ts), 10))
}

// boundedText is v as text cut to about n bytes: a string as it is, a map or list as
// JSON written only as far as n (AsString would write all of a large body first).
func boundedText(v pcommon.Value, n int) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return truncate(v.Str(), n)
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		b := appendBounded(make([]byte, 0, n+16), v, n)
		return truncate(string(b), n)
	}
	return truncate(v.AsString(), n)
}

// appendBounded appends v as JSON, stopping once b holds more than n bytes.
func appendBounded(b []byte, v pcommon.Value, n int) []byte {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		b = append(b, '{')
		i := 0
		for k, e := range v.Map().All() {
			if len(b) > n {
				break
			}
			if i > 0 {
				b = append(b, ',')
			}
			i++
			b = sentryevent.AppendString(b, truncate(k, n))
			b = append(b, ':')
			b = appendBounded(b, e, n)
		}
		return append(b, '}')
	case pcommon.ValueTypeSlice:
		b = append(b, '[')
		for i, e := range v.Slice().All() {
			if len(b) > n {
				break
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBounded(b, e, n)
		}
		return append(b, ']')
	case pcommon.ValueTypeStr:
		return sentryevent.AppendString(b, truncate(v.Str(), n))
	case pcommon.ValueTypeBytes:
		return sentryevent.AppendString(b, "<"+strconv.Itoa(v.Bytes().Len())+" bytes>")
	}
	return append(b, v.AsString()...)
}
