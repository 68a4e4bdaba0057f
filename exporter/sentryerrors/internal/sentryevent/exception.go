package sentryevent

import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/stacktrace"

// Frame is one stack frame of the event, as the parsers give it.
type Frame = stacktrace.Frame

// StackTrace is Sentry's stack trace interface, frames oldest call first.
type StackTrace struct {
	Frames        []Frame
	FramesOmitted []uint
}

func (st *StackTrace) empty() bool { return len(st.Frames) == 0 && len(st.FramesOmitted) == 0 }

// bound keeps at most n frames (see Event.boundStacks).
func (st *StackTrace) bound(n int) {
	if len(st.Frames) <= n {
		return
	}
	total := len(st.Frames)
	if len(st.FramesOmitted) == 2 {
		total += int(st.FramesOmitted[1] - st.FramesOmitted[0])
	}
	head := n / 4
	tail := n - head
	frames := make([]Frame, 0, n)
	frames = append(frames, st.Frames[:head]...)
	st.Frames = append(frames, st.Frames[len(st.Frames)-tail:]...)
	st.FramesOmitted = []uint{uint(head), uint(total - tail)}
}

// Exception is one value of the event's exception interface.
type Exception struct {
	Type, Value, Module string
	Stacktrace          StackTrace // written when it has frames
	Mechanism           Mechanism
}

// Mechanism is how the exception was caught, and its place in a chain of causes.
type Mechanism struct {
	Type, Source string
	ExceptionID  int
	ParentID     int
	HasParent    bool
	Group        bool // written as "is_exception_group": true
	// Unnumbered leaves exception_id and parent_id out, as sentry-python does for a
	// chain of causes (Sentry then groups the chain in its listed order).
	Unnumbered bool
	Unhandled  bool // written as "handled": false (a Go panic)
}

// Thread is one value of the event's threads interface (Go goroutines).
type Thread struct {
	ID, Name         string
	Stacktrace       StackTrace // written when it has frames
	Crashed, Current bool
}
