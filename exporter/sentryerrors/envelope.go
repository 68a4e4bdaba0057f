package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"fmt"
	"time"

	sentry "github.com/getsentry/sentry-go"
)

// sentry-go's envelope types live in its internal protocol package: they cannot be
// named here, but the sentry.Event methods that use them can, and type inference gives
// us values of those types. So the envelope is built and serialised by sentry-go's own
// code (Envelope.Serialize), not by a copy of the format.

func newEnvelopeParts[H, E any](func(*sentry.Event, *H) (*E, error)) (*H, *E) { return new(H), new(E) }

func newItem[I any](func(*sentry.Event) (*I, error)) *I { return new(I) }

func alloc[T any](p **T) { *p = new(T) }

// maxEventBytes is Sentry's size limit for an event item (1 MB): Relay rejects a larger
// event whole. An event that encodes larger is trimmed, step by step, until it fits.
const maxEventBytes = 1_000_000

// encodePayload returns the event JSON payload of ev with contexts cx (see
// appendEventJSON), and how many trimming steps (eventParts.trim) it took to fit
// maxEventBytes.
func encodePayload(ev *sentry.Event, cx *eventParts) ([]byte, int, error) {
	buf, err := appendEventJSON(make([]byte, 0, 8<<10), ev, cx) // most events fit
	steps := 0
	for err == nil && len(buf) > maxEventBytes && cx.trim(steps+1) {
		steps++
		buf, err = appendEventJSON(buf[:0], ev, cx)
	}
	if err == nil && len(buf) > maxEventBytes {
		err = fmt.Errorf("the event is %d bytes after trimming, over Sentry's limit of %d", len(buf), maxEventBytes)
	}
	return buf, steps, err
}

// encodeEnvelope wraps one event payload in an envelope: a header line (event_id,
// sent_at for Sentry's clock drift correction, sdk) and one item of type "event" with
// its length. sent_at is set at each attempt, not when the event entered the queue.
func encodeEnvelope(eventID string, payload []byte, sentAt time.Time, sdk *sentry.SdkInfo) ([]byte, error) {
	hdr, env := newEnvelopeParts((*sentry.Event).ToEnvelope)
	hdr.EventID = eventID
	hdr.SentAt = sentAt.UTC()
	hdr.Sdk = sdk
	item := newItem((*sentry.Event).ToEnvelopeItem)
	alloc(&item.Header)
	item.Header.Type = "event"
	n := len(payload)
	item.Header.Length = &n
	item.Payload = payload
	env.Header = hdr
	env.AddItem(item)
	return env.Serialize()
}
