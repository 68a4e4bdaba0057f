package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// probeLabels are the labels every healthprobe_* series carries.
func probeLabels(name, typ, category string, critical bool) map[string]string {
	return map[string]string{
		"probe_name":     name,
		"probe_type":     typ,
		"probe_category": category,
		"probe_critical": fmt.Sprint(critical),
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

type healthJSON struct {
	Status string                    `json:"status"`
	Checks map[string]map[string]any `json:"checks"`
}

func getHealth(t *testing.T, c *harness.Collector) (int, healthJSON) {
	t.Helper()
	code, body, err := c.Get(c.ReadinessURL("/health"))
	require.NoError(t, err)
	var h healthJSON
	require.NoError(t, json.Unmarshal([]byte(body), &h), body)
	return code, h
}

// TestHealthProbeDefaultConfig: the default config probes disk and memory; both show up
// as healthprobe_* series on /metrics and as checks in /health. The interval is 1s and
// the timeout is left unset: it fits itself under the interval rather than stopping the
// collector from starting.
func TestHealthProbeDefaultConfig(t *testing.T) {
	c := harness.Start(t, harness.Options{Env: map[string]string{"HEALTH_PROBE_INTERVAL": "1s"}})

	disk := probeLabels("disk_space", "disk", "system", false)
	mem := probeLabels("memory", "memory", "system", false)
	var fams harness.Families
	harness.Eventually(t, 30*time.Second, func() string {
		var err error
		if fams, err = harness.Scrape(c.MetricsURL()); err != nil {
			return err.Error()
		}
		if _, ok := fams.Sum("healthprobe_up", disk); !ok {
			return "no disk probe yet:\n" + fams.Series("healthprobe_up")
		}
		if _, ok := fams.Sum("healthprobe_up", mem); !ok {
			return "no memory probe yet:\n" + fams.Series("healthprobe_up")
		}
		return ""
	})
	for _, probe := range []map[string]string{disk, mem} {
		up, _ := fams.Sum("healthprobe_up", probe)
		assert.Equal(t, 1.0, up, fams.Series("healthprobe_up"))
		// The state set has exactly one state at 1.
		states, _ := fams.Sum("healthprobe_status", probe)
		assert.Equal(t, 1.0, states, fams.Series("healthprobe_status"))
		for _, st := range []string{"healthy", "degraded", "unhealthy"} {
			_, ok := fams.Sum("healthprobe_status", with(probe, "probe_status", st))
			assert.True(t, ok, "state %s of %v:\n%s", st, probe, fams.Series("healthprobe_status"))
		}
		d, ok := fams.Sum("healthprobe_duration_seconds", probe)
		assert.True(t, ok, fams.Series("healthprobe_duration_seconds"))
		assert.Greater(t, d, 0.0)
	}
	free, ok := fams.Sum("healthprobe_disk_free_bytes", disk)
	assert.True(t, ok, "%v", fams.Names())
	total, _ := fams.Sum("healthprobe_disk_total_bytes", disk)
	ratio, _ := fams.Sum("healthprobe_disk_free_ratio", disk)
	assert.Greater(t, total, 0.0)
	assert.InDelta(t, free/total, ratio, 0.01)
	used, ok := fams.Sum("healthprobe_memory_used_ratio", mem)
	assert.True(t, ok, "%v", fams.Names())
	assert.Greater(t, used, 0.0)
	assert.Less(t, used, 1.0)

	_, h := getHealth(t, c)
	d := h.Checks["disk_space"]
	require.NotNil(t, d, "%v", h.Checks)
	for _, k := range []string{"status", "latency_ms", "message", "free_gb", "total_gb", "free_percent"} {
		assert.Contains(t, d, k)
	}
	m := h.Checks["memory"]
	require.NotNil(t, m, "%v", h.Checks)
	for _, k := range []string{"status", "latency_ms", "message", "used_gb", "total_gb", "used_percent"} {
		assert.Contains(t, m, k)
	}
	assert.Contains(t, m["message"], "Memory usage")
	c.Stop(30 * time.Second)
}

// TestReadyFollowsCriticalProbe: /ready is 503 while a critical probe is unhealthy and
// 200 again once it recovers; the probe series say the same.
func TestReadyFollowsCriticalProbe(t *testing.T) {
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
	}))
	t.Cleanup(llm.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(secure.Close)
	agentAddr := harness.FreeAddr(t) // the agent is down at first

	cfg := writeFile(t, "probes.yaml", fmt.Sprintf(`
extensions:
  readiness:
    endpoint: ${env:READINESS_ENDPOINT}
receivers:
  health_probe:
    collection_interval: 500ms
    timeout: 400ms
    initial_delay: 0s
    readiness: readiness
    probes:
      - name: planner_agent
        type: tcp
        category: agent
        endpoint: %s
      - name: llm_provider
        type: http
        category: llm_provider
        critical: false
        endpoint: %s/v1/models
        body_checks:
          - name: lists_models
            json_path: $.object
            equals: list
      - name: secure_agent
        type: http
        category: agent
        critical: false
        endpoint: %s/health
        tls:
          insecure_skip_verify: true
exporters:
  prometheus:
    endpoint: ${env:PROMETHEUS_ENDPOINT}
service:
  extensions: [readiness]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: ${env:TELEMETRY_HOST}
                port: ${env:TELEMETRY_PORT}
  pipelines:
    metrics:
      receivers: [health_probe]
      exporters: [prometheus]
`, agentAddr, llm.URL, secure.URL))
	c := harness.Start(t, harness.Options{Configs: []string{cfg}, NoWait: true})

	agent := probeLabels("planner_agent", "tcp", "agent", true)
	llmLabels := probeLabels("llm_provider", "http", "llm_provider", false)
	harness.Eventually(t, 30*time.Second, func() string {
		code, body, err := c.Get(c.ReadinessURL("/ready?verbose"))
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "[-]planner_agent failed:") {
			return fmt.Sprintf("want 503 with planner_agent failing, got %d %v:\n%s", code, err, body)
		}
		return ""
	})
	// Probes report as each finishes: the LLM provider's first result may come later.
	harness.Eventually(t, 30*time.Second, func() string {
		if _, h := getHealth(t, c); h.Checks["llm_provider"]["status"] != "healthy" {
			return fmt.Sprintf("llm_provider: %v", h.Checks["llm_provider"])
		}
		return ""
	})
	code, h := getHealth(t, c)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "unhealthy", h.Checks["planner_agent"]["status"])
	assert.Equal(t, "connection_refused", h.Checks["planner_agent"]["error_type"])
	assert.Equal(t, "healthy", h.Checks["llm_provider"]["status"])
	assert.EqualValues(t, 200, h.Checks["llm_provider"]["status_code"])

	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		up, ok := fams.Sum("healthprobe_up", agent)
		errs, _ := fams.Sum("healthprobe_errors_total", with(agent, "error_type", "connection_refused"))
		unhealthy, _ := fams.Sum("healthprobe_status", with(agent, "probe_status", "unhealthy"))
		llmUp, _ := fams.Sum("healthprobe_up", llmLabels)
		check, _ := fams.Sum("healthprobe_http_body_check", with(llmLabels, "http_body_check", "lists_models"))
		sc, _ := fams.Sum("healthprobe_http_status_code", llmLabels)
		_, phase := fams.Sum("healthprobe_http_phase_duration_seconds", with(llmLabels, "http_phase", "ttfb"))
		secureLabels := probeLabels("secure_agent", "http", "agent", false)
		remaining, _ := fams.Sum("healthprobe_tls_cert_remaining_seconds", secureLabels)
		_, tlsPhase := fams.Sum("healthprobe_http_phase_duration_seconds", with(secureLabels, "http_phase", "tls"))
		if !ok || up != 0 || errs < 1 || unhealthy != 1 || llmUp != 1 || check != 1 || sc != 200 || !phase || remaining <= 0 || !tlsPhase {
			return fmt.Sprintf("up %v errors %v unhealthy %v llm up %v check %v status %v ttfb %v cert %v tls %v\n%s%s",
				up, errs, unhealthy, llmUp, check, sc, phase, remaining, tlsPhase, fams.Series("healthprobe_up"), fams.Series("healthprobe_errors_total"))
		}
		return ""
	})

	// The agent comes up: /ready follows within a probe interval or two.
	l, err := net.Listen("tcp", agentAddr)
	require.NoError(t, err)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	harness.Eventually(t, 30*time.Second, func() string {
		code, body, err := c.Get(c.ReadinessURL("/ready"))
		if err != nil || code != http.StatusOK {
			return fmt.Sprintf("want 200 after the agent came up, got %d %v: %s", code, err, body)
		}
		return ""
	})
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if up, _ := fams.Sum("healthprobe_up", agent); up != 1 {
			return fams.Series("healthprobe_up")
		}
		return ""
	})

	// And down again.
	require.NoError(t, l.Close())
	harness.Eventually(t, 30*time.Second, func() string {
		code, _, err := c.Get(c.ReadinessURL("/ready"))
		if err != nil || code != http.StatusServiceUnavailable {
			return fmt.Sprintf("want 503 after the agent went away, got %d %v", code, err)
		}
		return ""
	})
	c.Stop(30 * time.Second)
}

