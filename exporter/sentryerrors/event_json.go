package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	sentry "github.com/getsentry/sentry-go"
)

// appendEventJSON encodes an error event: the same JSON that sentry-go's
// Event.MarshalJSON writes for the fields this exporter sets (a test holds the two
// equal on every fixture), written straight to bytes. sentry-go encodes through
// encoding/json, whose reflection and re-scanning of nested values cost several times
// the rest of the exporter's work per event; the throughput target needs this path.
// A field the mapper starts to set must be written here too: the test fails until it is.
func appendEventJSON(buf []byte, ev *sentry.Event, cx *eventParts) ([]byte, error) {
	w := jsonWriter{buf: append(buf, '{')}
	if len(cx.breadcrumbs) > 0 {
		w.key("breadcrumbs")
		w.valuesStart()
		for i, b := range cx.breadcrumbs {
			if i > 0 {
				w.raw(',')
			}
			w.breadcrumb(b)
		}
		w.valuesEnd()
	}
	if !cx.noContexts() {
		w.key("contexts")
		cx.appendJSON(&w)
	}
	w.optStr("environment", ev.Environment)
	w.optStr("event_id", string(ev.EventID))
	if len(ev.Fingerprint) > 0 {
		w.key("fingerprint")
		w.strings(ev.Fingerprint)
	}
	w.optStr("level", string(ev.Level))
	w.optStr("message", ev.Message)
	w.optStr("platform", ev.Platform)
	w.optStr("release", ev.Release)
	w.key("sdk")
	w.sdk(&ev.Sdk)
	w.optStr("server_name", ev.ServerName)
	if len(cx.threads) > 0 {
		w.key("threads")
		w.valuesStart()
		for i := range cx.threads {
			if i > 0 {
				w.raw(',')
			}
			w.thread(&cx.threads[i])
		}
		w.valuesEnd()
	}
	if cx.tagSet != 0 {
		w.key("tags")
		b := append(w.buf, '{')
		for i, k := range tagKeys {
			if cx.tagSet&(1<<i) != 0 {
				b = appendJSONString(appendKey(b, k), cx.tags[i])
			}
		}
		w.buf = append(b, '}')
	}
	if !ev.Timestamp.IsZero() {
		w.key("timestamp")
		w.time(ev.Timestamp)
	}
	w.optStr("transaction", ev.Transaction)
	w.key("user")
	w.user(&ev.User)
	w.optStr("logger", ev.Logger)
	if ev.Request != nil {
		w.key("request")
		w.request(ev.Request)
	}
	if len(cx.exceptions) > 0 {
		w.key("exception")
		w.valuesStart()
		for i := range cx.exceptions {
			if i > 0 {
				w.raw(',')
			}
			w.exception(&cx.exceptions[i])
		}
		w.valuesEnd()
	}
	w.raw('}')
	return w.buf, w.err
}

// valuesStart and valuesEnd wrap a list of the event in {"values": [...]}, the form of
// exception, threads and breadcrumbs that every Sentry parser reads (Relay also takes a
// bare list, as sentry-go writes it; Sentry's Rust protocol types, which sentry-cli
// uses, do not).
func (w *jsonWriter) valuesStart() { w.buf = append(w.buf, `{"values":[`...) }
func (w *jsonWriter) valuesEnd()   { w.buf = append(w.buf, ']', '}') }

type jsonWriter struct {
	buf []byte
	err error
}

func (w *jsonWriter) raw(b byte) { w.buf = append(w.buf, b) }

// key starts a field of the current object: a comma unless it is the object's first.
// k is always one of this package's field names (Sentry's protocol keys: plain ASCII
// letters, digits, '_' and '.'), so it is written without escaping; keys that come from
// telemetry go through str. TestFieldNamesNeedNoEscaping holds the encoder to that.
func (w *jsonWriter) key(k string) { w.buf = appendKey(w.buf, k) }

func (w *jsonWriter) str(s string) { w.buf = appendJSONString(w.buf, s) }

func (w *jsonWriter) optStr(k, v string) { w.buf = appendOptStr(w.buf, k, v) }

func (w *jsonWriter) optInt(k string, v int) { w.buf = appendOptInt(w.buf, k, v) }

func (w *jsonWriter) bool(k string, v bool) { w.buf = strconv.AppendBool(appendKey(w.buf, k), v) }

// The append functions below build in a local slice and the writer's methods store it
// once: a store to w.buf is a pointer write that runs the garbage collector's write
// barrier while it marks, and a frame written store by store ran it a dozen times.

