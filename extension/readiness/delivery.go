package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/procode-ai/otelcol-procode/internal/delivery"
	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// Prefixes of the delivery checks' names: exporter:<id> and processor:<id>.
const (
	exporterPrefix  = "exporter:"
	processorPrefix = "processor:"
)

// maxLossEntries bounds the loss history of one exporter or memory limiter: entries are
// merged per second, signal and cause, so this covers a loss_window of an hour even
// with every signal dropping every second.
const maxLossEntries = 4096

// Why data was dropped.
const (
	causeQueueFull = iota
	causeSendFailed
	numCauses
)

// lossEntry counts the items of one signal dropped for one cause in one second.
type lossEntry struct {
	at     time.Time
	signal string
	cause  int
	items  int64
}

// lossLog is a bounded history of drops (or refusals), oldest first.
type lossLog []lossEntry

func (l *lossLog) add(at time.Time, signal string, cause int, items int64, window time.Duration) {
	at = at.Truncate(time.Second)
	if n := len(*l); n > 0 {
		last := &(*l)[n-1]
		if last.at.Equal(at) && last.signal == signal && last.cause == cause {
			last.items += items
			return
		}
	}
	*l = append(*l, lossEntry{at: at, signal: signal, cause: cause, items: items})
	l.prune(at.Add(-window))
	if len(*l) > maxLossEntries {
		*l = slices.Delete(*l, 0, len(*l)-maxLossEntries)
	}
}

// prune forgets entries before from.
func (l *lossLog) prune(from time.Time) {
	i := 0
	for i < len(*l) && (*l)[i].at.Before(from) {
		i++
	}
	if i > 0 {
		*l = slices.Delete(*l, 0, i)
	}
}

// since sums the items from `from` on, by signal and by cause.
func (l lossLog) since(from time.Time) (bySignal map[string]int64, byCause [numCauses]int64, total int64) {
	bySignal = map[string]int64{}
	for _, e := range l {
		if e.at.Before(from.Truncate(time.Second)) {
			continue
		}
		bySignal[e.signal] += e.items
		byCause[e.cause] += e.items
		total += e.items
	}
	return bySignal, byCause, total
}

// exporterDelivery is what the extension knows about one exporter's delivery.
type exporterDelivery struct {
	id      string
	signals map[string]bool
	// failing holds, per signal, its first failure since its last success: one signal's
	// success does not end another's failure. "" is a failure of an unknown signal,
	// which any success ends.
	failing     map[string]time.Time
	succeeded   map[string]bool // signals sent at least once
	lastError   string
	lastSuccess time.Time
	losses      lossLog
	lastLoss    time.Time
	lossError   string
}

// limiterDelivery is what the extension knows about one memory limiter's refusals.
type limiterDelivery struct {
	id            string
	refusingSince time.Time
	lastRefusal   time.Time
	reason        string
	refusals      lossLog
}

// deliveryState holds the delivery of every exporter and the refusals of every memory
// limiter. It is part of state and guarded by state.mu.
type deliveryState struct {
	cfg       DeliveryConfig
	gated     map[string]bool // gate_readiness, shared with state
	exporters map[string]*exporterDelivery
	limiters  map[string]*limiterDelivery
}

func newDeliveryState(cfg DeliveryConfig, gated map[string]bool) *deliveryState {
	return &deliveryState{cfg: cfg, gated: gated, exporters: map[string]*exporterDelivery{}, limiters: map[string]*limiterDelivery{}}
}

func (d *deliveryState) exporter(id string) *exporterDelivery {
	e, ok := d.exporters[id]
	if !ok {
		e = &exporterDelivery{id: id, signals: map[string]bool{}, failing: map[string]time.Time{}, succeeded: map[string]bool{}}
		d.exporters[id] = e
	}
	return e
}

func (d *deliveryState) limiter(id string) *limiterDelivery {
	l, ok := d.limiters[id]
	if !ok {
		l = &limiterDelivery{id: id}
		d.limiters[id] = l
	}
	return l
}

