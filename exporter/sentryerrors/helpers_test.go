package sentryerrors

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	sentry "github.com/getsentry/sentry-go"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"

	"go.opentelemetry.io/otel/attribute"
)

func attributeKey(k string) attribute.Key { return attribute.Key(k) }

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func mustTelemetryBuilder(t *testing.T) *metadata.TelemetryBuilder {
	t.Helper()
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tb.Shutdown)
	return tb
}

func srvClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

// sentryEvent returns ev with these parts in sentry-go's types.
func (cx *eventParts) sentryEvent(ev *sentry.Event) sentry.Event {
	e := *ev
	if cx == nil {
		return e
	}
	if !cx.noContexts() {
		e.Contexts = cx.maps()
	}
	if cx.tagSet != 0 {
		e.Tags = map[string]string{}
		for i, k := range tagKeys {
			if cx.tagSet&(1<<i) != 0 {
				e.Tags[k] = cx.tags[i]
			}
		}
	}
	for _, x := range cx.exceptions {
		e.Exception = append(e.Exception, sentry.Exception{
			Type: x.Type, Value: x.Value, Module: x.Module,
			Stacktrace: x.Stacktrace.sentry(), Mechanism: x.Mechanism.sentry(),
		})
	}
	for _, b := range cx.breadcrumbs {
		sb := &sentry.Breadcrumb{Type: b.Type, Category: b.Category, Message: b.Message, Level: b.Level, Timestamp: b.Timestamp}
		if b.hasData() {
			sb.Data = map[string]any{}
			if len(b.attrs) > 0 {
				if err := json.Unmarshal(b.attrs, &sb.Data); err != nil {
					panic(err)
				}
			}
			for _, f := range b.fields[:b.nFields] {
				switch f.kind {
				case crumbText:
					sb.Data[f.key] = f.text
				case crumbCount:
					sb.Data[f.key] = jsonNumber(f.num)
				default:
					sb.Data[f.key] = f.num
				}
			}
		}
		e.Breadcrumbs = append(e.Breadcrumbs, sb)
	}
	for _, t := range cx.threads {
		e.Threads = append(e.Threads, sentry.Thread{
			ID: t.ID, Name: t.Name, Stacktrace: t.Stacktrace.sentry(), Crashed: t.Crashed, Current: t.Current,
		})
	}
	return e
}

// sentry returns m in sentry-go's type.
func (m mechanism) sentry() *sentry.Mechanism {
	out := &sentry.Mechanism{Type: m.Type, Source: m.Source, ExceptionID: m.ExceptionID}
	if m.Unhandled {
		out.Handled = sentry.Pointer(false)
	}
	if m.HasParent {
		out.ParentID = sentry.Pointer(m.ParentID)
	}
	return out
}

// sentry returns st in sentry-go's types.
func (st *stackTrace) sentry() *sentry.Stacktrace {
	if st.empty() {
		return nil
	}
	out := &sentry.Stacktrace{FramesOmitted: st.FramesOmitted}
	for _, f := range st.Frames {
		out.Frames = append(out.Frames, sentry.Frame{
			Function: f.Function, Module: f.Module, Filename: f.Filename, AbsPath: f.AbsPath,
			ContextLine: f.ContextLine, Lineno: f.Lineno, Colno: f.Colno, InApp: f.InApp,
		})
	}
	return out
}

func encodeEvent(ev *sentry.Event, cx *eventParts) ([]byte, int, error) {
	return encodePayload(ev, cx)
}
