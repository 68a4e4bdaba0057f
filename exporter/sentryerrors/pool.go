package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"sync"

	sentry "github.com/getsentry/sentry-go"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// eventBuf holds one event while it is mapped and encoded: the event, its parts, its
// frames and breadcrumbs and the scratch space of the stack parsers. Once the event is
// encoded (the payload is a copy) nothing refers to it, so it goes back to a pool for
// the next event. Without the pool each event allocated some ten kilobytes of structures
// that lived for microseconds, and the garbage collector's share of the work per event
// was about a third.
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
	parse   parseScratch
	excs    []exception
	crumbs  []breadcrumb // the current chunk; earlier chunks stay where their pointers hold them
	crumbP  []*breadcrumb
	json    []byte // the otel context's attribute objects
}

// parseScratch is the stack parsers' working space: lines, and the frames and
// exceptions they return (which stay in use until the event is encoded).
type parseScratch struct {
	lines  []string
	frames []frame
	excs   []parsedException
}

// Retention limits: a buffer grown past these by one huge event is not kept for the next.
const (
	maxPooledFrames = 1024
	maxPooledLines  = 4096
	maxPooledCrumbs = 256
	maxPooledJSON   = 64 << 10
)

var eventBufs = sync.Pool{New: newEventBuf}

func newEventBuf() any { return &eventBuf{} }

// pooling is false in tests that compare pooled storage with fresh storage.
var pooling = true

func getEventBuf() *eventBuf {
	if !pooling {
		return newEventBuf().(*eventBuf)
	}
	return eventBufs.Get().(*eventBuf)
}

// crumb is a zeroed breadcrumb that lives as long as the event.
func (b *eventBuf) crumb() *breadcrumb {
	if len(b.crumbs) == cap(b.crumbs) {
		// A new chunk: the breadcrumbs in the full one keep it alive until release.
		b.crumbs = make([]breadcrumb, 0, max(8, 2*cap(b.crumbs)))
	}
	b.crumbs = b.crumbs[:len(b.crumbs)+1]
	return &b.crumbs[len(b.crumbs)-1]
}

// release clears what the event referred to (telemetry strings, which would otherwise
// keep a whole batch in memory) and returns the buffer to the pool.
func (b *eventBuf) release() {
	b.ev = sentry.Event{}
	b.parts = eventParts{}
	b.trace, b.llm, b.agent, b.otel = traceContext{}, llmContext{}, agentContext{}, otelContext{}
	b.runtime, b.os = runtimeContext{}, osContext{}
	clear(b.headers)
	b.req = sentry.Request{}
	b.parse.lines = reuse(b.parse.lines, maxPooledLines)
	b.parse.frames = reuse(b.parse.frames, maxPooledFrames)
	b.parse.excs = reuse(b.parse.excs, maxExceptions)
	b.excs = reuse(b.excs, maxExceptions)
	b.crumbs = reuse(b.crumbs, maxPooledCrumbs)
	b.crumbP = reuse(b.crumbP, maxPooledCrumbs)
	if cap(b.json) > maxPooledJSON {
		b.json = nil
	}
	b.json = b.json[:0]
	if pooling {
		eventBufs.Put(b)
	}
}

// reuse empties s for the next event, zeroing what it held (its length is what the
// event used), or drops it when one event grew it past limit.
func reuse[T any](s []T, limit int) []T {
	if cap(s) > limit {
		return nil
	}
	clear(s)
	return s[:0]
}

// batchScratch is what mapTraces indexes a batch with: the error spans, and the spans
// of their traces by trace and by span ID. Pooled like eventBuf; nothing of it outlives
// the mapping (events copy what they need).
type batchScratch struct {
	errTraces map[pcommon.TraceID]struct{}
	errSpans  []spanRef
	index     traceIndex
	res       []resourceInfo
	spare     [][]spanRef // emptied trace lists, for the next traces
}

// maxPooledSpans and maxPooledResources bound what a pooled batchScratch keeps between
// batches.
const (
	maxPooledSpans     = 4096
	maxPooledResources = 256
)

var batchScratches = sync.Pool{New: func() any {
	return &batchScratch{
		errTraces: make(map[pcommon.TraceID]struct{}, 4),
		index:     traceIndex{byTrace: make(map[pcommon.TraceID][]spanRef, 4), bySpan: make(map[pcommon.SpanID]spanRef, 16)},
	}
}}

func getBatchScratch() *batchScratch {
	if !pooling {
		return batchScratches.New().(*batchScratch)
	}
	return batchScratches.Get().(*batchScratch)
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

func (bs *batchScratch) release() {
	if len(bs.index.bySpan) > maxPooledSpans || len(bs.index.byTrace) > maxPooledSpans {
		return // one huge batch: let the collector have it all
	}
	for _, refs := range bs.index.byTrace {
		if cap(refs) <= 64 && len(bs.spare) < 64 { // a few hundred KiB at most
			clear(refs)
			bs.spare = append(bs.spare, refs[:0])
		}
	}
	clear(bs.errTraces)
	clear(bs.index.byTrace)
	clear(bs.index.bySpan)
	bs.index.timelines = nil
	bs.errSpans = reuse(bs.errSpans, maxPooledSpans)
	bs.res = reuse(bs.res, maxPooledResources)
	if pooling {
		batchScratches.Put(bs)
	}
}
