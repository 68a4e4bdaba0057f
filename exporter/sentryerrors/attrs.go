package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Bounds on what one event carries from attributes, so that one span with huge
// attributes cannot make an event Sentry rejects as too large.
const (
	maxAttrs       = 64
	maxKeyLen      = 256
	maxValueLen    = 1024
	maxMessageLen  = 8192
	maxCollection  = 32
	maxNestedDepth = 3
)

// str returns the first of keys that attrs holds as a non-empty value, as text.
func str(attrs pcommon.Map, keys ...string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if s := valueText(v); s != "" {
				return s
			}
		}
	}
	return ""
}

// valueText is an attribute value as text ("" for an empty value).
func valueText(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeEmpty:
		return ""
	}
	return v.AsString()
}

// num returns the first of keys that attrs holds as a number (or numeric text).
func num(attrs pcommon.Map, keys ...string) (float64, bool) {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if f, ok := valueNum(v); ok {
				return f, true
			}
		}
	}
	return 0, false
}

// valueNum is an attribute value as a finite number, if it is one (or numeric text).
func valueNum(v pcommon.Value) (float64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return float64(v.Int()), true
	case pcommon.ValueTypeDouble:
		if f := v.Double(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	case pcommon.ValueTypeStr:
		if f, err := strconv.ParseFloat(v.Str(), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	return 0, false
}

// jsonNumber keeps integers integral in the event JSON.
func jsonNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// appendAttrsObject appends attributes as a JSON object (nothing when there are none),
// straight to bytes: an event's otel context holds every attribute of the span and its
// resource, and encoding/json's reflective map encoding of them would cost more than the
// rest of the event.
func (m *mapper) appendAttrsObject(buf []byte, attrs pcommon.Map, limit int, c *scrub.Counts) []byte {
	if attrs.Len() == 0 {
		return buf
	}
	return m.appendAttrs(buf, attrs, 1, limit, c)
}

func (m *mapper) appendAttrs(buf []byte, attrs pcommon.Map, depth, limit int, c *scrub.Counts) []byte {
	var arr [maxAttrs]string
	keys := arr[:0]
	for k := range attrs.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	n := 0
	for _, k := range keys {
		if !m.cfg.IncludeGenAIContent && isGenAIContentKey(k) {
			c[scrub.RuleGenAIContent]++
			continue
		}
		if n >= limit {
			buf = append(buf, `,"_truncated":true`...)
			break
		}
		if len(k) > maxKeyLen {
			// No attribute name is this long; cut, two could become one key.
			continue
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		kv := m.scrub.Verdict(k)
		buf = appendJSONString(buf, m.scrub.KeyName(k, kv, c))
		buf = append(buf, ':')
		if kv.Deny {
			c[kv.Rule]++
			buf = appendJSONString(buf, scrub.Filtered)
			continue
		}
		v, _ := attrs.Get(k)
		buf = m.appendValue(buf, v, depth, c)
	}
	return append(buf, '}')
}

func (m *mapper) appendValue(buf []byte, v pcommon.Value, depth int, c *scrub.Counts) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendJSONString(buf, m.scrub.Text(truncate(v.Str(), maxValueLen), c))
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(buf, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return appendJSONFloat(buf, f)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(buf, v.Bool())
	case pcommon.ValueTypeBytes:
		return appendJSONString(buf, "<"+strconv.Itoa(v.Bytes().Len())+" bytes>")
	case pcommon.ValueTypeSlice:
		if depth >= maxNestedDepth {
			return appendJSONString(buf, "[…]")
		}
		s := v.Slice()
		buf = append(buf, '[')
		for i := 0; i < min(s.Len(), maxCollection); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = m.appendValue(buf, s.At(i), depth+1, c)
		}
		return append(buf, ']')
	case pcommon.ValueTypeMap:
		if depth >= maxNestedDepth {
			return appendJSONString(buf, "{…}")
		}
		return m.appendAttrs(buf, v.Map(), depth+1, maxCollection, c)
	}
	return append(buf, "null"...)
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

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
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
