package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"math"
	"slices"
	"strconv"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
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
		buf = sentryevent.AppendString(buf, m.scrub.KeyName(k, kv, c))
		buf = append(buf, ':')
		if kv.Deny {
			c[kv.Rule]++
			buf = sentryevent.AppendString(buf, scrub.Filtered)
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
		return sentryevent.AppendString(buf, m.scrub.Text(truncate(v.Str(), maxValueLen), c))
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return sentryevent.AppendString(buf, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return sentryevent.AppendFloat(buf, f)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(buf, v.Bool())
	case pcommon.ValueTypeBytes:
		return sentryevent.AppendString(buf, "<"+strconv.Itoa(v.Bytes().Len())+" bytes>")
	case pcommon.ValueTypeSlice:
		if depth >= maxNestedDepth {
			return sentryevent.AppendString(buf, "[…]")
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
			return sentryevent.AppendString(buf, "{…}")
		}
		return m.appendAttrs(buf, v.Map(), depth+1, maxCollection, c)
	}
	return append(buf, "null"...)
}
