package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestPrometheusRaisesLLMCostSpike runs a real Prometheus (the Debian package) with
// config/prometheus/alerts.yaml, unchanged, scraping the running collector's two metric
// endpoints every second and evaluating every second. Every rule must evaluate without
// error against the real series. LLM traffic that costs a few cents leaves LLMCostSpike
// silent; a call that costs $12 makes it pending (its `for` is 5 minutes), with the hour's
// spend as its value.
func TestPrometheusRaisesLLMCostSpike(t *testing.T) {
	promBin := harness.RequireCommand(t, "prometheus", "prometheus")
	c := harness.Start(t, harness.Options{})
	prom := startPrometheus(t, promBin, c)

	// Every rule of alerts.yaml is loaded, and evaluates without error on this data.
	src, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "prometheus", "alerts.yaml"))
	require.NoError(t, err)
	want := len(regexp.MustCompile(`(?m)^\s+- alert: `).FindAll(src, -1))
	harness.Eventually(t, 30*time.Second, func() string {
		var rules struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Type      string `json:"type"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		}
		if err := prom.api("/api/v1/rules", nil, &rules); err != nil {
			return err.Error()
		}
		n := 0
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if r.Type != "alerting" || r.Health != "ok" {
					return fmt.Sprintf("rule %s/%s: type %s health %q %s", g.Name, r.Name, r.Type, r.Health, r.LastError)
				}
				n++
			}
		}
		if n != want {
			return fmt.Sprintf("%d alerting rules loaded, want %d (the alerts of alerts.yaml)", n, want)
		}
		return ""
	})

	tp := harness.TracerProvider(t, c, "procode-agent-framework")
	tracer := tp.Tracer("prometheus-e2e")
	chat := func(input, output int) {
		_, span := tracer.Start(context.Background(), "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
			attribute.String("gen_ai.request.model", "gpt-4o"), attribute.String("gen_ai.agent.name", "planner"),
			attribute.Int("gen_ai.usage.input_tokens", input), attribute.Int("gen_ai.usage.output_tokens", output)))
		span.End()
		require.NoError(t, tp.ForceFlush(context.Background()))
	}

	// A few cents first: Prometheus sees the counter start low.
	for i := 0; i < 3; i++ {
		chat(2000, 500)
	}
	const cheap = 3 * (2000*2.50 + 500*10.00) / perMillion
	harness.Eventually(t, 60*time.Second, func() string {
		v, err := prom.queryScalar(`sum(llm_cost_usd_total)`)
		if err != nil {
			return err.Error()
		}
		if !approx(v, cheap) {
			return fmt.Sprintf("Prometheus has llm_cost_usd_total %v, want %v", v, cheap)
		}
		return ""
	})
	// Several evaluations later it is still silent.
	time.Sleep(3 * time.Second)
	alerts := prom.alerts(t)
	_, active := alerts["LLMCostSpike"]
	require.False(t, active, "LLMCostSpike active at $%.4f: %v", cheap, alerts)

	// One call with 1.2M output tokens of gpt-4o: $12.0025.
	chat(1000, 1_200_000)
	spike := (1000*2.50 + 1_200_000*10.00) / perMillion
	var got promAlert
	harness.Eventually(t, 60*time.Second, func() string {
		a, ok := prom.alerts(t)["LLMCostSpike"]
		if !ok {
			return fmt.Sprintf("LLMCostSpike not active yet; alerts: %v", prom.alerts(t))
		}
		got = a
		return ""
	})
	assert.Contains(t, []string{"pending", "firing"}, got.State)
	assert.Equal(t, "warning", got.Labels["severity"])
	value, err := strconv.ParseFloat(got.Value, 64)
	require.NoError(t, err)
	// increase() extrapolates a little past the samples it has: at least the spend.
	assert.GreaterOrEqual(t, value, spike, "the hour's spend")
	assert.Less(t, value, 2*(spike+cheap))
	assert.Equal(t, "https://github.com/procode-ai/otelcol-procode/blob/main/docs/runbooks/LLMCostSpike.md", got.Annotations["runbook_url"])
	t.Logf("LLMCostSpike %s with value %s: %s", got.State, got.Value, got.Annotations["description"])

	// The collector itself is healthy: none of its alerts is active.
	for name := range prom.alerts(t) {
		assert.NotContains(t, []string{"CollectorDown", "CollectorExporterSendFailures", "CollectorExporterEnqueueFailures",
			"CollectorReceiverRefusingData", "CollectorMemoryLimiterRefusing"}, name)
	}
	c.Stop(30 * time.Second)
}

func approx(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

type prometheus struct {
	base string
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	Value       string            `json:"value"`
}

// startPrometheus runs prometheus on a free loopback port with a temporary data
// directory, a copy of alerts.yaml and a configuration scraping c every second.
func startPrometheus(t *testing.T, bin string, c *harness.Collector) *prometheus {
	t.Helper()
	dir := t.TempDir()
	rules, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "prometheus", "alerts.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alerts.yaml"), rules, 0o600))
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - alerts.yaml
scrape_configs:
  - job_name: otelcol-procode
    static_configs:
      - targets: ['127.0.0.1:%d']
  - job_name: otelcol-procode-telemetry
    static_configs:
      - targets: ['127.0.0.1:%d']
`, c.Ports.Prometheus, c.Ports.Telemetry)
	confPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o600))

	port := harness.FreePort(t)
	cmd := exec.Command(bin, "--config.file="+confPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--log.level=warn")
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	p := &prometheus{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	harness.Eventually(t, 30*time.Second, func() string {
		select {
		case <-done:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		code, body, err := harness.Get(p.base + "/-/ready")
		if err != nil || code != http.StatusOK {
			return fmt.Sprintf("prometheus not ready: %d %v %s", code, err, body)
		}
		return ""
	})
	return p
}

// api GETs path with query parameters and decodes the response's data into v.
func (p *prometheus) api(path string, params url.Values, v any) error {
	u := p.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	code, body, err := harness.Get(u)
	if err != nil {
		return err
	}
	var resp struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return fmt.Errorf("%s: %d %s", path, code, body)
	}
	if resp.Status != "success" {
		return fmt.Errorf("%s: %s", path, resp.Error)
	}
	return json.Unmarshal(resp.Data, v)
}

func (p *prometheus) queryScalar(q string) (float64, error) {
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return 0, err
	}
	if len(data.Result) != 1 {
		return 0, fmt.Errorf("%s: %d results", q, len(data.Result))
	}
	s, _ := data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// alerts returns the active (pending or firing) alerts by name.
func (p *prometheus) alerts(t *testing.T) map[string]promAlert {
	t.Helper()
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	require.NoError(t, p.api("/api/v1/alerts", nil, &data))
	out := map[string]promAlert{}
	for _, a := range data.Alerts {
		out[a.Labels["alertname"]] = a
	}
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
