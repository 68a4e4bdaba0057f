package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
)

// encodedEvent is one Sentry event, encoded, with the route that picks its DSN at send
// time. It holds no DSN, so a persistent queue never writes a project key to disk.
type encodedEvent struct {
	route   string
	eventID string
	payload []byte      // the event JSON
	trace   traceHeader // the envelope's trace header, without the public key (the route's)
}

// eventsRequest is what the sending queue holds: the error events of one batch (more
// when sending_queue::batch merges requests). Its items are events.
type eventsRequest struct {
	events []encodedEvent
	// started is when the first attempt began; it bounds how long a Sentry rate limit
	// may hold the request (retry_on_failure::max_elapsed_time). Not persisted.
	started time.Time
}

var (
	_ xexporterhelper.Request             = (*eventsRequest)(nil)
	_ xexporterhelper.RequestErrorHandler = (*eventsRequest)(nil)
)

func (r *eventsRequest) ItemsCount() int { return len(r.events) }

func (r *eventsRequest) BytesSize() int {
	n := 0
	for _, e := range r.events {
		n += len(e.payload) + len(e.eventID) + len(e.route)
	}
	return n
}

// MergeSplit merges other into r and splits the result into requests of at most
// maxSize events (items sizer) or payload bytes (bytes sizer).
func (r *eventsRequest) MergeSplit(_ context.Context, maxSize int, sizer exporterhelper.RequestSizerType, other xexporterhelper.Request) ([]xexporterhelper.Request, error) {
	events := r.events
	started := r.started
	if other != nil {
		o, ok := other.(*eventsRequest)
		if !ok {
			return nil, fmt.Errorf("cannot merge a %T into a sentry_errors request", other)
		}
		events = make([]encodedEvent, 0, len(r.events)+len(o.events))
		events = append(append(events, r.events...), o.events...)
		if started.IsZero() || (!o.started.IsZero() && o.started.Before(started)) {
			started = o.started
		}
	}
	if maxSize <= 0 || sizer == exporterhelper.RequestSizerTypeRequests {
		return []xexporterhelper.Request{&eventsRequest{events: events, started: started}}, nil
	}
	var out []xexporterhelper.Request
	cur := &eventsRequest{started: started}
	size := 0
	for _, e := range events {
		n := 1
		if sizer == exporterhelper.RequestSizerTypeBytes {
			n = len(e.payload) + len(e.eventID) + len(e.route)
		}
		if len(cur.events) > 0 && size+n > maxSize {
			out = append(out, cur)
			cur = &eventsRequest{started: started}
			size = 0
		}
		cur.events = append(cur.events, e)
		size += n
	}
	if len(cur.events) > 0 || len(out) == 0 {
		out = append(out, cur)
	}
	return out, nil
}

// unsentError carries the events that a failed attempt did not deliver, so that the
// retry sends only those (OnError).
type unsentError struct {
	err    error
	unsent []encodedEvent
}

func (e *unsentError) Error() string { return e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

// OnError returns the request the retry should send: the events not delivered yet.
func (r *eventsRequest) OnError(err error) xexporterhelper.Request {
	var u *unsentError
	if errors.As(err, &u) && len(u.unsent) < len(r.events) {
		return &eventsRequest{events: u.unsent, started: r.started}
	}
	return r
}

// queueEncoding stores requests in a persistent sending queue (file_storage). SE2 adds
// the trace header's fields to SE1, which a queue written by an older collector holds:
//
//	"SE1" uvarint(count) { route event_id payload }
//	"SE2" uvarint(count) { route event_id payload trace_id release environment }
//
// each field as uvarint(len) bytes.
type queueEncoding struct{}

var (
	encodingV1 = []byte("SE1")
	encodingV2 = []byte("SE2")
)

func (queueEncoding) Marshal(_ context.Context, req xexporterhelper.Request) ([]byte, error) {
	r, ok := req.(*eventsRequest)
	if !ok {
		return nil, fmt.Errorf("cannot encode a %T as a sentry_errors request", req)
	}
	buf := make([]byte, 0, len(encodingV2)+binary.MaxVarintLen64+r.BytesSize()+len(r.events)*(6*binary.MaxVarintLen32+80))
	buf = append(buf, encodingV2...)
	buf = binary.AppendUvarint(buf, uint64(len(r.events)))
	for _, e := range r.events {
		for _, field := range [][]byte{[]byte(e.route), []byte(e.eventID), e.payload,
			[]byte(e.trace.TraceID), []byte(e.trace.Release), []byte(e.trace.Environment)} {
			buf = binary.AppendUvarint(buf, uint64(len(field)))
			buf = append(buf, field...)
		}
	}
	return buf, nil
}

var errBadQueueItem = errors.New("sentry_errors: persistent queue item is not a sentry_errors request")

func (queueEncoding) Unmarshal(b []byte) (context.Context, xexporterhelper.Request, error) {
	var nFields int
	switch {
	case bytes.HasPrefix(b, encodingV2):
		nFields = 6
	case bytes.HasPrefix(b, encodingV1):
		nFields = 3
	default:
		return context.Background(), nil, errBadQueueItem
	}
	b = b[len(encodingV2):]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return context.Background(), nil, errBadQueueItem
	}
	b = b[n:]
	r := &eventsRequest{events: make([]encodedEvent, 0, count)}
	for i := uint64(0); i < count; i++ {
		var fields [6][]byte
		for f := 0; f < nFields; f++ {
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return context.Background(), nil, errBadQueueItem
			}
			fields[f] = b[n : n+int(l)]
			b = b[n+int(l):]
		}
		r.events = append(r.events, encodedEvent{
			route: string(fields[0]), eventID: string(fields[1]), payload: bytes.Clone(fields[2]),
			trace: traceHeader{TraceID: string(fields[3]), Release: string(fields[4]), Environment: string(fields[5])},
		})
	}
	if len(b) != 0 {
		return context.Background(), nil, errBadQueueItem
	}
	return context.Background(), r, nil
}