func appendKey(b []byte, k string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func appendOptStr(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(appendKey(b, k), v)
}

func appendOptInt(b []byte, k string, v int) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(appendKey(b, k), int64(v), 10)
}

func (w *jsonWriter) time(t time.Time) {
	b := append(w.buf, '"')
	b = appendRFC3339Nano(b, t)
	w.buf = append(b, '"')
}

func (w *jsonWriter) strings(ss []string) {
	w.raw('[')
	for i, s := range ss {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(s)
	}
	w.buf = append(w.buf, ']')
}

func (w *jsonWriter) stringMap(m map[string]string) {
	var arr [24]string
	w.raw('{')
	for i, k := range appendSortedKeys(arr[:0], m) {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(k)
		w.buf = append(w.buf, ':')
		w.str(m[k])
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) anyMap(m map[string]any) {
	if m == nil {
		w.buf = append(w.buf, "null"...)
		return
	}
	var arr [24]string
	keys := appendSortedKeys(arr[:0], m)
	w.raw('{')
	for i, k := range keys {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(k)
		w.buf = append(w.buf, ':')
		w.value(m[k])
	}
	w.buf = append(w.buf, '}')
}

// insertionSort sorts the few keys of a context map without allocating.
func insertionSort(keys []string) {
	if len(keys) > 24 {
		slices.Sort(keys)
		return
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

func (w *jsonWriter) value(v any) {
	switch x := v.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case string:
		w.str(x)
	case bool:
		w.buf = strconv.AppendBool(w.buf, x)
	case int:
		w.buf = strconv.AppendInt(w.buf, int64(x), 10)
	case int64:
		w.buf = strconv.AppendInt(w.buf, x, 10)
	case float64:
		w.buf = appendJSONFloat(w.buf, x)
	case json.RawMessage:
		w.buf = append(w.buf, x...) // written by appendAttrsObject: valid and compact
	case map[string]any:
		w.anyMap(x)
	case []any:
		w.buf = append(w.buf, '[')
		for i, e := range x {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.value(e)
		}
		w.buf = append(w.buf, ']')
	case []string:
		w.strings(x)
	case map[string]string:
		w.stringMap(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			w.err = err
			b = []byte("null")
		}
		w.buf = append(w.buf, b...)
	}
}

func (w *jsonWriter) sdk(s *sentry.SdkInfo) {
	w.raw('{')
	w.optStr("name", s.Name)
	w.optStr("version", s.Version)
	if len(s.Integrations) > 0 {
		w.key("integrations")
		w.strings(s.Integrations)
	}
	if len(s.Packages) > 0 {
		w.key("packages")
		w.buf = append(w.buf, '[')
		for i, p := range s.Packages {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.raw('{')
			w.optStr("name", p.Name)
			w.optStr("version", p.Version)
			w.buf = append(w.buf, '}')
		}
		w.buf = append(w.buf, ']')
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) user(u *sentry.User) {
	w.raw('{')
	w.optStr("id", u.ID)
	w.optStr("email", u.Email)
	w.optStr("ip_address", u.IPAddress)
	w.optStr("username", u.Username)
	w.optStr("name", u.Name)
	if len(u.Data) > 0 {
		w.key("data")
		w.stringMap(u.Data)
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) request(r *sentry.Request) {
	w.raw('{')
	w.optStr("url", r.URL)
	w.optStr("method", r.Method)
	w.optStr("data", r.Data)
	w.optStr("query_string", r.QueryString)
	w.optStr("cookies", r.Cookies)
	if len(r.Headers) > 0 {
		w.key("headers")
		w.stringMap(r.Headers)
	}
	if len(r.Env) > 0 {
		w.key("env")
		w.stringMap(r.Env)
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) breadcrumb(b *breadcrumb) {
	buf := append(w.buf, '{')
	buf = appendOptStr(buf, "type", b.Type)
	buf = appendOptStr(buf, "category", b.Category)
	w.buf = appendOptStr(buf, "message", b.Message)
	if b.hasData() {
		w.key("data")
		w.crumbData(b)
	}
	w.optStr("level", string(b.Level))
	if !b.Timestamp.IsZero() {
		w.key("timestamp")
		w.time(b.Timestamp)
	}
	w.buf = append(w.buf, '}')
}

// crumbData writes a breadcrumb's data object, keys in order as for a map.
func (w *jsonWriter) crumbData(b *breadcrumb) {
	if b.nFields == 0 {
		w.buf = append(w.buf, b.attrs...) // written by appendAttrs: valid and compact
		return
	}
	var order [maxCrumbFields]*crumbField
	fs := order[:0]
	for i := 0; i < b.nFields; i++ {
		f := &b.fields[i]
		j := len(fs)
		fs = append(fs, f)
		for ; j > 0 && fs[j-1].key > f.key; j-- {
			fs[j] = fs[j-1]
		}
		fs[j] = f
	}
	buf := append(w.buf, '{')
	for i, f := range fs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, f.key)
		buf = append(buf, ':')
		switch f.kind {
		case crumbText:
			buf = appendJSONString(buf, f.text)
		case crumbCount:
			if f.num == math.Trunc(f.num) && math.Abs(f.num) < 1<<53 {
				buf = strconv.AppendInt(buf, int64(f.num), 10)
			} else {
				buf = appendJSONFloat(buf, f.num)
			}
		default:
			buf = appendJSONFloat(buf, f.num)
		}
	}
	w.buf = append(buf, '}')
}

func (w *jsonWriter) stacktrace(st *stackTrace) {
	w.raw('{')
	if len(st.Frames) > 0 {
		w.key("frames")
		w.buf = append(w.buf, '[')
		for i := range st.Frames {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.frame(&st.Frames[i])
		}
		w.buf = append(w.buf, ']')
	}
	if len(st.FramesOmitted) > 0 {
		w.key("frames_omitted")
		w.buf = append(w.buf, '[')
		for i, n := range st.FramesOmitted {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = strconv.AppendUint(w.buf, uint64(n), 10)
		}
		w.buf = append(w.buf, ']')
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) frame(f *frame) {
	b := append(w.buf, '{')
	b = appendOptStr(b, "function", f.Function)
	b = appendOptStr(b, "module", f.Module)
	b = appendOptStr(b, "filename", f.Filename)
	b = appendOptStr(b, "abs_path", f.AbsPath)
	b = appendOptInt(b, "lineno", f.Lineno)
	b = appendOptInt(b, "colno", f.Colno)
	b = appendOptStr(b, "context_line", f.ContextLine)
	b = strconv.AppendBool(appendKey(b, "in_app"), f.InApp)
	w.buf = append(b, '}')
}

func (w *jsonWriter) exception(e *exception) {
	w.raw('{')
	w.optStr("type", e.Type)
	w.optStr("value", e.Value)
	w.optStr("module", e.Module)
	if !e.Stacktrace.empty() {
		w.key("stacktrace")
		w.stacktrace(&e.Stacktrace)
	}
	m := &e.Mechanism
	w.key("mechanism")
	w.raw('{')
	w.key("type")
	w.str(m.Type)
	w.optStr("source", m.Source)
	if m.Unhandled {
		w.bool("handled", false)
	}
	if m.HasParent {
		w.key("parent_id")
		w.buf = strconv.AppendInt(w.buf, int64(m.ParentID), 10)
	}
	w.key("exception_id")
	w.buf = strconv.AppendInt(w.buf, int64(m.ExceptionID), 10)
	w.buf = append(w.buf, '}')
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) thread(t *thread) {
	w.raw('{')
	w.optStr("id", t.ID)
	w.optStr("name", t.Name)
	if !t.Stacktrace.empty() {
		w.key("stacktrace")
		w.stacktrace(&t.Stacktrace)
	}
	if t.Crashed {
		w.bool("crashed", true)
	}
	if t.Current {
		w.bool("current", true)
	}
	w.buf = append(w.buf, '}')
}

// appendSortedKeys appends m's keys to keys, sorted. Given a small array's slice, it
// allocates nothing for the few keys of a context or tag map.
func appendSortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	insertionSort(keys)
	return keys
}

// appendJSONFloat formats f as encoding/json does (ES6 number formatting).
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendRFC3339Nano appends t as time.RFC3339Nano does (the fraction without trailing
// zeros), written digit by digit for UTC times, which are all the event has: the
// general formatter, which reads its layout at each call, was a fortieth of the
// encoding.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if t.Location() != time.UTC || year < 0 || year > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = two(b, int(month))
	b = append(b, '-')
	b = two(b, day)
	b = append(b, 'T')
	b = two(b, hour)
	b = append(b, ':')
	b = two(b, minute)
	b = append(b, ':')
	b = two(b, sec)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}
