package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Bounds on what one event carries from attributes, so that one span with huge
// attributes cannot make an event Sentry rejects as too large.
const (
	maxAttrs       = 64
	maxValueLen    = 1024
	maxMessageLen  = 8192
	maxCollection  = 32
	maxNestedDepth = 3
)

// str returns the first of keys that attrs holds as a non-empty value, as text.
func str(attrs pcommon.Map, keys ...string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			switch v.Type() {
			case pcommon.ValueTypeStr:
				if s := v.Str(); s != "" {
					return s
				}
			case pcommon.ValueTypeEmpty:
			default:
				if s := v.AsString(); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// num returns the first of keys that attrs holds as a number (or numeric text).
func num(attrs pcommon.Map, keys ...string) (float64, bool) {
	for _, k := range keys {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
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

// value converts an attribute value to event JSON, scrubbing text and the values of
// denied keys, and bounding size and depth.
func (m *mapper) value(v pcommon.Value, depth int, c *scrubCounts) any {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return m.scrub.text(truncate(v.Str(), maxValueLen), c)
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 64) // JSON has no NaN or Inf
		}
		return f
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeBytes:
		return "<" + strconv.Itoa(v.Bytes().Len()) + " bytes>"
	case pcommon.ValueTypeSlice:
		if depth >= maxNestedDepth {
			return "[…]"
		}
		s := v.Slice()
		n := min(s.Len(), maxCollection)
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, m.value(s.At(i), depth+1, c))
		}
		return out
	case pcommon.ValueTypeMap:
		if depth >= maxNestedDepth {
			return "{…}"
		}
		return m.attrMap(v.Map(), depth+1, maxCollection, c)
	}
	return nil
}

// attrMap converts attributes to event JSON: denied keys become [Filtered], GenAI
// content is left out unless configured, at most limit keys are kept.
func (m *mapper) attrMap(attrs pcommon.Map, depth, limit int, c *scrubCounts) map[string]any {
	if attrs.Len() == 0 {
		return nil
	}
	out := make(map[string]any, min(attrs.Len(), limit))
	for k, v := range attrs.All() {
		if len(out) >= limit {
			out["_truncated"] = true
			break
		}
		if !m.cfg.IncludeGenAIContent && isGenAIContentKey(k) {
			c[ruleGenAIContent]++
			continue
		}
		if rule, deny := m.scrub.keyRule(k); deny {
			c[rule]++
			out[k] = filtered
			continue
		}
		out[k] = m.value(v, depth, c)
	}
	return out
}
