package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestDeadOrSlowTraceBackendDoesNotStopOtherPipelines forwards traces to an OTLP
// backend that is dead (connection refused) or hung (accepts and never answers), with
// a small sending queue so that it overflows during the test. Round after round the
// other consumers of the same traces keep working: span metrics, the LLM series and
// Sentry events arrive in full, while the backend's exporter counts its failures.
func TestDeadOrSlowTraceBackendDoesNotStopOtherPipelines(t *testing.T) {
	for _, mode := range []string{"dead", "hung"} {
		t.Run(mode, func(t *testing.T) {
			var backend string
			if mode == "dead" {
				// Nothing listens there, and no port-0 listener or outgoing connection can take it.
				backend = harness.FreeAddr(t)
			} else {
				backend = harness.NewBlackHole(t).Addr()
			}
			srv := harness.NewSentryServer(t)
			exporters := append(defaultServiceList(t, "pipelines", "traces", "exporters"), "otlp/backend")
			overlay := writeFile(t, "backend.yaml", fmt.Sprintf(`
exporters:
  otlp/backend:
    endpoint: %s
    tls: {insecure: true}
    timeout: 1s
    retry_on_failure: {initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0}
    sending_queue: {queue_size: 3, num_consumers: 2}
service:
  pipelines:
    traces:
      exporters: %s
`, backend, yamlList(exporters...)))
			c := harness.Start(t, harness.Options{
				Configs: []string{harness.DefaultConfig(), overlay},
				Env:     map[string]string{"SENTRY_DSN": srv.DSN()},
			})
			tp := harness.TracerProvider(t, c, "e2e-llm")
			svc := map[string]string{"service_name": "e2e-llm"}
			var keys []string
			const rounds = 6
			for r := 1; r <= rounds; r++ {
				llmRound(t, tp.Tracer("e2e-llm")) // 12 spans, 9 LLM calls (one described by two spans)
				keys = append(keys, sendErrors(t, c, fmt.Sprintf("%s backend round %d", mode, r), 1, 0)...)
				harness.Eventually(t, 20*time.Second, func() string {
					fams, err := harness.Scrape(c.MetricsURL())
					if err != nil {
						return err.Error()
					}
					if v, _ := fams.Sum("llm_requests_total", svc); v != float64(9*r) {
						return fmt.Sprintf("round %d: llm_requests_total %v, want %d", r, v, 9*r)
					}
					if v, _ := fams.Sum("traces_span_metrics_calls_total", svc); v != float64(12*r) {
						return fmt.Sprintf("round %d: traces_span_metrics_calls_total %v, want %d", r, v, 12*r)
					}
					// Each round has two errors: the failed LLM call of llmRound and ours.
					if n := len(srv.Events()); n != 2*r {
						return fmt.Sprintf("round %d: %d Sentry events, want %d", r, n, 2*r)
					}
					return ""
				})
				time.Sleep(500 * time.Millisecond) // let the batches pile up in the backend's queue
			}
			s := tallySentry(srv.Attempts())
			for _, k := range keys {
				assert.Equal(t, 1, s.accepted[k], k)
			}
			assert.Equal(t, rounds, s.accepted["upstream timeout"], "the failed LLM call of every round")

			own := harness.MustScrape(t, c.TelemetryURL())
			backendLabels := map[string]string{"exporter": "otlp/backend"}
			sent, _ := own.Sum("otelcol_exporter_sent_spans", backendLabels)
			enqueueFailed, _ := own.Sum("otelcol_exporter_enqueue_failed_spans", backendLabels)
			queued, _ := own.Sum("otelcol_exporter_queue_size", backendLabels)
			t.Logf("otlp/backend (%s): sent %v spans, queue %v, refused by the full queue %v", mode, sent, queued, enqueueFailed)
			assert.Zero(t, sent, "nothing reached the %s backend", mode)
			assert.Greater(t, enqueueFailed, 0.0, "the backend's queue overflowed (and said so):\n%s", own.Series("otelcol_exporter_enqueue_failed_spans"))
			code, _, err := c.Get(c.ReadinessURL("/ready"))
			require.NoError(t, err)
			assert.Equal(t, 200, code, "a failing trace backend does not take the collector out of load balancing before recovery_duration")
			c.Stop(30 * time.Second)
		})
	}
}
