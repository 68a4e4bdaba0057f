package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// One call, one price. Two layers often describe the same LLM call: an instrumentation
// library's span over the span @anthropic-ai/sdk writes for its own call, a framework
// over an SDK, a gateway over a client. Both carry the call's usage; pricing both
// doubles its cost and its count. Such spans are found after a batch is priced: the
// span that keeps its price is chosen, the others become status duplicate, naming it
// in llm_cost.duplicate_of.
//
// Two inference spans of one trace are the same call when
//   - both name a response id (gen_ai.response.id) and the ids are equal (spans whose
//     ids differ are different calls, whatever else they share); or, without ids,
//   - one is the other's ancestor (its parent, or further up within the batch), their
//     models agree, and their usage agrees on every count both report (input and
//     output always; cache reads, writes and reasoning when both have them). A span
//     without usage (no_usage, invalid) is a duplicate of a span with usage it is so
//     related to. Two spans whose usage differs are both priced: which is right is not
//     guessed.
//
// Which span is priced, within one batch, whatever the order of its spans: a span
// with usage over one without; then the one reporting more detail (cache reads,
// writes, the 1-hour part of writes, reasoning, a service tier); then the innermost
// (the span closest to the provider's response); then the lower span id.
//
// Across batches, the first seen is priced: a span's decision is final when it leaves
// the processor (it cannot be recalled), so a span matching one remembered from an
// earlier batch is its duplicate. The exception is a remembered call counted by a span
// without usage, and so not priced (a span without usage that was the duplicate of one
// with usage does not count): a later span of the call with usage is still priced (the
// call's cost is not lost), and names the span that was counted as the call's request in
// llm_cost.request_counted_by, so that agent_metrics counts its tokens and cost but no
// second request. The spans of one call end within milliseconds of each other and
// usually arrive in one batch; the default pipeline batches before llm_cost.
//
// Memory: the last max_calls calls (144 bytes each, a bucket of 8 bytes per call
// rounded up to a power of two, and the name of a model without a price, at most 256
// bytes) are remembered; older ones are forgotten first, and a span of a forgotten call is
// priced again.

// candidate is one inference span of a batch.
type candidate struct {
	span          ptrace.Span
	trace         pcommon.TraceID
	id, parent    pcommon.SpanID
	status        int
	call          callInfo
	winner        int // index of the priced span of its call in the batch; itself when it is priced
	next          int // the next candidate of the same trace, -1 for none
	duplicateOfID pcommon.SpanID
	callUsage     bool // the span counted for the call (its winner) has usage
	// countedBy is the span of an earlier batch, without usage, that was counted as the
	// request of the call this span prices (llm_cost.request_counted_by).
	countedBy pcommon.SpanID
	mismatch  bool // counted as a provided-cost mismatch
}

// dedup finds and marks duplicate calls; one per traces processor.
type dedup struct {
	memory *callMemory // nil: within batches only
	// Per-batch scratch, reused under mu.
	mu      sync.Mutex
	parents map[pcommon.SpanID]pcommon.SpanID
	heads   []int // the first candidate of each trace, in batch order
	group   []int
	seen    map[pcommon.TraceID]int
}

// chainTraces links the candidates of each trace (next) and lists each trace's first
// in d.heads. A batch holds a trace's spans together, as SDKs export them: runs of one
// trace are linked in order, and runs of a trace seen before are joined to it.
func (d *dedup) chainTraces(cands []candidate) {
	d.heads = d.heads[:0]
	for i := range cands {
		c := &cands[i]
		c.winner, c.next = i, -1
		if i > 0 && cands[i-1].trace == c.trace {
			cands[i-1].next = i
			continue
		}
		d.heads = append(d.heads, i)
	}
	if len(d.heads) < 2 {
		return
	}
	if d.seen == nil {
		d.seen = make(map[pcommon.TraceID]int)
	}
	clear(d.seen)
	out := d.heads[:0]
	for _, h := range d.heads {
		first, ok := d.seen[cands[h].trace]
		if !ok {
			d.seen[cands[h].trace] = h
			out = append(out, h)
			continue
		}
		// The same trace in another run: append this run to the trace's chain.
		tail := first
		for cands[tail].next >= 0 {
			tail = cands[tail].next
		}
		cands[tail].next = h
	}
	d.heads = out
}