// TestProCodeStackExample runs config/examples/procode-stack.yaml against a real
// PostgreSQL, an LLM provider test server that answers the OpenAI list-models call, and
// two agents (an A2A agent card and a /health endpoint).
func TestProCodeStackExample(t *testing.T) {
	pg := harness.StartPostgreSQL(t)
	const apiKey = "sk-e2e-test-key-0123456789"
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}`))
	}))
	t.Cleanup(llm.Close)
	research := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/agent-card.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"Research Agent","description":"Finds sources","url":"http://127.0.0.1/a2a","version":"1.0.0","capabilities":{"streaming":true},"skills":[]}`))
	}))
	t.Cleanup(research.Close)
	billing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"status":"healthy","checks":{}}`))
	}))
	t.Cleanup(billing.Close)

	c := harness.Start(t, harness.Options{
		Configs: []string{filepath.Join(harness.RepoRoot(), "config", "examples", "procode-stack.yaml")},
		Env: map[string]string{
			"HEALTH_PROBE_INTERVAL": "3s",
			"HEALTH_PROBE_TIMEOUT":  "2500ms", // above the example's degraded_latency of 2s
			"PROCODE_DB_HOST":       "127.0.0.1",
			"PROCODE_DB_PORT":       fmt.Sprint(pg.Port),
			"PROCODE_DB_NAME":       "postgres",
			"PROCODE_DB_USER":       pg.User,
			"PROCODE_DB_PASSWORD":   pg.Password,
			"PROCODE_DB_SSLMODE":    "disable",
			"OPENAI_API_KEY":        apiKey,
			"LLM_MODELS_URL":        llm.URL + "/v1/models",
			"RESEARCH_AGENT_URL":    research.URL,
			"BILLING_AGENT_URL":     billing.URL,
		},
	})

	probes := []struct{ name, typ, category string }{
		{"database", "postgresql", "database"},
		{"llm_provider", "http", "llm_provider"},
		{"research_agent", "http", "agent"},
		{"billing_agent", "http", "agent"},
		{"disk_space", "disk", "system"},
		{"memory", "memory", "system"},
	}
	harness.Eventually(t, 30*time.Second, func() string {
		code, h := getHealth(t, c)
		for _, p := range probes {
			if h.Checks[p.name]["status"] != "healthy" {
				return fmt.Sprintf("/health %d: %s is %v", code, p.name, h.Checks[p.name])
			}
		}
		return ""
	})
	_, h := getHealth(t, c)
	assert.Regexp(t, `^\d+`, h.Checks["database"]["server_version"])
	assert.Equal(t, "database", h.Checks["database"]["category"])

	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		for _, p := range probes {
			critical := p.category == "database" || p.category == "llm_provider"
			if up, _ := fams.Sum("healthprobe_up", probeLabels(p.name, p.typ, p.category, critical)); up != 1 {
				return fmt.Sprintf("%s not up:\n%s", p.name, fams.Series("healthprobe_up"))
			}
		}
		return ""
	})

	// No secret or URL query leaks into the bodies operators and scrapers see.
	for _, url := range []string{c.ReadinessURL("/health"), c.ReadinessURL("/ready?verbose"), c.MetricsURL()} {
		_, body, err := c.Get(url)
		require.NoError(t, err)
		assert.NotContains(t, body, apiKey, url)
		assert.NotContains(t, body, pg.Password, url)
	}
	c.Stop(30 * time.Second)
}

// TestMissingReadinessExtensionFailsStartup: a health_probe receiver that names a
// readiness extension the configuration lacks stops the collector at startup with a
// message that says what to do.
func TestMissingReadinessExtensionFailsStartup(t *testing.T) {
	cfg := writeFile(t, "missing.yaml", `
receivers:
  health_probe:
    readiness: readiness/probes
    probes:
      - name: memory
        type: memory
exporters:
  debug: {}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [health_probe]
      exporters: [debug]
`)
	c := harness.Start(t, harness.Options{Configs: []string{cfg}, NoWait: true})
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("the collector kept running:\n%s", c.Logs())
	}
	assert.Contains(t, c.Logs(), `readiness extension \"readiness/probes\" is not configured: add it under extensions and to service::extensions`)
}
