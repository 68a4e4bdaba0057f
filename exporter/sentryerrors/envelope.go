package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"encoding/json"
	"time"

	sentry "github.com/getsentry/sentry-go"
)

// envelopeHeader is the first line of an envelope. trace is the dynamic sampling
// context: with it Sentry ties the event to its trace for sampling, as the SDKs do.
type envelopeHeader struct {
	EventID string          `json:"event_id"`
	SentAt  time.Time       `json:"sent_at"`
	Sdk     *sentry.SdkInfo `json:"sdk,omitempty"`
	Trace   *traceHeader    `json:"trace,omitempty"`
}

// traceHeader is the part of the dynamic sampling context an error event carries: what
// the SDKs send for an event of a trace they did not sample themselves.
type traceHeader struct {
	TraceID     string `json:"trace_id"`
	PublicKey   string `json:"public_key"`
	Release     string `json:"release,omitempty"`
	Environment string `json:"environment,omitempty"`
}

type itemHeader struct {
	Type        string `json:"type"`
	Length      int    `json:"length"`
	ContentType string `json:"content_type"`
}

// encodeEnvelope wraps one event payload in an envelope: the header line (event_id,
// sent_at for Sentry's clock drift correction, sdk, the trace's sampling context when the
// event belongs to a trace), and one item of type "event" with its length and content
// type. sent_at is set at each attempt, not when the event entered the queue.
func encodeEnvelope(e encodedEvent, publicKey string, sentAt time.Time, sdk *sentry.SdkInfo) ([]byte, error) {
	hdr := envelopeHeader{EventID: e.eventID, SentAt: sentAt.UTC(), Sdk: sdk}
	if e.trace.TraceID != "" {
		t := e.trace
		t.PublicKey = publicKey
		hdr.Trace = &t
	}
	head, err := json.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	item, err := json.Marshal(itemHeader{Type: "event", Length: len(e.payload), ContentType: "application/json"})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(item)+len(e.payload)+3)
	out = append(append(out, head...), '\n')
	out = append(append(out, item...), '\n')
	return append(append(out, e.payload...), '\n'), nil
}
