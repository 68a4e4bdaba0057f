// Package sentryevent is the error event this exporter sends, and its JSON: Sentry's
// event payload for the fields the exporter sets, written straight to bytes in the key
// order sentry-go writes them, with exception, threads and breadcrumbs as
// {"values": [...]}. An event that encodes larger than Sentry takes is trimmed until it
// fits (Encode).
package sentryevent // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"

import (
	"time"

	sentry "github.com/getsentry/sentry-go"
)

// Event is one error event.
type Event struct {
	EventID     sentry.EventID
	Timestamp   time.Time
	Level       sentry.Level
	Platform    string
	Release     string
	Environment string
	ServerName  string
	Logger      string
	Message     string
	Transaction string
	Fingerprint []string
	Sdk         *sentry.SdkInfo
	User        sentry.User
	Request     *sentry.Request
	Exceptions  []Exception   // the root cause first, the raised exception last
	Threads     []Thread      // Go goroutines
	Breadcrumbs []*Breadcrumb // oldest first
	Contexts    Contexts
	Tags        Tags
}

// Tag is one of the tags an event can have.
type Tag int

// The tags, in key order.
const (
	TagAgent Tag = iota
	TagErrorType
	TagLLMModel
	TagLLMProvider
	TagRoute
	TagService
	numTags
)

var tagKeys = [numTags]string{"agent", "error.type", "llm.model", "llm.provider", "route", "service"}

// Tags are an event's tags: a handful of fixed keys, written in key order.
type Tags struct {
	values [numTags]string
	set    uint8 // which are set (a value may be empty)
}

// Set sets tag t to v.
func (ts *Tags) Set(t Tag, v string) {
	ts.values[t] = v
	ts.set |= 1 << t
}

// Get returns tag t and whether it is set.
func (ts *Tags) Get(t Tag) (string, bool) { return ts.values[t], ts.set&(1<<t) != 0 }

// trim makes the event smaller for MaxBytes, step 1 to 4, each keeping less than the
// one before: (1) only the crashed thread; (2) no otel context, the last 10
// breadcrumbs; (3) at most 50 frames per stack; (4) only the root cause and the raised
// exception, 10 frames each, no threads, no breadcrumbs. It reports false past step 4.
func (ev *Event) trim(step int) bool {
	switch step {
	case 1:
		var kept []Thread
		for _, t := range ev.Threads {
			if t.Crashed || t.Current {
				kept = append(kept, t)
			}
		}
		if kept == nil && len(ev.Threads) > 0 {
			kept = ev.Threads[:1]
		}
		ev.Threads = kept
	case 2:
		ev.Contexts.Otel = nil
		if n := len(ev.Breadcrumbs); n > 10 {
			ev.Breadcrumbs = ev.Breadcrumbs[n-10:]
		}
	case 3:
		ev.boundStacks(50)
	case 4:
		if n := len(ev.Exceptions); n > 2 {
			root, raised := ev.Exceptions[0], ev.Exceptions[n-1]
			// Renumbered, so that the root cause names the raised exception as its parent.
			root.Mechanism.ExceptionID, root.Mechanism.ParentID = 1, 0
			ev.Exceptions = []Exception{root, raised}
		}
		ev.Threads, ev.Breadcrumbs = nil, nil
		ev.boundStacks(10)
	default:
		return false
	}
	return true
}

// boundStacks keeps at most n frames of each stack: the oldest quarter and the newest
// calls, the omitted range named in frames_omitted in the original stack's indices.
func (ev *Event) boundStacks(n int) {
	for i := range ev.Exceptions {
		ev.Exceptions[i].Stacktrace.bound(n)
	}
	for i := range ev.Threads {
		ev.Threads[i].Stacktrace.bound(n)
	}
}
