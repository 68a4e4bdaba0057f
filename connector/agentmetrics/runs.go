package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Cost per agent run (agent.run.cost.usd).
//
// An SDK exports a span when it ends, so the LLM calls of a run usually arrive before
// their invoke_agent span, often in an earlier batch; a split batch can also put a call
// in the batch after its run. So:
//
//   - A call whose nearest invoke_agent ancestor is in its batch adds its cost to that run.
//   - A call whose chain of parents leaves the batch is held under the first missing
//     ancestor (trace id + span id). When that span arrives, the held cost follows it up
//     its own chain: to a run of that batch, to a run still open, or held again under the
//     next missing ancestor; a chain that ends at a root span was no agent's, and is let go.
//   - A run is observed (one histogram observation, the sum of its calls' cost) settle after
//     its invoke_agent span arrived; until then late calls add to it. After that it is
//     remembered for maxRunWait, so that a call arriving later still is counted as late.
//   - Held calls wait at most maxRunWait for their run, then are counted as no_run.
//
// Memory: at most max_open_runs runs (open or remembered; a ring of 56-byte places plus a
// map index) and max_open_runs held entries (a map plus a queue slot): 2.5 MB for both at
// 10,000 (BenchmarkMemoryBound). A call that cannot be held because the held entries are
// full is counted as open_runs_full; a run that finds every place taken by open runs is
// observed at once with the calls seen so far.

// maxRunWait is how long a held call waits for its run, and how long an observed run is
// remembered to recognise late calls. Agent runs longer than this lose their calls that
// arrived more than maxRunWait before the run's span (counted as no_run).
const maxRunWait = 15 * time.Minute

// Reasons of agent.run.cost.dropped.
const (
	dropFull  = "open_runs_full"
	dropLate  = "late"
	dropNoRun = "no_run"
)

// openRun is a run in the ring, from its arrival until it is forgotten.
type openRun struct {
	key      spanKey
	group    *group // the agent group (service, agent)
	cost     float64
	arrived  int64 // unix ns
	observed bool
}

// runRing holds the runs in order of arrival, which is also the order in which they are
// observed (arrival + settle) and forgotten (observed, then maxRunWait later or when
// room is needed): a run costs one map insert and one delete, with no queue of its own.
// Entries [head, head+observed) are observed, the next ones up to head+count open.
type runRing struct {
	entries  []openRun // max entries once the first run arrives
	index    map[spanKey]int32
	head     int
	count    int
	observed int
}

func (r *runRing) at(i int) *openRun { return &r.entries[(r.head+i)%len(r.entries)] }

// find returns the run of key, if it is in the ring.
func (r *runRing) find(key spanKey) *openRun {
	i, ok := r.index[key]
	if !ok {
		return nil
	}
	return &r.entries[i]
}

// forgetOldest drops the oldest run; it must be observed.
func (r *runRing) forgetOldest() {
	delete(r.index, r.entries[r.head].key)
	r.entries[r.head] = openRun{}
	r.head = (r.head + 1) % len(r.entries)
	r.count--
	r.observed--
}

type heldCalls struct {
	group    *group // LLM group of the first call held: its service labels drops
	cost     float64
	calls    int64
	deadline int64
}

// queued is a map key with the deadline it had when queued; an entry whose deadline has
// changed since (or that is gone) is skipped when the item comes up.
type queued struct {
	key      spanKey
	deadline int64
}

// fifo is a queue of deadlines that are never earlier than the ones before them (each
// is now plus a fixed duration), so that expiry only looks at the front.
type fifo struct {
	items []queued
	head  int
}

func (q *fifo) push(k spanKey, deadline int64) { q.items = append(q.items, queued{k, deadline}) }

func (q *fifo) len() int { return len(q.items) - q.head }

// pop returns the front item if its deadline is at or before now.
func (q *fifo) pop(now int64) (queued, bool) {
	if q.head == len(q.items) || q.items[q.head].deadline > now {
		return queued{}, false
	}
	it := q.items[q.head]
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
	}
	return it, true
}

type runTracker struct {
	max     int
	runs    runRing
	held    map[spanKey]heldCalls
	waiting fifo // held calls, by the time they give up
}

func newRunTracker(maxOpen int) runTracker {
	return runTracker{max: maxOpen, runs: runRing{index: make(map[spanKey]int32)}, held: make(map[spanKey]heldCalls)}
}

