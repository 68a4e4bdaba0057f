package delivery // import "github.com/procode-ai/otelcol-procode/internal/delivery"

import (
	"fmt"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// The log entries observed (collector v0.161.0): exporterhelper's retry sender logs each
// failed attempt it will retry; its queue consumer and its Send log the error of data
// they give up on (the message may carry a hint after it); memory_limiter logs when it
// starts refusing data. No metric carries a failed attempt's error or time.
const (
	msgRetrying = "Exporting failed. Will retry the request after interval."
	msgDropping = "Exporting failed. Dropping data."
	msgRejected = "Exporting failed. Rejecting data."
	msgRefusing = "Memory usage is above soft limit. Refusing data."
)

// The fields the collector puts on every component's logger (service/internal/
// componentattribute), and those of the entries above.
const (
	componentIDKey   = "otelcol.component.id"
	componentKindKey = "otelcol.component.kind"
	signalKey        = "otelcol.signal"
	droppedItemsKey  = "dropped_items"
	rejectedItemsKey = "rejected_items"
	curMemKey        = "cur_mem_mib"
)

// WrapCore returns a core that writes every entry to inner as before and tells obs about
// the entries above, whatever level inner writes at (the retry entry is at info level,
// which an operator may have turned off).
func WrapCore(inner zapcore.Core, obs *Observer) zapcore.Core {
	return &core{Core: inner, obs: obs}
}

// ObserverOf returns the Observer of a core made by WrapCore.
func ObserverOf(c zapcore.Core) (*Observer, bool) {
	oc, ok := c.(*core)
	if !ok {
		return nil, false
	}
	return oc.obs, true
}

type core struct {
	zapcore.Core
	obs *Observer
	// The component whose logger this is, from the fields it was made With.
	id, kind, signal string
}

func (c *core) With(fields []zapcore.Field) zapcore.Core {
	nc := *c
	// Read them first: an inner core may take fields out of the slice (the collector's
	// own core moves the component attributes into the instrumentation scope).
	if nc.id == "" {
		nc.readIdentity(fields)
	}
	nc.Core = c.Core.With(fields)
	return &nc
}

// Enabled is the inner core's answer, and info and above for the loggers of exporters
// and processors, whose entries above must be seen at any configured level.
func (c *core) Enabled(l zapcore.Level) bool {
	return c.Core.Enabled(l) || (c.watched() && l >= zapcore.InfoLevel)
}

// Level is the inner core's level, so that the logger reports the configured one.
func (c *core) Level() zapcore.Level { return zapcore.LevelOf(c.Core) }

func (c *core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.watched() && c.kindOf(ent.Message) != 0 {
		ce = ce.AddCore(ent, &note{c: c})
	}
	return c.Core.Check(ent, ce)
}

func (c *core) watched() bool { return c.kind == "exporter" || c.kind == "processor" }

// kindOf names the event an entry of this component reports, or 0.
func (c *core) kindOf(msg string) Kind {
	switch {
	case c.kind == "exporter" && msg == msgRetrying:
		return Retrying
	case c.kind == "exporter" && (strings.HasPrefix(msg, msgDropping) || strings.HasPrefix(msg, msgRejected)):
		return Dropped
	case c.kind == "processor" && msg == msgRefusing:
		return Refusing
	}
	return 0
}

// readIdentity finds the component attributes among fields: the collector adds them as
// one inline object (a scope field), older versions as plain strings.
func (c *core) readIdentity(fields []zapcore.Field) {
	for _, f := range fields {
		switch f.Type {
		case zapcore.StringType:
			c.setIdentity(f.Key, f.String)
		case zapcore.InlineMarshalerType:
			m, ok := f.Interface.(zapcore.ObjectMarshaler)
			if !ok || m == nil {
				continue
			}
			enc := zapcore.NewMapObjectEncoder()
			if marshal(m, enc) {
				for k, v := range enc.Fields {
					if s, isString := v.(string); isString {
						c.setIdentity(k, s)
					}
				}
			}
		}
	}
}

func (c *core) setIdentity(key, value string) {
	switch key {
	case componentIDKey:
		c.id = value
	case componentKindKey:
		c.kind = strings.ToLower(value)
	case signalKey:
		c.signal = value
	}
}

// marshal runs m, which may be any component's object, without letting it panic here.
func marshal(m zapcore.ObjectMarshaler, enc zapcore.ObjectEncoder) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return m.MarshalLogObject(enc) == nil
}

// note turns one checked entry into an event.
type note struct {
	c *core
}

func (n *note) Enabled(zapcore.Level) bool                                            { return true }
func (n *note) With([]zapcore.Field) zapcore.Core                                     { return n }
func (n *note) Check(_ zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry { return ce }
func (n *note) Sync() error                                                           { return nil }

func (n *note) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	c := n.c
	ev := Event{Kind: c.kindOf(ent.Message), Component: c.id, Signal: c.signal}
	for _, f := range fields {
		switch {
		case f.Type == zapcore.ErrorType:
			if err, ok := f.Interface.(error); ok && err != nil {
				ev.Err = safetext.Error(err)
			}
		case f.Key == droppedItemsKey || f.Key == rejectedItemsKey:
			ev.Items = f.Integer
		case f.Key == curMemKey:
			ev.Err = fmt.Sprintf("memory usage %d MiB is above the soft limit", f.Integer)
		}
	}
	if ev.Kind == Refusing && ev.Err == "" {
		ev.Err = "memory usage is above the soft limit"
	}
	c.obs.emit(ev)
	return nil
}