func newDedup(maxCalls int) *dedup {
	d := &dedup{}
	if maxCalls > 0 {
		d.memory = newCallMemory(maxCalls)
	}
	return d
}

// resolve marks the duplicates among cands, the inference spans of td in the order
// they were priced, and adjusts counts.
func (d *dedup) resolve(td ptrace.Traces, cands []candidate, counts *batchCounts) {
	if len(cands) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.parents)
	d.chainTraces(cands)
	for _, head := range d.heads {
		if cands[head].next < 0 {
			continue // the trace's only call in the batch
		}
		d.group = d.group[:0]
		for j := head; j >= 0; j = cands[j].next {
			d.group = append(d.group, j)
		}
		d.resolveTrace(td, cands, d.group)
	}
	for i := range cands {
		c := &cands[i]
		if c.winner != i {
			c.duplicateOfID = cands[c.winner].id
		}
		c.callUsage = cands[c.winner].call.hasUsage
	}
	if d.memory != nil {
		d.memory.resolve(cands, d.heads)
	}
	for i := range cands {
		c := &cands[i]
		switch {
		case !c.duplicateOfID.IsEmpty():
			if c.status != idxDuplicate {
				demote(c, counts)
			}
		case !c.countedBy.IsEmpty():
			c.span.Attributes().PutStr(attrRequestCountedBy, hex.EncodeToString(c.countedBy[:]))
		}
	}
}

// resolveTrace groups the candidates of one trace (group: their indexes in cands, in
// batch order) into calls.
func (d *dedup) resolveTrace(td ptrace.Traces, cands []candidate, group []int) {
	// maxCompared bounds the pairs compared in one trace of one batch (an agent loop of
	// thousands of calls in one trace): past it, spans are compared with their
	// neighbours in the batch only.
	const maxCompared = 64
	for x := range group {
		for y := x + 1; y < len(group) && y-x < maxCompared; y++ {
			a, b := &cands[group[x]], &cands[group[y]]
			rel := d.relation(td, a, b)
			if rel == unrelated || !sameCall(a, b, rel) {
				continue
			}
			ra, rb := root(cands, group[x]), root(cands, group[y])
			if ra == rb {
				continue
			}
			// The better of the two calls' priced spans stays priced.
			wa, wb := &cands[ra], &cands[rb]
			if better(wa, wb, d.relation(td, wa, wb)) {
				wb.winner = ra
			} else {
				wa.winner = rb
			}
		}
	}
	for _, i := range group {
		cands[i].winner = root(cands, i)
	}
}

// root follows winner links to the span priced for the call of cands[i].
func root(cands []candidate, i int) int {
	for steps := 0; cands[i].winner != i && steps < len(cands); steps++ {
		i = cands[i].winner
	}
	return i
}

type relation uint8

const (
	unrelated    relation = iota
	aAncestor             // a is an ancestor of b
	bAncestor             // b is an ancestor of a
	sameIdentity          // the same response id, however they are nested
)

// relation tells how two spans of one trace are related, for matching: equal response
// ids make them one call; otherwise one must be the other's ancestor.
func (d *dedup) relation(td ptrace.Traces, a, b *candidate) relation {
	if a.call.respID != "" && b.call.respID != "" {
		if a.call.respID == b.call.respID {
			return sameIdentity
		}
		return unrelated
	}
	switch {
	case b.parent == a.id:
		return aAncestor
	case a.parent == b.id:
		return bAncestor
	case a.parent == b.parent:
		// Siblings (an agent's successive calls): neither is the other's ancestor, and
		// the batch's parent links need not be indexed.
		return unrelated
	}
	if d.ancestor(td, a.id, b.parent) {
		return aAncestor
	}
	if d.ancestor(td, b.id, a.parent) {
		return bAncestor
	}
	return unrelated
}

// maxDepth bounds a walk up the parent links: a cycle or a self-parent in the span ids
// ends it.
const maxDepth = 64

