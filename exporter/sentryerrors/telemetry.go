package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
)

// telemetry records the exporter's own metrics with pre-built attribute sets.
type telemetry struct {
	tb      *metadata.TelemetryBuilder
	sentOpt metric.AddOption
	reasons [numReasons]metric.AddOption
	rules   [scrub.NumRules]metric.AddOption
}

// newTelemetry labels every series with the exporter's component ID, the label the
// collector's own otelcol_exporter_* metrics use.
func newTelemetry(tb *metadata.TelemetryBuilder, id string) *telemetry {
	exp := attribute.String("exporter", id)
	t := &telemetry{tb: tb, sentOpt: metric.WithAttributeSet(attribute.NewSet(exp))}
	for i, n := range reasonNames {
		t.reasons[i] = metric.WithAttributeSet(attribute.NewSet(exp, attribute.String("reason", n)))
	}
	for i, n := range scrub.RuleNames {
		t.rules[i] = metric.WithAttributeSet(attribute.NewSet(exp, attribute.String("rule", n)))
	}
	return t
}

func (t *telemetry) sent(ctx context.Context, n int64) {
	t.tb.ExporterSentryErrorsEventsSent.Add(ctx, n, t.sentOpt)
}

func (t *telemetry) dropped(ctx context.Context, r dropReason, n int64) {
	if n > 0 {
		t.tb.ExporterSentryErrorsEventsDropped.Add(ctx, n, t.reasons[r])
	}
}

func (t *telemetry) scrubbed(ctx context.Context, c *scrub.Counts) {
	for r, n := range c {
		if n > 0 {
			t.tb.ExporterSentryErrorsFieldsScrubbed.Add(ctx, n, t.rules[r])
		}
	}
}

// fingerprintLimiter counts events per group in fixed windows.
type fingerprintLimiter struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	groups map[string]*window
	order  []string // the groups, oldest first from head: a ring once maxGroups are held
	head   int
}

type window struct {
	start time.Time
	count int
}

// maxGroups bounds the limiter's memory: past it, a new group takes the place of the
// oldest one (see evict).
const maxGroups = 10000

func newFingerprintLimiter(cfg FingerprintLimitConfig) *fingerprintLimiter {
	if cfg.MaxEvents <= 0 {
		return nil
	}
	return &fingerprintLimiter{max: cfg.MaxEvents, window: cfg.Window, groups: map[string]*window{}}
}

// allow reports whether one more event of group fits its window.
func (l *fingerprintLimiter) allow(group string, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.groups[group]
	switch {
	case !ok:
		w = &window{start: now}
		group = strings.Clone(group)
		if len(l.order) < maxGroups {
			l.order = append(l.order, group)
		} else {
			l.order[l.evict(now)] = group
		}
		l.groups[group] = w
	case now.Sub(w.start) >= l.window:
		*w = window{start: now}
	}
	if w.count >= l.max {
		return false
	}
	w.count++
	return true
}

// evict frees the ring slot of the oldest group and returns it. A group held back in
// its current window is passed over (moved to the newest end) a few times first, so
// that a storm of new groups does not reset the count of the one being limited.
// Constant work per call: no sweep of every group while events wait.
func (l *fingerprintLimiter) evict(now time.Time) int {
	for tries := 0; ; tries++ {
		i := l.head
		l.head = (l.head + 1) % len(l.order)
		w := l.groups[l.order[i]]
		if tries < 8 && w.count >= l.max && now.Sub(w.start) < l.window {
			continue // the ring turned by one: it is now the newest
		}
		delete(l.groups, l.order[i])
		return i
	}
}
