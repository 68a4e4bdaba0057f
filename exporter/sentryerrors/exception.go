package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/stacktrace"

// frame is one stack frame of the event, as the parsers give it.
type frame = stacktrace.Frame

// stackTrace is Sentry's stack trace interface, frames oldest call first.
type stackTrace struct {
	Frames        []frame
	FramesOmitted []uint
}

func (st *stackTrace) empty() bool { return len(st.Frames) == 0 && len(st.FramesOmitted) == 0 }

// bound keeps at most n frames (see eventParts.boundStacks).
func (st *stackTrace) bound(n int) {
	if len(st.Frames) <= n {
		return
	}
	total := len(st.Frames)
	if len(st.FramesOmitted) == 2 {
		total += int(st.FramesOmitted[1] - st.FramesOmitted[0])
	}
	head := n / 4
	tail := n - head
	frames := make([]frame, 0, n)
	frames = append(frames, st.Frames[:head]...)
	st.Frames = append(frames, st.Frames[len(st.Frames)-tail:]...)
	st.FramesOmitted = []uint{uint(head), uint(total - tail)}
}

// exception is one value of the event's exception interface.
type exception struct {
	Type, Value, Module string
	Stacktrace          stackTrace // written when it has frames
	Mechanism           mechanism
}

// mechanism is how the exception was caught, and its place in a chain of causes.
type mechanism struct {
	Type, Source string
	ExceptionID  int
	ParentID     int
	HasParent    bool
	Unhandled    bool // written as "handled": false (a Go panic)
}

// thread is one value of the event's threads interface (Go goroutines).
type thread struct {
	ID, Name         string
	Stacktrace       stackTrace // written when it has frames
	Crashed, Current bool
}