// ancestor reports whether anc is from, or one of its ancestors in the batch.
func (d *dedup) ancestor(td ptrace.Traces, anc, from pcommon.SpanID) bool {
	if from.IsEmpty() {
		return false
	}
	if d.parents == nil {
		d.parents = make(map[pcommon.SpanID]pcommon.SpanID)
	}
	if len(d.parents) == 0 {
		indexParents(td, d.parents)
	}
	for s, steps := from, 0; !s.IsEmpty() && steps < maxDepth; steps++ {
		if s == anc {
			return true
		}
		p, ok := d.parents[s]
		if !ok || p == s {
			return false
		}
		s = p
	}
	return false
}

func indexParents(td ptrace.Traces, parents map[pcommon.SpanID]pcommon.SpanID) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				parents[s.SpanID()] = s.ParentSpanID()
			}
		}
	}
}

// sameCall reports whether two related spans describe one call.
func sameCall(a, b *candidate, rel relation) bool {
	if rel == sameIdentity {
		return true
	}
	return modelsAgree(&a.call, &b.call) && usageAgrees(&a.call, &b.call)
}

func modelsAgree(a, b *callInfo) bool {
	switch {
	case a.model != nil && b.model != nil:
		return a.model == b.model || a.model.ID == b.model.ID
	case a.model == nil && b.model == nil:
		return a.name == "" || b.name == "" || strings.EqualFold(a.name, b.name)
	}
	return false
}

func usageAgrees(a, b *callInfo) bool {
	if !a.hasUsage || !b.hasUsage {
		return true
	}
	ua, ub := &a.usage, &b.usage
	return ua.Input == ub.Input && ua.Output == ub.Output &&
		(!a.has(hasCacheRead) || !b.has(hasCacheRead) || ua.CacheRead == ub.CacheRead) &&
		(!a.has(hasCacheWrite) || !b.has(hasCacheWrite) || ua.CacheWrite == ub.CacheWrite) &&
		(!a.has(hasReasoning) || !b.has(hasReasoning) || ua.Reasoning == ub.Reasoning)
}

// better reports whether a is priced rather than b (see the rule above).
func better(a, b *candidate, rel relation) bool {
	if a.call.hasUsage != b.call.hasUsage {
		return a.call.hasUsage
	}
	if a.call.detail != b.call.detail {
		return a.call.detail > b.call.detail
	}
	switch rel {
	case aAncestor:
		return false
	case bAncestor:
		return true
	}
	return bytes.Compare(a.id[:], b.id[:]) < 0
}

// demote rewrites a priced (or otherwise counted) span as a duplicate: it keeps its
// usage and provenance, loses its cost (an app's cost moves to llm_cost.provided_cost)
// and names the span priced for the call.
func demote(c *candidate, counts *batchCounts) {
	attrs := c.span.Attributes()
	if v, ok := attrs.Get(attrCost); ok && c.status == idxProvided {
		if _, kept := attrs.Get(attrProvidedCost); !kept {
			if x, ok := number(v); ok {
				attrs.PutDouble(attrProvidedCost, x)
			}
		}
	}
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		return k == attrCost || k == attrError || k == attrCostMismatch || strings.HasPrefix(k, "llm_cost.breakdown.")
	})
	attrs.PutStr(attrStatus, statusDup)
	attrs.PutStr(attrDuplicateOf, hex.EncodeToString(c.duplicateOfID[:]))
	counts.status[c.status]--
	counts.status[idxDuplicate]++
	if c.mismatch {
		counts.mismatches-- // its mark is gone with its price
	}
	c.status = idxDuplicate
}

// number reads an amount the app sent as a double, int or numeric string.
func number(v pcommon.Value) (float64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double(), true
	case pcommon.ValueTypeInt:
		return float64(v.Int()), true
	}
	return 0, false
}

// Usage details a record reported, for usageAgrees.
const (
	hasCacheRead uint8 = 1 << iota
	hasCacheWrite
	hasReasoning
)

func (c *callInfo) has(flag uint8) bool { return c.reported&flag != 0 }

// callMemory remembers the calls of earlier batches: a bounded ring of entries, the
// oldest overwritten first, chained per trace. A trace's newest entry is found through
// a table of buckets (a power of two, at least the ring's size) chained through the
// ring, newest first: no map, and forgetting the oldest entry costs nothing, since a
// chain ends at the first entry whose slot holds a newer one (entries are overwritten
// in the order they were written).
type callMemory struct {
	mu      sync.Mutex
	entries []memEntry
	next    int
	seq     uint32   // entries are numbered from 1; 0 is no entry (wraps after 2^32 calls)
	buckets []memRef // newest entry hashed to each bucket
	shift   uint     // 64 - log2(len(buckets))
	refs    []memRef // per-batch scratch
}