// hold adds the cost of calls whose run is not in their batch under missing, their first
// ancestor not in the batch: to the run if that ancestor is a run seen earlier, else to
// the calls held under it.
func (c *agentMetrics) hold(missing spanKey, cost float64, calls int64, g *group, wall time.Time) {
	t := &c.runs
	if r := t.runs.find(missing); r != nil {
		if r.observed {
			c.dropRunCost(g, dropLate, calls, wall)
			return
		}
		r.cost += cost
		return
	}
	if h, ok := t.held[missing]; ok {
		h.cost += cost
		h.calls += calls
		t.held[missing] = h
		return
	}
	if len(t.held) >= t.max {
		c.dropRunCost(g, dropFull, calls, wall)
		return
	}
	deadline := wall.Add(maxRunWait).UnixNano()
	t.held[missing] = heldCalls{group: g, cost: cost, calls: calls, deadline: deadline}
	t.waiting.push(missing, deadline)
}

// claimHeld moves the calls held under a span of this batch on up that span's chain.
func (c *agentMetrics) claimHeld(wall time.Time) {
	t, b := &c.runs, &c.batch
	if len(t.held) == 0 {
		return
	}
	b.index()
	for id, s := range b.spans {
		k := spanKey{s.trace, id}
		h, ok := t.held[k]
		if !ok {
			continue
		}
		delete(t.held, k)
		run, missing := s.run, spanKey{}
		if run < 0 {
			run, missing = b.nearestRun(k.trace, s.parent)
		}
		switch {
		case run >= 0:
			b.runs[run].cost += h.cost
		case missing != spanKey{}:
			c.hold(missing, h.cost, h.calls, h.group, wall)
		}
	}
}

// openRun keeps a run of this batch open for settle, or observes it now when settle is
// zero or every place holds an open run.
func (c *agentMetrics) openRun(br *batchRun, wall time.Time, now pcommon.Timestamp) {
	r := &c.runs.runs
	settle := c.cfg.AgentRunCost.Settle
	if settle == 0 {
		c.observeRun(br.group, br.cost, now)
		return
	}
	if r.find(br.key) != nil {
		return // the same invoke_agent span sent twice: observed once
	}
	if r.entries == nil {
		r.entries = make([]openRun, c.runs.max)
	}
	if r.count == len(r.entries) {
		if r.observed == 0 {
			c.observeRun(br.group, br.cost, now)
			return
		}
		r.forgetOldest() // an observed run makes room; an open one never does
	}
	i := (r.head + r.count) % len(r.entries)
	r.entries[i] = openRun{key: br.key, group: br.group, cost: br.cost, arrived: wall.UnixNano()}
	r.index[br.key] = int32(i)
	r.count++
}

func (c *agentMetrics) observeRun(g *group, cost float64, now pcommon.Timestamp) {
	c.member(g, slotRunCost, mAgentRunCost, func(k *labelKey) { *k = g.key }, now).observe(c.cfg.AgentRunCost.Buckets, cost)
}

// sweepRuns observes runs whose settle time has passed, forgets observed runs after
// maxRunWait and gives up on calls held that long.
func (c *agentMetrics) sweepRuns(wall time.Time) {
	if !c.runCost {
		return
	}
	t, r := &c.runs, &c.runs.runs
	ns := wall.UnixNano()
	now := pcommon.NewTimestampFromTime(wall)
	settle := int64(c.cfg.AgentRunCost.Settle)
	for r.observed < r.count {
		run := r.at(r.observed)
		if run.arrived+settle > ns {
			break
		}
		c.observeRun(run.group, run.cost, now)
		run.observed = true
		r.observed++
	}
	for r.observed > 0 && r.entries[r.head].arrived+settle+int64(maxRunWait) <= ns {
		r.forgetOldest()
	}
	for {
		it, ok := t.waiting.pop(ns)
		if !ok {
			break
		}
		if h, ok := t.held[it.key]; ok && h.deadline == it.deadline {
			delete(t.held, it.key)
			c.dropRunCost(h.group, dropNoRun, h.calls, wall)
		}
	}
}

// closeRuns, at shutdown, observes the runs still open with the calls seen so far and
// counts the calls still held for a run as no_run: nothing is kept across a restart, and
// the last flush must not lose them without a trace.
func (c *agentMetrics) closeRuns(wall time.Time) {
	if !c.runCost {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, r := &c.runs, &c.runs.runs
	now := pcommon.NewTimestampFromTime(wall)
	for r.observed < r.count {
		run := r.at(r.observed)
		c.observeRun(run.group, run.cost, now)
		run.observed = true
		r.observed++
	}
	for k, h := range t.held {
		delete(t.held, k)
		c.dropRunCost(h.group, dropNoRun, h.calls, wall)
	}
	t.waiting = fifo{}
}

func (c *agentMetrics) dropRunCost(g *group, reason string, calls int64, wall time.Time) {
	m := c.metrics[mAgentRunDropped]
	k := labelKey{g.key[0], reason}
	if g.overflow {
		k[0] = unknown
	}
	m.get(&k, pcommon.NewTimestampFromTime(wall), c.cfg.MaxSeries, c.overflow).intSum += calls
}