// record applies one observation received at now.
func (d *deliveryState) record(ev delivery.Event, now time.Time) {
	ev.Err = safetext.Clean(ev.Err) // cleaned where observed; never trust a body to that alone
	if ev.Kind == delivery.Refusing && ev.Component == "" {
		// memory_limiter's logger drops the component ID (one limiter may serve several
		// pipelines): its reason applies to every memory limiter.
		if len(d.limiters) == 0 {
			d.limiter(memoryLimiterType)
		}
		for _, l := range d.limiters {
			l.reason = ev.Err
		}
		return
	}
	if ev.Component == "" {
		return
	}
	switch ev.Kind {
	case delivery.Refused:
		l := d.limiter(ev.Component)
		if l.refusingSince.IsZero() || now.Sub(l.lastRefusal) > d.cfg.FailingAfter {
			l.refusingSince = now
		}
		l.lastRefusal = now
		l.refusals.add(now, ev.Signal, 0, ev.Items, d.cfg.LossWindow)
		return
	case delivery.Refusing:
		l := d.limiter(ev.Component)
		l.reason = ev.Err
		return
	}
	e := d.exporter(ev.Component)
	if ev.Signal != "" {
		e.signals[ev.Signal] = true
	}
	switch ev.Kind {
	case delivery.Sent:
		e.sent(now, ev.Signal)
	case delivery.Retrying:
		e.failed(now, ev.Signal, ev.Err)
	case delivery.SendFailed:
		e.failed(now, ev.Signal, "")
		e.lost(now, ev.Signal, causeSendFailed, ev.Items, d.cfg.LossWindow)
	case delivery.EnqueueFailed:
		e.lost(now, ev.Signal, causeQueueFull, ev.Items, d.cfg.LossWindow)
	case delivery.Dropped:
		e.lossError = ev.Err
		if len(e.failing) > 0 && e.lastError == "" {
			e.lastError = ev.Err // a send given up on without a retry before it
		}
	}
}

// componentStatus applies an exporter's own status report for one signal: a
// recoverable error is a failed send, OK a successful one.
func (d *deliveryState) componentStatus(id, signal string, failed bool, errText string, now time.Time) {
	e := d.exporter(id)
	if failed {
		e.failed(now, signal, errText)
		return
	}
	_, wasFailing := e.failing[signal]
	if _, unknown := e.failing[""]; wasFailing || unknown {
		e.sent(now, signal)
	}
}

func (e *exporterDelivery) sent(now time.Time, signal string) {
	delete(e.failing, signal)
	delete(e.failing, "")
	e.succeeded[signal] = true
	e.lastSuccess = now
}

func (e *exporterDelivery) failed(now time.Time, signal, errText string) {
	if _, ok := e.failing[signal]; !ok {
		e.failing[signal] = now
	}
	if errText != "" {
		e.lastError = errText
	}
}

// failingSince is the earliest failure of a signal still failing; zero when none is.
func (e *exporterDelivery) failingSince() time.Time {
	var since time.Time
	for _, t := range e.failing {
		if since.IsZero() || t.Before(since) {
			since = t
		}
	}
	return since
}

