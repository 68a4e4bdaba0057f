package logscrub // import "github.com/procode-ai/otelcol-procode/internal/logscrub"

import (
	"fmt"

	"go.uber.org/zap/zapcore"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// Omitted replaces a field that holds telemetry content.
const Omitted = "[omitted: telemetry content is not logged]"

// contentKey is the key under which upstream OTTL logs the telemetry it evaluates (a
// whole span, log record or data point), as a field of its own or inlined by an object.
const contentKey = "TransformContext"

// Wrap returns a core that scrubs each entry's message and fields before inner sees
// them: telemetry content is replaced by Omitted, and every text (message, strings,
// errors, stringers) loses URL credentials and query strings, bearer tokens and
// key=value secrets (safetext.Redact).
func Wrap(inner zapcore.Core) zapcore.Core { return &core{inner: inner} }

type core struct {
	inner zapcore.Core
}

func (c *core) Enabled(l zapcore.Level) bool { return c.inner.Enabled(l) }

func (c *core) With(fields []zapcore.Field) zapcore.Core {
	return &core{inner: c.inner.With(scrub(fields))}
}

// Check lets the inner core decide (level, sampling) and routes the write through the
// scrubbing: the entry the inner core accepted is written with scrubbed fields.
func (c *core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	ent.Message = safetext.Redact(ent.Message)
	accepted := c.inner.Check(ent, nil)
	if accepted == nil {
		return ce
	}
	return ce.AddCore(ent, &writer{accepted: accepted, sync: c.inner})
}

func (c *core) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Message = safetext.Redact(ent.Message)
	return c.inner.Write(ent, scrub(fields))
}

func (c *core) Sync() error { return c.inner.Sync() }

// writer writes one checked entry of the inner core.
type writer struct {
	accepted *zapcore.CheckedEntry
	sync     zapcore.Core
}

func (w *writer) Enabled(zapcore.Level) bool                                            { return true }
func (w *writer) With([]zapcore.Field) zapcore.Core                                     { return w }
func (w *writer) Sync() error                                                           { return w.sync.Sync() }
func (w *writer) Check(_ zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry { return ce }

func (w *writer) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	// The logger adds the caller and the stack to the entry after Check: take them
	// over. Write hands the inner entry back to its pool, so it is written once.
	ent.Message = safetext.Redact(ent.Message)
	w.accepted.Entry = ent
	w.accepted.Write(scrub(fields)...)
	return nil
}

// scrub returns fields with telemetry content omitted and texts redacted; it copies
// only when something changes.
func scrub(fields []zapcore.Field) []zapcore.Field {
	out := fields
	copied := false
	set := func(i int, f zapcore.Field) {
		if !copied {
			out = append([]zapcore.Field(nil), fields...)
			copied = true
		}
		out[i] = f
	}
	for i, f := range fields {
		switch {
		case f.Key == contentKey:
			set(i, zapcore.Field{Key: contentKey, Type: zapcore.StringType, String: Omitted})
		case f.Type == zapcore.InlineMarshalerType || f.Type == zapcore.ObjectMarshalerType:
			if holdsContent(f) {
				set(i, zapcore.Field{Key: contentKey, Type: zapcore.StringType, String: Omitted})
			}
		case f.Type == zapcore.StringType:
			if r := safetext.Redact(f.String); r != f.String {
				set(i, zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: r})
			}
		case f.Type == zapcore.ErrorType:
			if err, ok := f.Interface.(error); ok && err != nil {
				// zap writes an error as its text (and its verbose form, when it
				// has one, under <key>Verbose): keep the text, redacted.
				set(i, zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: safetext.Redact(err.Error())})
			}
		case f.Type == zapcore.StringerType:
			if s, ok := f.Interface.(fmt.Stringer); ok && s != nil {
				set(i, zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: safetext.Redact(stringOf(s))})
			}
		}
	}
	return out
}

// holdsContent reports whether an object field writes telemetry content. OTTL logs it
// with zap.Inline of an unexported type, so the keys it writes are what tells.
func holdsContent(f zapcore.Field) bool {
	m, ok := f.Interface.(zapcore.ObjectMarshaler)
	if !ok || m == nil {
		return false
	}
	enc := zapcore.NewMapObjectEncoder()
	if err := m.MarshalLogObject(enc); err != nil {
		return false
	}
	_, found := enc.Fields[contentKey]
	return found
}

// stringOf calls String, which may panic on a nil pointer inside the interface, as zap
// itself guards against.
func stringOf(s fmt.Stringer) (out string) {
	defer func() {
		if recover() != nil {
			out = "<nil>"
		}
	}()
	return s.String()
}