// memRef names an entry; it is stale once the entry's slot holds a newer one.
type memRef struct {
	idx int32
	seq uint32
}

type memEntry struct {
	seq          uint32
	trace        pcommon.TraceID
	span, parent pcommon.SpanID
	winner       pcommon.SpanID // the span priced for the call (span itself when it was)
	countedBy    pcommon.SpanID // the candidate's countedBy: kept for the span seen again
	prev         memRef         // the trace's previous entry
	// bucketPrev is the previous entry of another trace in the same bucket (a trace's
	// older entries are skipped: they are reached through prev).
	bucketPrev memRef
	model      string // the price entry id, or the unpriced name as sent, lower-cased
	resp       uint64 // hash of the response id (0: none)
	in, out    int64
	cacheRead  int64
	cacheWrite int64
	reasoning  int64
	reported   uint8
	hasUsage   bool
	callUsage  bool // the span priced for the call (winner) has usage
}

func newCallMemory(n int) *callMemory {
	k := uint(0)
	for 1<<k < n {
		k++
	}
	return &callMemory{entries: make([]memEntry, n), buckets: make([]memRef, 1<<k), shift: 64 - k}
}

// bucket spreads a trace id over the buckets (ids are random in production, patterned
// in tests and some SDKs).
func (m *callMemory) bucket(t pcommon.TraceID) int {
	if m.shift == 64 {
		return 0
	}
	lo := binary.LittleEndian.Uint64(t[:8])
	hi := binary.LittleEndian.Uint64(t[8:])
	return int(((lo ^ bits.RotateLeft64(hi, 31)) * 0x9E3779B97F4A7C15) >> m.shift)
}

// maxBucketWalk bounds the traces of one bucket walked to find a trace (trace ids
// made to collide): past it the trace counts as not seen.
const maxBucketWalk = 64

// valid reports whether ref names an entry still in its slot.
func (m *callMemory) valid(ref memRef) bool {
	return ref.seq != 0 && m.entries[ref.idx].seq == ref.seq
}

// newest returns the trace's newest entry, or the zero memRef.
func (m *callMemory) newest(t pcommon.TraceID) memRef {
	ref := m.buckets[m.bucket(t)]
	for steps := 0; steps < maxBucketWalk && m.valid(ref); steps++ {
		e := &m.entries[ref.idx]
		if e.trace == t {
			return ref
		}
		ref = e.bucketPrev
	}
	return memRef{}
}

// maxChain bounds the remembered calls of one trace compared with a new span.
const maxChain = 256

// resolve applies the remembered decisions to a batch's candidates (already grouped
// within the batch; heads are the first of each trace), then remembers them.
func (m *callMemory) resolve(cands []candidate, heads []int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// The batch is matched against the memory as it was before the batch, then
	// remembered.
	m.refs = m.refs[:0]
	for _, head := range heads {
		ref := m.newest(cands[head].trace)
		if ref.seq != 0 {
			m.apply(cands, head, ref)
		}
		m.refs = append(m.refs, ref)
	}
	for h, head := range heads {
		ref := m.refs[h]
		if !m.valid(ref) {
			ref = memRef{} // overwritten by this batch's own entries
		}
		for i := head; i >= 0; i = cands[i].next {
			ref = m.remember(&cands[i], ref)
		}
	}
}

