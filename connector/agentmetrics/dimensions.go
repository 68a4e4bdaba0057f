package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"math"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Cost dimensions (llm.dimension.cost.usd, llm.dimension.tokens).
//
// Policy: which values keep series of their own.
//
//   - A dimension tracks at most 2 x max_values values: up to max_values that have series of
//     their own ("own") and up to max_values candidates whose calls go to the "_other"
//     series. "unknown" (the attribute is absent everywhere) and "_other" are always own and
//     do not take a place.
//   - A new value gets its own series at once while fewer than max_values values have one,
//     so a deployment with few values sees every one exactly, from its first call.
//   - Otherwise it becomes a candidate. When the candidates are full, it takes the place of
//     the candidate with the least spend and inherits that spend as its possible error
//     (the Space-Saving algorithm): a value that spends more than any value it could have
//     displaced is never lost, whatever the order of arrival.
//   - Spend is USD, decayed with a half-life of one hour, so that the ranking follows who
//     spends now rather than who spent in the first hour.
//   - At each flush, and only then, the candidate with the most certain spend (spend minus
//     possible error) replaces the own value with the least spend if it spent more than
//     twice as much; and so on down both lists. The factor two is the hysteresis: two
//     values that spend about the same never swap back and forth.
//   - A value that loses its series keeps them at their totals: they are exported at that
//     flush and then no longer (see demote); its later calls count in "_other". Totals are
//     never moved between series, so every series is a plain counter of the calls counted
//     under it and sum(increase()) over a dimension is the cost of a window's calls.
//
// Memory: each tracked value holds its name (at most max_label_length bytes) and about
// 100 bytes; an own value adds its series per service (about 200 bytes each). The worst
// case per dimension is in the README.

// Reserved dimension values.
const (
	otherValue = "_other"
	promote    = 2.0       // hysteresis factor
	halfLife   = time.Hour // of the spend that ranks values
	// maxServicesPerValue bounds the per-service series one value keeps track of; calls of
	// further services go to the metric's overflow series.
	maxServicesPerValue = 256
)

type dimension struct {
	attr      string
	maxValues int
	values    map[string]*dimValue // own values and candidates
	own       int
	other     *dimValue
	unknown   *dimValue
	// The last value and series looked up in this batch: calls of one trace, resource or
	// agent run usually share their tenant or user, and comparing two strings is cheaper
	// than a hash. Cleared at the end of each batch (lastRaw points into it) and when
	// last is displaced.
	lastRaw     string
	last        *dimValue
	lastService string
	lastSeries  *dimSeries
}

type dimValue struct {
	name  string
	own   bool
	spend float64 // decayed USD
	err   float64 // spend inherited from a displaced candidate (Space-Saving)
	bySvc []dimSeries
}

// dimSeries is a value's series for one service.
type dimSeries struct {
	service string
	value   string // the value's label
	cost    *series
	tokens  [numTokenTypes]*series
}

func newDimension(attr string, maxValues int) *dimension {
	return &dimension{attr: attr, maxValues: maxValues, values: make(map[string]*dimValue),
		other: &dimValue{name: otherValue, own: true}, unknown: &dimValue{name: unknown, own: true}}
}

// addDimension counts a call's cost and tokens under its value raw of dimension d.
func (c *agentMetrics) addDimension(d *dimension, call *batchCall, raw string, now pcommon.Timestamp) {
	// The group's service string is owned by the group: comparing it with the one a
	// series holds is mostly a pointer comparison.
	service := or(call.group.key[0], unknown)
	v, ds := d.last, d.lastSeries
	if v == nil || raw != d.lastRaw || service != d.lastService {
		v = c.dimValue(d, raw)
		target := v
		if !target.own {
			target = d.other
		}
		ds = c.dimSeriesFor(d, target, service, now)
		d.lastRaw, d.last, d.lastService, d.lastSeries = raw, v, service, ds
	}
	if call.hasCost {
		v.spend += call.cost
	}
	if ds == nil { // past maxServicesPerValue
		if call.hasCost {
			c.metrics[mDimCost].overflowSeries(now, c.overflow).dblSum += call.cost
		}
		for t := 0; t < numTokenTypes; t++ {
			if call.hasTokens[t] {
				c.metrics[mDimTokens].overflowSeries(now, c.overflow).intSum += call.tokens[t]
			}
		}
		return
	}
	if call.hasCost {
		if ds.cost == nil {
			ds.cost = c.dimMetricSeries(mDimCost, labelKey{ds.service, d.attr, ds.value}, now)
		}
		ds.cost.dblSum += call.cost
	}
	for t := 0; t < numTokenTypes; t++ {
		if call.hasTokens[t] {
			if ds.tokens[t] == nil {
				ds.tokens[t] = c.dimMetricSeries(mDimTokens, labelKey{ds.service, d.attr, ds.value, tokenTypeNames[t]}, now)
			}
			ds.tokens[t].intSum += call.tokens[t]
		}
	}
}

func (c *agentMetrics) dimMetricSeries(m int, k labelKey, now pcommon.Timestamp) *series {
	return c.metrics[m].get(&k, now, c.cfg.MaxSeries, c.overflow)
}