// sendingWhat is "sending", or when another signal still goes through, "sending" and
// the signals that fail: "sending logs".
func (e *exporterDelivery) sendingWhat() string {
	partial := false
	for s := range e.succeeded {
		if _, failing := e.failing[s]; !failing && s != "" {
			partial = true
		}
	}
	if !partial {
		return "sending"
	}
	names := make([]string, 0, len(e.failing))
	for s := range e.failing {
		if s != "" {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return "sending"
	}
	sort.Strings(names)
	return "sending " + strings.Join(names, ", ")
}

func (e *exporterDelivery) lost(now time.Time, signal string, cause int, items int64, window time.Duration) {
	e.losses.add(now, signal, cause, items, window)
	e.lastLoss = now
}

// exporterCheck evaluates one exporter at now, with its sending queues: how its sends
// go, what it dropped within loss_window, and how full its queues are.
func (d *deliveryState) exporterCheck(e *exporterDelivery, queues []delivery.Queue, now time.Time) check {
	gate := d.gated[exporterPrefix+e.id]
	c := check{name: exporterPrefix + e.id, status: health.StatusHealthy, fields: map[string]any{
		"gates_readiness": gate,
		"signals":         e.signalNames(queues),
	}}
	parts := []string{d.sending(&c, e, now)}
	if p := d.drops(&c, e, now); p != "" {
		parts = append(parts, p)
	}
	if p := d.queues(&c, queues); p != "" {
		parts = append(parts, p)
	}
	c.message = strings.Join(parts, "; ")
	c.effect = c.status
	c.ready = !gate || c.status != health.StatusUnhealthy
	return c
}

// signalNames are the signals the exporter sent or queued, sorted.
func (e *exporterDelivery) signalNames(queues []delivery.Queue) []string {
	signals := make([]string, 0, len(e.signals))
	for s := range e.signals {
		signals = append(signals, s)
	}
	for _, q := range queues {
		if !e.signals[q.Signal] && q.Signal != "" {
			signals = append(signals, q.Signal)
		}
	}
	sort.Strings(signals)
	return slices.Compact(signals)
}

// sending says how the exporter's sends go, degrading c when they have failed for
// failing_after.
func (d *deliveryState) sending(c *check, e *exporterDelivery, now time.Time) string {
	if e.lastError != "" {
		c.fields["last_error"] = e.lastError
	}
	if !e.lastSuccess.IsZero() {
		c.fields["last_success"] = e.lastSuccess.UTC().Format(time.RFC3339)
	}
	since := e.failingSince()
	switch {
	case !since.IsZero():
		failing := now.Sub(since)
		c.fields["failing_since"] = since.UTC().Format(time.RFC3339)
		if failing >= d.cfg.FailingAfter {
			c.status = health.Worse(c.status, health.StatusDegraded)
			return fmt.Sprintf("%s failed for %s%s", e.sendingWhat(), roundDuration(failing), reasonSuffix(e.lastError))
		}
		return fmt.Sprintf("%s has been failing for %s%s", e.sendingWhat(), roundDuration(failing), reasonSuffix(e.lastError))
	case !e.lastSuccess.IsZero():
		return fmt.Sprintf("last send succeeded %s ago", roundDuration(now.Sub(e.lastSuccess)))
	default:
		return "nothing sent yet"
	}
}

// drops says what the exporter dropped within loss_window and why, making c unhealthy;
// "" when it dropped nothing.
func (d *deliveryState) drops(c *check, e *exporterDelivery, now time.Time) string {
	bySignal, byCause, total := e.losses.since(now.Add(-d.cfg.LossWindow))
	if total == 0 {
		return ""
	}
	c.status = health.StatusUnhealthy
	dropped := map[string]any{}
	for s, n := range bySignal {
		dropped[unitOf(s)] = n
	}
	c.fields["dropped"] = dropped
	c.fields["last_drop"] = e.lastLoss.UTC().Format(time.RFC3339)
	var why []string
	if n := byCause[causeQueueFull]; n > 0 {
		why = append(why, fmt.Sprintf("%d refused by the full sending queue", n))
	}
	if n := byCause[causeSendFailed]; n > 0 {
		why = append(why, fmt.Sprintf("%d given up on after failed sends", n))
	}
	p := fmt.Sprintf("dropped %s in the last %s (%s)", countItems(bySignal), roundDuration(d.cfg.LossWindow), strings.Join(why, ", "))
	if e.lossError != "" {
		p += ": " + shortReason(e.lossError)
		c.fields["drop_error"] = e.lossError
	}
	return p
}

// queues says how full each sending queue is, degrading c at queue_threshold; "" when the
// exporter has no queue.
func (d *deliveryState) queues(c *check, queues []delivery.Queue) string {
	if len(queues) == 0 {
		return ""
	}
	qs := map[string]any{}
	texts := make([]string, 0, len(queues))
	for _, q := range queues {
		qs[q.Signal] = map[string]any{"size": q.Size, "capacity": q.Capacity}
		text := fmt.Sprintf("queue %d/%d", q.Size, q.Capacity)
		if len(queues) > 1 {
			text = q.Signal + " " + text
		}
		if q.Capacity > 0 && float64(q.Size) >= d.cfg.QueueThreshold*float64(q.Capacity) {
			text += fmt.Sprintf(" (%.0f%% full)", 100*float64(q.Size)/float64(q.Capacity))
			c.status = health.Worse(c.status, health.StatusDegraded)
		}
		texts = append(texts, text)
	}
	c.fields["queues"] = qs
	return strings.Join(texts, ", ")
}

// limiterCheck evaluates one memory limiter at now: degraded while it refuses data, and
// for failing_after after its last refusal.
func (d *deliveryState) limiterCheck(l *limiterDelivery, now time.Time) check {
	c := check{name: processorPrefix + l.id, status: health.StatusHealthy, ready: true, fields: map[string]any{}}
	bySignal, _, total := l.refusals.since(now.Add(-d.cfg.LossWindow))
	recent := !l.lastRefusal.IsZero() && now.Sub(l.lastRefusal) <= d.cfg.FailingAfter
	var parts []string
	switch {
	case recent:
		c.status = health.StatusDegraded
		reason := l.reason
		if reason == "" {
			reason = "memory usage is above the soft limit"
		}
		parts = append(parts, fmt.Sprintf("refusing data for %s (%s)", roundDuration(now.Sub(l.refusingSince)), reason))
		c.fields["refusing_since"] = l.refusingSince.UTC().Format(time.RFC3339)
	case total > 0:
		parts = append(parts, fmt.Sprintf("last refused data %s ago", roundDuration(now.Sub(l.lastRefusal))))
	default:
		parts = append(parts, "accepting data")
	}
	if total > 0 {
		refused := map[string]any{}
		for s, n := range bySignal {
			refused[unitOf(s)] = n
		}
		c.fields["refused"] = refused
		parts = append(parts, fmt.Sprintf("refused %s in the last %s; senders get a retryable error", countItems(bySignal), roundDuration(d.cfg.LossWindow)))
	}
	c.message = strings.Join(parts, "; ")
	c.effect = c.status
	return c
}

// unitOf names the items of a signal, as the collector's own metrics do.
func unitOf(signal string) string {
	switch signal {
	case "traces":
		return "spans"
	case "metrics":
		return "metric points"
	case "logs":
		return "log records"
	case "profiles":
		return "profile samples"
	}
	return "items"
}

// countItems renders counts by signal: "12 spans, 3 log records".
func countItems(bySignal map[string]int64) string {
	signals := make([]string, 0, len(bySignal))
	for s := range bySignal {
		signals = append(signals, s)
	}
	sort.Strings(signals)
	parts := make([]string, 0, len(signals))
	for _, s := range signals {
		parts = append(parts, fmt.Sprintf("%d %s", bySignal[s], unitOf(s)))
	}
	return strings.Join(parts, ", ")
}

func reasonSuffix(errText string) string {
	if errText == "" {
		return ""
	}
	return " (" + shortReason(errText) + ")"
}

// shortReason is the innermost cause of an error chain ("a: b: connection refused" ->
// "connection refused"; a gRPC status's description), or the whole text, bounded, when
// that part says too little.
func shortReason(errText string) string {
	s := strings.TrimSpace(errText)
	tail := s
	if i := strings.LastIndex(tail, ": "); i >= 0 {
		tail = tail[i+2:]
	}
	if i := strings.LastIndex(tail, "desc = "); i >= 0 {
		tail = tail[i+len("desc = "):]
	}
	if tail = strings.Trim(strings.TrimSpace(tail), `"'`); len(tail) >= 4 {
		s = tail
	}
	return safetext.Truncate(s, 120)
}

// roundDuration renders d in whole seconds ("45s", "2m5s"), or whole minutes from ten
// minutes on ("5m", "1h30m").
func roundDuration(d time.Duration) string {
	if d >= 10*time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