// apply matches the trace's candidates with its remembered calls (newest is the
// trace's newest entry).
func (m *callMemory) apply(cands []candidate, head int, newest memRef) {
	for i := head; i >= 0; i = cands[i].next {
		c := &cands[i]
		if c.winner != i {
			continue // a duplicate within the batch: its winner decides
		}
		e := m.find(c, newest)
		if e == nil {
			continue
		}
		switch {
		case e.span == c.id && e.winner == c.id:
			// The same span again (a retry, or a second pipeline): same decision.
			c.countedBy = e.countedBy
		case e.span == c.id:
			c.duplicateOfID = e.winner
		case !e.callUsage && c.call.hasUsage:
			// Counted earlier without a price (by a span without usage, not by one
			// it was a duplicate of): this span prices the call; the request was
			// counted by the remembered call's span.
			c.countedBy = e.winner
		default:
			c.duplicateOfID, c.callUsage = e.winner, e.callUsage
		}
		if !c.duplicateOfID.IsEmpty() {
			// The batch's duplicates of this span point to the remembered winner too.
			for j := head; j >= 0; j = cands[j].next {
				if j != i && cands[j].winner == i {
					cands[j].winner = j
					cands[j].duplicateOfID, cands[j].callUsage = c.duplicateOfID, c.callUsage
				}
			}
		}
	}
}

// find returns the remembered entry of the same call as c, or nil; ref is the
// trace's newest entry.
func (m *callMemory) find(c *candidate, ref memRef) *memEntry {
	ok := true
	resp := m.hash(c.call.respID)
	model := modelKey(&c.call)
	for steps := 0; ok && steps < maxChain; steps++ {
		e := &m.entries[ref.idx]
		if e.seq != ref.seq || e.trace != c.trace {
			return nil // overwritten: the rest of the chain is older still
		}
		if e.span == c.id {
			return e
		}
		if m.matches(e, c, resp, model) {
			return e
		}
		ref, ok = e.prev, e.prev.seq != 0
	}
	return nil
}

func (m *callMemory) matches(e *memEntry, c *candidate, resp uint64, model string) bool {
	if e.resp != 0 && resp != 0 {
		return e.resp == resp
	}
	if e.parent != c.id && c.parent != e.span {
		return false // across batches only direct nesting is known
	}
	if e.model != "" && model != "" && !strings.EqualFold(e.model, model) {
		return false
	}
	if !e.hasUsage || !c.call.hasUsage {
		return true
	}
	u := &c.call.usage
	both := e.reported & c.call.reported
	return e.in == u.Input && e.out == u.Output &&
		(both&hasCacheRead == 0 || e.cacheRead == u.CacheRead) &&
		(both&hasCacheWrite == 0 || e.cacheWrite == u.CacheWrite) &&
		(both&hasReasoning == 0 || e.reasoning == u.Reasoning)
}

// modelKey is what names a call's model for matching: its price entry id, else the
// name as sent.
func modelKey(c *callInfo) string {
	if c.model != nil {
		return c.model.ID
	}
	return capText(c.name, maxNameLen)
}

// hash is FNV-1a of a response id, never 0 (no id). A collision could only join two
// calls of one trace whose ids collide, which 64 bits make negligible.
func (m *callMemory) hash(s string) uint64 {
	if s == "" {
		return 0
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h | 1
}

// remember stores c as the newest entry of its trace; prev is the trace's newest
// entry before it. It returns the new entry's reference.
func (m *callMemory) remember(c *candidate, prev memRef) memRef {
	winner := c.id
	if !c.duplicateOfID.IsEmpty() {
		winner = c.duplicateOfID
	}
	b := m.bucket(c.trace)
	bucketPrev := m.buckets[b]
	if !m.valid(bucketPrev) {
		bucketPrev = memRef{}
	} else if h := &m.entries[bucketPrev.idx]; h.trace == c.trace {
		bucketPrev = h.bucketPrev // the trace's older entries are reached through prev
	}
	if m.seq++; m.seq == 0 {
		m.seq = 1
	}
	model := modelKey(&c.call)
	if c.call.model == nil {
		model = strings.Clone(model) // the name as sent points into the span
	}
	u := &c.call.usage
	m.entries[m.next] = memEntry{seq: m.seq, trace: c.trace, span: c.id, parent: c.parent, winner: winner, countedBy: c.countedBy, prev: prev,
		bucketPrev: bucketPrev, model: model, resp: m.hash(c.call.respID), in: u.Input, out: u.Output, cacheRead: u.CacheRead,
		cacheWrite: u.CacheWrite, reasoning: u.Reasoning, reported: c.call.reported, hasUsage: c.call.hasUsage,
		callUsage: c.callUsage}
	ref := memRef{idx: int32(m.next), seq: m.seq}
	m.buckets[b] = ref
	m.next = (m.next + 1) % len(m.entries)
	return ref
}