// dimValue returns the tracked value for raw (cut to max_label_length, made valid
// UTF-8), tracking it if it is new.
func (c *agentMetrics) dimValue(d *dimension, raw string) *dimValue {
	if raw == "" {
		return d.unknown
	}
	return c.lookupDimValue(d, raw)
}

func (c *agentMetrics) lookupDimValue(d *dimension, raw string) *dimValue {
	label := c.capLabel(raw)
	if v, ok := d.values[label]; ok {
		return v
	}
	label = c.validLabel(label)
	switch label {
	case otherValue:
		return d.other
	case unknown:
		return d.unknown
	}
	if v, ok := d.values[label]; ok {
		return v
	}
	return d.track(strings.Clone(label))
}

// track adds a new value: with a series of its own while there is room, else as a
// candidate, displacing the candidate with the least spend when the candidates are full.
func (d *dimension) track(name string) *dimValue {
	if d.own < d.maxValues {
		v := &dimValue{name: name, own: true}
		d.values[name] = v
		d.own++
		return v
	}
	if len(d.values)-d.own < d.maxValues {
		v := &dimValue{name: name}
		d.values[name] = v
		return v
	}
	var least *dimValue
	for _, v := range d.values {
		if !v.own && (least == nil || v.spend < least.spend) {
			least = v
		}
	}
	delete(d.values, least.name)
	if d.last == least {
		d.last, d.lastSeries = nil, nil
	}
	v := &dimValue{name: name, spend: least.spend, err: least.spend}
	d.values[name] = v
	return v
}

// dimSeriesFor returns v's series for service, nil past maxServicesPerValue (the call
// then goes to the metrics' overflow series).
func (c *agentMetrics) dimSeriesFor(d *dimension, v *dimValue, service string, now pcommon.Timestamp) *dimSeries {
	for i := range v.bySvc {
		if v.bySvc[i].service == service {
			return &v.bySvc[i]
		}
	}
	if len(v.bySvc) >= maxServicesPerValue {
		c.metrics[mDimCost].overflowSeries(now, c.overflow)
		return nil
	}
	v.bySvc = append(v.bySvc, dimSeries{service: service, value: v.name}) // service: owned by its LLM group
	return &v.bySvc[len(v.bySvc)-1]
}

// rebalanceDimensions decays every value's spend and swaps candidates that spent more
// than twice as much as own values (see the policy above). It runs at each flush.
func (c *agentMetrics) rebalanceDimensions(wall time.Time) {
	if len(c.dims) == 0 {
		return
	}
	decay := 1.0
	if !c.lastRebalance.IsZero() && wall.After(c.lastRebalance) {
		decay = math.Pow(0.5, float64(wall.Sub(c.lastRebalance))/float64(halfLife))
	}
	c.lastRebalance = wall
	for _, d := range c.dims {
		var own, cands []*dimValue
		for _, v := range d.values {
			v.spend *= decay
			v.err *= decay
			if v.own {
				own = append(own, v)
			} else {
				cands = append(cands, v)
			}
		}
		// Least spending own values first; candidates with the most certain spend first.
		sort.Slice(own, func(i, j int) bool { return less(own[i].spend, own[j].spend, own[i].name, own[j].name) })
		sort.Slice(cands, func(i, j int) bool {
			return less(cands[j].spend-cands[j].err, cands[i].spend-cands[i].err, cands[j].name, cands[i].name)
		})
		for i := 0; i < len(own) && i < len(cands); i++ {
			if certain := cands[i].spend - cands[i].err; !(certain > 0 && certain > promote*own[i].spend) {
				break
			}
			c.demote(d, own[i])
			cands[i].own = true
		}
	}
}

// less orders by spend, then name, so that ties are broken the same way at every flush.
func less(a, b float64, an, bn string) bool {
	if a != b {
		return a < b
	}
	return an < bn
}

// demote stops exporting v's series; v's later calls count in "_other". v's totals are
// not moved: each series counts only the calls made under it, so increase() over a
// dimension's series stays exact (a moved total would be new spend to Prometheus). The
// exporter serves v's last points until its metric_expiration; if v is promoted again,
// its series start over from zero with a new start time (a counter reset).
func (c *agentMetrics) demote(d *dimension, v *dimValue) {
	for i := range v.bySvc {
		s := &v.bySvc[i]
		c.dropSeries(mDimCost, s.cost, labelKey{s.service, d.attr, v.name})
		for t := 0; t < numTokenTypes; t++ {
			c.dropSeries(mDimTokens, s.tokens[t], labelKey{s.service, d.attr, v.name, tokenTypeNames[t]})
		}
	}
	v.bySvc = nil
	v.own = false
}

// dropSeries forgets series k of metric m, if it is s. The metric's overflow series is
// shared and stays.
func (c *agentMetrics) dropSeries(m int, s *series, k labelKey) {
	ms := c.metrics[m]
	if s == nil || s == ms.overflow {
		return
	}
	if ms.series[k] == s {
		delete(ms.series, k)
	}
}
