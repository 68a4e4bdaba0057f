package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const scopeName = "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

const overflowAttr = "otel.metric.overflow"

// snapshot renders every series as cumulative metrics at time now, one resource per
// service (so exporters derive job/service labels as they do for the app's own
// metrics), and returns how many data points it holds.
func (c *agentMetrics) snapshot(now pcommon.Timestamp) (pmetric.Metrics, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.clock()
	c.sweepRuns(wall)
	c.updateBudgets(wall, now)
	// After this flush's points are built: a value that loses its series has its last
	// calls exported first, and a value that gains one starts with the next call.
	defer c.rebalanceDimensions(wall)
	md := pmetric.NewMetrics()
	scopes := map[string]pmetric.ScopeMetrics{}
	scopeFor := func(service string) pmetric.ScopeMetrics {
		if sm, ok := scopes[service]; ok {
			return sm
		}
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr(labelService, c.validLabel(service))
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(c.scope)
		scopes[service] = sm
		return sm
	}
	points := 0
	for _, m := range c.metrics {
		if len(m.series) == 0 && m.overflow == nil {
			continue
		}
		byService := map[string]pmetric.Metric{}
		metricFor := func(service string) pmetric.Metric {
			if mt, ok := byService[service]; ok {
				return mt
			}
			mt := scopeFor(service).Metrics().AppendEmpty()
			mt.SetName(m.def.name)
			mt.SetDescription(m.def.description)
			mt.SetUnit(m.def.unit)
			switch m.def.kind {
			case kindHistogram:
				mt.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			case kindGauge:
				mt.SetEmptyGauge()
			default:
				sum := mt.SetEmptySum()
				sum.SetIsMonotonic(true)
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			}
			byService[service] = mt
			return mt
		}
		for k, s := range m.series {
			attrs := c.appendPoint(metricFor(k[0]), m.def, s, now)
			for i, name := range m.def.labels {
				attrs.PutStr(name, c.validLabel(k[i]))
			}
			points++
		}
		if m.overflow != nil {
			attrs := c.appendPoint(metricFor(unknown), m.def, m.overflow, now)
			attrs.PutBool(overflowAttr, true)
			points++
		}
	}
	return md, points
}

// validLabel replaces bytes that are not UTF-8 (an app may send any bytes in an OTLP
// string; the Prometheus exporter refuses such a label value) and cuts the result to
// max_label_length again (a replacement takes three bytes). It runs where a label value
// keys a new group or series, so that values differing only in such bytes share one
// series instead of several with one label set; and on each emitted value, as a guard.
func (c *agentMetrics) validLabel(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return c.capLabel(strings.ToValidUTF8(s, "\uFFFD"))
}

// appendPoint adds s as a data point of mt and returns the point's attributes.
func (c *agentMetrics) appendPoint(mt pmetric.Metric, def *metricDef, s *series, now pcommon.Timestamp) pcommon.Map {
	switch def.kind {
	case kindHistogram:
		dp := mt.Histogram().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(now)
		dp.SetCount(s.count)
		dp.SetSum(s.sum)
		dp.ExplicitBounds().FromRaw(def.buckets)
		dp.BucketCounts().FromRaw(s.buckets)
		return dp.Attributes()
	case kindGauge:
		dp := mt.Gauge().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(now)
		dp.SetDoubleValue(s.dblSum)
		return dp.Attributes()
	case kindDoubleSum:
		dp := mt.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(now)
		dp.SetDoubleValue(s.dblSum)
		return dp.Attributes()
	default:
		dp := mt.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(s.start)
		dp.SetTimestamp(now)
		dp.SetIntValue(s.intSum)
		return dp.Attributes()
	}
}
