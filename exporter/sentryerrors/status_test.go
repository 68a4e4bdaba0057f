package sentryerrors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/metadata"
)

// statusHost records the status events the exporter reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) GetExtensions() map[component.ID]component.Component { return nil }

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) statuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, len(h.events))
	for i, ev := range h.events {
		out[i] = ev.Status().String()
		if ev.Err() != nil {
			out[i] += ": " + ev.Err().Error()
		}
	}
	return out
}

func errorSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "billing-api")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("POST /charge")
	span.SetTraceID([16]byte{1})
	span.SetSpanID([8]byte{2})
	span.Status().SetCode(ptrace.StatusCodeError)
	span.Status().SetMessage("card declined")
	ev := span.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr("exception.type", "CardError")
	ev.Attributes().PutStr("exception.message", "card declined")
	return td
}

// The exporter reports its own status: a Sentry that answers 503 is a recoverable error
// (reported once however often the retry fails), a delivered event makes it OK again,
// and a rejected event (4xx) leaves the status alone.
func TestReportsComponentStatus(t *testing.T) {
	var answer atomic.Int32
	answer.Store(http.StatusServiceUnavailable)
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(int(answer.Load()))
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)

	cfg := createDefaultConfig().(*Config)
	cfg.DSN = configopaque.String("http://0123456789abcdef0123456789abcdef@" + strings.TrimPrefix(srv.URL, "http://") + "/42")
	cfg.RetryConfig.InitialInterval, cfg.RetryConfig.MaxInterval, cfg.RetryConfig.RandomizationFactor = 10*time.Millisecond, 20*time.Millisecond, 0
	require.NoError(t, cfg.Validate())
	exp, err := NewFactory().CreateTraces(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	host := &statusHost{}
	require.NoError(t, exp.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })

	require.NoError(t, exp.ConsumeTraces(context.Background(), errorSpan()))
	require.Eventually(t, func() bool { return posts.Load() >= 3 }, 10*time.Second, 5*time.Millisecond)
	statuses := host.statuses()
	require.Len(t, statuses, 1, "one report for repeated failures with the same error")
	assert.Equal(t, "StatusRecoverableError: sentry answered 503 Service Unavailable", statuses[0])
	assert.NotContains(t, statuses[0], "0123456789abcdef", "the DSN's key is never in the status")

	answer.Store(http.StatusOK)
	require.Eventually(t, func() bool { return len(host.statuses()) == 2 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, "StatusOK", host.statuses()[1])

	answer.Store(http.StatusBadRequest)
	sent := posts.Load()
	require.NoError(t, exp.ConsumeTraces(context.Background(), errorSpan()))
	require.Eventually(t, func() bool { return posts.Load() > sent }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, host.statuses(), 2, "a rejected event says nothing about reaching Sentry")
}
