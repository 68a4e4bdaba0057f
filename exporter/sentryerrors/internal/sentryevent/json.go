package sentryevent

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	sentry "github.com/getsentry/sentry-go"
)

// MaxBytes is Sentry's size limit for an event item (1 MB): Relay rejects a larger
// event whole.
const MaxBytes = 1_000_000

// Encode returns the event's JSON payload, and how many trimming steps (Event.trim) it
// took to fit MaxBytes: an event that encodes larger is trimmed, step by step, until it
// fits. The event is changed by trimming.
func Encode(ev *Event) ([]byte, int, error) {
	buf := appendEvent(make([]byte, 0, 8<<10), ev) // most events fit
	steps := 0
	for len(buf) > MaxBytes && ev.trim(steps+1) {
		steps++
		buf = appendEvent(buf[:0], ev)
	}
	if len(buf) > MaxBytes {
		return nil, steps, fmt.Errorf("the event is %d bytes after trimming, over Sentry's limit of %d", len(buf), MaxBytes)
	}
	return buf, steps, nil
}

// appendEvent writes the event's JSON: the keys in the order sentry-go's
// Event.MarshalJSON writes them (a test holds the two to the same values on every
// fixture), straight to bytes. Through encoding/json, sentry-go's reflection and
// re-scanning of nested values cost several times the rest of the work per event.
//
// One field after another, in the protocol's order: long, but a list.
func appendEvent(buf []byte, ev *Event) []byte {
	w := jsonWriter{buf: append(buf, '{')}
	if len(ev.Breadcrumbs) > 0 {
		w.key("breadcrumbs")
		w.valuesStart()
		for i, b := range ev.Breadcrumbs {
			if i > 0 {
				w.raw(',')
			}
			w.breadcrumb(b)
		}
		w.valuesEnd()
	}
	if !ev.Contexts.empty() {
		w.key("contexts")
		ev.Contexts.appendJSON(&w)
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
	w.sdk(ev.Sdk)
	w.optStr("server_name", ev.ServerName)
	if len(ev.Threads) > 0 {
		w.key("threads")
		w.valuesStart()
		for i := range ev.Threads {
			if i > 0 {
				w.raw(',')
			}
			w.thread(&ev.Threads[i])
		}
		w.valuesEnd()
	}
	if ev.Tags.set != 0 {
		w.key("tags")
		b := append(w.buf, '{')
		for i, k := range tagKeys {
			if ev.Tags.set&(1<<i) != 0 {
				b = AppendString(appendKey(b, k), ev.Tags.values[i])
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
	if len(ev.Exceptions) > 0 {
		w.key("exception")
		w.valuesStart()
		for i := range ev.Exceptions {
			if i > 0 {
				w.raw(',')
			}
			w.exception(&ev.Exceptions[i])
		}
		w.valuesEnd()
	}
	w.raw('}')
	return w.buf
}

// valuesStart and valuesEnd wrap a list of the event in {"values": [...]}, the form of
// Exception, threads and breadcrumbs that every Sentry parser reads (Relay also takes a
// bare list, as sentry-go writes it; Sentry's Rust protocol types, which sentry-cli
// uses, do not).
func (w *jsonWriter) valuesStart() { w.buf = append(w.buf, `{"values":[`...) }
func (w *jsonWriter) valuesEnd()   { w.buf = append(w.buf, ']', '}') }

type jsonWriter struct {
	buf []byte
}

func (w *jsonWriter) raw(b byte) { w.buf = append(w.buf, b) }

// key starts a field of the current object: a comma unless it is the object's first.
// k is always one of this package's field names (Sentry's protocol keys: plain ASCII
// letters, digits, '_' and '.'), so it is written without escaping; keys that come from
// telemetry go through str. TestFieldNamesNeedNoEscaping holds the encoder to that.
func (w *jsonWriter) key(k string) { w.buf = appendKey(w.buf, k) }

func (w *jsonWriter) str(s string) { w.buf = AppendString(w.buf, s) }

func (w *jsonWriter) optStr(k, v string) { w.buf = appendOptStr(w.buf, k, v) }

func (w *jsonWriter) bool(k string, v bool) { w.buf = strconv.AppendBool(appendKey(w.buf, k), v) }

// The append functions below build in a local slice and the writer's methods store it
// once: a store to w.buf is a pointer write that runs the garbage collector's write
// barrier while it marks, and a Frame written store by store ran it a dozen times.

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
	return AppendString(appendKey(b, k), v)
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

func (w *jsonWriter) sdk(s *sentry.SdkInfo) {
	w.raw('{')
	if s == nil {
		w.raw('}')
		return
	}
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

func (w *jsonWriter) breadcrumb(b *Breadcrumb) {
	buf := append(w.buf, '{')
	buf = appendOptStr(buf, "type", b.Type)
	buf = appendOptStr(buf, "category", b.Category)
	w.buf = appendOptStr(buf, "message", b.Message)
	if b.HasData() {
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

// crumbData writes a Breadcrumb's data object, keys in order as for a map.
func (w *jsonWriter) crumbData(b *Breadcrumb) {
	if b.NFields == 0 {
		w.buf = append(w.buf, b.Attrs...) // written by appendAttrs: valid and compact
		return
	}
	var order [MaxCrumbFields]*CrumbField
	fs := order[:0]
	for i := 0; i < b.NFields; i++ {
		f := &b.Fields[i]
		j := len(fs)
		fs = append(fs, f)
		for ; j > 0 && fs[j-1].Key > f.Key; j-- {
			fs[j] = fs[j-1]
		}
		fs[j] = f
	}
	buf := append(w.buf, '{')
	for i, f := range fs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = AppendString(buf, f.Key)
		buf = append(buf, ':')
		switch f.Kind {
		case CrumbText:
			buf = AppendString(buf, f.Text)
		case CrumbCount:
			if f.Num == math.Trunc(f.Num) && math.Abs(f.Num) < 1<<53 {
				buf = strconv.AppendInt(buf, int64(f.Num), 10)
			} else {
				buf = AppendFloat(buf, f.Num)
			}
		default:
			buf = AppendFloat(buf, f.Num)
		}
	}
	w.buf = append(buf, '}')
}

func (w *jsonWriter) stacktrace(st *StackTrace) {
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

func (w *jsonWriter) frame(f *Frame) {
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

func (w *jsonWriter) exception(e *Exception) {
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
	if m.Group {
		w.bool("is_exception_group", true)
	}
	if !m.Unnumbered {
		if m.HasParent {
			w.key("parent_id")
			w.buf = strconv.AppendInt(w.buf, int64(m.ParentID), 10)
		}
		w.key("exception_id")
		w.buf = strconv.AppendInt(w.buf, int64(m.ExceptionID), 10)
	}
	w.buf = append(w.buf, '}')
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) thread(t *Thread) {
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

// AppendFloat formats f as encoding/json does (ES6 number formatting).
func AppendFloat(b []byte, f float64) []byte {
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

// jsonSafe marks the ASCII bytes that need no escaping in a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// plainWord reports whether the 8 bytes of s at i are ASCII that JSON takes as is:
// no high bit, no control character (for ASCII: bits 0x60 both clear), no '"', no '\\'.
func plainWord(s string, i int) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	w := s[i : i+8] // one bounds check; the compiler then merges the eight loads into one
	v := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	// hasZero(x) is non-zero exactly when some byte of x is zero.
	hasZero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	return v&highs|hasZero(v&0x6060606060606060)|hasZero(v^0x2222222222222222)|hasZero(v^0x5c5c5c5c5c5c5c5c) == 0
}

// AppendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func AppendString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs escaping or is non-ASCII.
		for i+8 <= len(s) && plainWord(s, i) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
