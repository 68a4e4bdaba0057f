package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// maxLabels is the most labels a metric of this connector has (service.name included).
const maxLabels = 5

// labelKey is a series' label values, in the order of its metric's labels.
type labelKey [maxLabels]string

type valueKind int

const (
	kindIntSum valueKind = iota
	kindDoubleSum
	kindHistogram
	kindGauge // a double gauge
)

// metricDef describes one metric the connector emits.
type metricDef struct {
	name, description, unit string
	labels                  []string // attribute names; labels[0] is always service.name
	kind                    valueKind
	buckets                 []float64 // histograms only
}

// series is the running total of one label set since start.
type series struct {
	start   pcommon.Timestamp
	intSum  int64
	dblSum  float64
	count   uint64
	sum     float64
	buckets []uint64 // len(def.buckets)+1
}

// metricState is every series of one metric, bounded by maxSeries.
type metricState struct {
	def      *metricDef
	series   map[labelKey]*series
	overflow *series
}

func newMetricState(def *metricDef) *metricState {
	return &metricState{def: def, series: make(map[labelKey]*series)}
}

// get returns the series for k, creating it (with its labels cloned out of the span's
// memory) or falling back to the overflow series once maxSeries label sets exist.
func (m *metricState) get(k *labelKey, now pcommon.Timestamp, maxSeries int, onOverflow func()) *series {
	if s, ok := m.series[*k]; ok {
		return s
	}
	if len(m.series) >= maxSeries {
		return m.overflowSeries(now, onOverflow)
	}
	var owned labelKey
	for i := range k {
		owned[i] = strings.Clone(k[i])
	}
	s := m.newSeries(now)
	m.series[owned] = s
	return s
}

// overflowSeries returns the metric's overflow series, creating it on first use.
func (m *metricState) overflowSeries(now pcommon.Timestamp, onOverflow func()) *series {
	if m.overflow == nil {
		m.overflow = m.newSeries(now)
		onOverflow()
	}
	return m.overflow
}

func (m *metricState) newSeries(now pcommon.Timestamp) *series {
	s := &series{start: now}
	if m.def.kind == kindHistogram {
		s.buckets = make([]uint64, len(m.def.buckets)+1)
	}
	return s
}

func (s *series) observe(bounds []float64, v float64) {
	if v == noDuration {
		return
	}
	s.count++
	s.sum += v
	// Bucket i holds values in (bounds[i-1], bounds[i]]; the last one (bounds[n-1], +Inf).
	s.buckets[sort.SearchFloat64s(bounds, v)]++
}
