package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	sentry "github.com/getsentry/sentry-go"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// eventBuf holds one event while it is mapped and encoded: the event, its parts, its
// frames and breadcrumbs and the scratch space of the stack parsers, allocated together.
type eventBuf struct {
	ev      sentry.Event
	parts   eventParts
	trace   traceContext
	llm     llmContext
	agent   agentContext
	otel    otelContext
	runtime runtimeContext
	os      osContext
	req     sentry.Request
	headers map[string]string
	crumbs  []breadcrumb // the current chunk; earlier chunks stay where their pointers hold them
	crumbP  []*breadcrumb
	json    []byte // the otel context's attribute objects
}

func getEventBuf() *eventBuf { return &eventBuf{} }

// crumb is a zeroed breadcrumb that lives as long as the event.
func (b *eventBuf) crumb() *breadcrumb {
	if len(b.crumbs) == cap(b.crumbs) {
		// A new chunk: the breadcrumbs in the full one keep it alive until release.
		b.crumbs = make([]breadcrumb, 0, max(8, 2*cap(b.crumbs)))
	}
	b.crumbs = b.crumbs[:len(b.crumbs)+1]
	return &b.crumbs[len(b.crumbs)-1]
}

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
