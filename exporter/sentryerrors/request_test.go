package sentryerrors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

func sampleRequest(n int) *eventsRequest {
	r := &eventsRequest{}
	for i := 0; i < n; i++ {
		r.events = append(r.events, encodedEvent{
			route:   []string{"", "billing"}[i%2],
			eventID: string(eventID([]byte{byte(i)})),
			payload: []byte(`{"event_id":"x","message":"line\nbreak ` + string(rune('a'+i)) + `"}`),
			trace:   traceHeader{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Release: "1.0." + string(rune('0'+i)), Environment: "prod"},
		})
	}
	return r
}

func TestQueueEncodingRoundTrip(t *testing.T) {
	r := sampleRequest(3)
	b, err := queueEncoding{}.Marshal(context.Background(), r)
	require.NoError(t, err)
	_, got, err := queueEncoding{}.Unmarshal(b)
	require.NoError(t, err)
	assert.Equal(t, r.events, got.(*eventsRequest).events)
	assert.NotContains(t, string(b), "https://", "no DSN in the queue")

	// A queue written by the previous version (SE1: no trace header fields) still reads.
	v1 := []byte("SE1\x01\x00\x02id\x02{}")
	_, old, err := queueEncoding{}.Unmarshal(v1)
	require.NoError(t, err)
	assert.Equal(t, []encodedEvent{{eventID: "id", payload: []byte("{}")}}, old.(*eventsRequest).events)

	for _, bad := range [][]byte{nil, []byte("XX1"), b[:len(b)-1], append(append([]byte{}, b...), 0)} {
		_, _, err := queueEncoding{}.Unmarshal(bad)
		assert.ErrorIs(t, err, errBadQueueItem)
	}
}

func TestMergeSplit(t *testing.T) {
	a, b := sampleRequest(3), sampleRequest(4)
	out, err := a.MergeSplit(context.Background(), 2, exporterhelper.RequestSizerTypeItems, b)
	require.NoError(t, err)
	require.Len(t, out, 4)
	total := 0
	for _, r := range out {
		assert.LessOrEqual(t, r.ItemsCount(), 2)
		total += r.ItemsCount()
	}
	assert.Equal(t, 7, total)

	out, err = a.MergeSplit(context.Background(), 0, exporterhelper.RequestSizerTypeItems, nil)
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, 3, out[0].ItemsCount())

	one := a.events[0]
	size := len(one.payload) + len(one.eventID) + len(one.route)
	out, err = a.MergeSplit(context.Background(), size+1, exporterhelper.RequestSizerTypeBytes, nil)
	require.NoError(t, err)
	assert.Len(t, out, 3, "one event per request when two do not fit the byte limit")
}

func TestOnErrorKeepsOnlyUnsent(t *testing.T) {
	r := sampleRequest(3)
	err := exporterhelper.NewThrottleRetry(&unsentError{err: errors.New("429"), unsent: r.events[2:]}, time.Second)
	next := r.OnError(err).(*eventsRequest)
	assert.Equal(t, r.events[2:], next.events)
	assert.Same(t, r, r.OnError(errors.New("other")))
}

// TestPartialDeliveryRetriesTheRest pushes a request of three events (as a batching
// sending queue would make) to a server that accepts one, then fails: the retry sends
// the two that are left, not the first again.
func TestPartialDeliveryRetriesTheRest(t *testing.T) {
	srv := harness.NewSentryServer(t)
	srv.Respond(harness.SentryResponse{Status: 200}, harness.SentryResponse{Status: 503})
	tgt, err := newTarget(srv.DSN(), "test/1")
	require.NoError(t, err)
	tel := newTelemetry(mustTelemetryBuilder(t), "sentry_errors")
	s := &sender{targets: map[string]*target{"": tgt}, now: time.Now, tel: tel, sdk: &testMapper(t, nil).sdk, ua: "test", client: srvClient()}
	m := testMapper(t, nil)
	r := &eventsRequest{}
	for i := 0; i < 3; i++ {
		td := toolErrorTrace(t)
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4).SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, byte(i)})
		me := m.mapTraces(td).events[0]
		ev := me.event
		p, _, err := encodeEvent(me)
		require.NoError(t, err)
		r.events = append(r.events, encodedEvent{eventID: string(ev.EventID), payload: p})
	}
	err = s.push(context.Background(), r)
	require.Error(t, err)
	next := r.OnError(err).(*eventsRequest)
	require.Len(t, next.events, 2)
	require.NoError(t, s.push(context.Background(), next))
	evs := srv.Events()
	require.Len(t, evs, 3)
	seen := map[string]bool{}
	for _, e := range evs {
		seen[e["event_id"].(string)] = true
	}
	assert.Len(t, seen, 3, "each event delivered once")
}
