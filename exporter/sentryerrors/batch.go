package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// batchScratch is what mapTraces indexes a batch with: the error spans, and the spans
// of their traces by trace and by span ID. Nothing of it outlives the mapping (events
// copy what they need).
type batchScratch struct {
	errTraces map[pcommon.TraceID]struct{}
	errSpans  []spanRef
	index     traceIndex
	res       []resourceInfo
	spare     [][]spanRef // emptied trace lists, for the next traces
}

func newBatchScratch() *batchScratch {
	return &batchScratch{
		errTraces: make(map[pcommon.TraceID]struct{}, 4),
		index:     traceIndex{byTrace: make(map[pcommon.TraceID][]spanRef, 4), bySpan: make(map[pcommon.SpanID]spanRef, 16)},
	}
}

// resources is n empty resource slots, one per resource of the batch.
func (bs *batchScratch) resources(n int) []resourceInfo {
	if cap(bs.res) < n {
		bs.res = make([]resourceInfo, n)
	}
	bs.res = bs.res[:n]
	return bs.res
}

// refList is an empty list for a trace's spans.
func (bs *batchScratch) refList() []spanRef {
	if n := len(bs.spare); n > 0 {
		l := bs.spare[n-1]
		bs.spare = bs.spare[:n-1]
		return l
	}
	return make([]spanRef, 0, 16) // most agent traces fit
}
