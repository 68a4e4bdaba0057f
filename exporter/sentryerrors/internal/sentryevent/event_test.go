package sentryevent

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStacktraceBoundKeepsOriginalIndices: bounding a stack that was already bounded
// names the omitted range in the original stack's indices.
func TestStacktraceBoundKeepsOriginalIndices(t *testing.T) {
	fs := make([]Frame, 1000)
	for i := range fs {
		fs[i].Lineno = i
	}
	st := StackTrace{Frames: append(fs[:50:50], fs[850:]...), FramesOmitted: []uint{50, 850}} // as the parser bounds 1,000 frames
	st.bound(50)
	require.Len(t, st.Frames, 50)
	require.Equal(t, []uint{12, 962}, st.FramesOmitted)
	require.Equal(t, 11, st.Frames[11].Lineno)
	require.Equal(t, 962, st.Frames[12].Lineno)
	require.Equal(t, 999, st.Frames[49].Lineno)
}

// TestTrimKeepsTheChainLinked: the last trimming step keeps the root cause and the
// raised exception, renumbered so that the root cause names the raised one as parent
// (its old parent was among those left out).
func TestTrimKeepsTheChainLinked(t *testing.T) {
	ev := &Event{Exceptions: []Exception{
		{Type: "Root", Mechanism: Mechanism{Type: "chained", Source: "cause", ExceptionID: 2, ParentID: 1, HasParent: true}},
		{Type: "Middle", Mechanism: Mechanism{Type: "chained", Source: "cause", ExceptionID: 1, ParentID: 0, HasParent: true}},
		{Type: "Raised", Mechanism: Mechanism{Type: "opentelemetry", ExceptionID: 0}},
	}}
	require.True(t, ev.trim(4))
	require.Len(t, ev.Exceptions, 2)
	assert.Equal(t, Mechanism{Type: "chained", Source: "cause", ExceptionID: 1, ParentID: 0, HasParent: true}, ev.Exceptions[0].Mechanism)
	assert.Equal(t, Mechanism{Type: "opentelemetry", ExceptionID: 0}, ev.Exceptions[1].Mechanism)
	assert.False(t, ev.trim(5))
}
