package healthprobe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/procode-ai/otelcol-procode/extension/readiness"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestWithReadinessExtension runs the receiver against the real readiness extension:
// every probe shows up in /health with its ProCode fields, and /ready follows the
// critical probe.
func TestWithReadinessExtension(t *testing.T) {
	port := harness.FreePort(t)
	extFactory := readiness.NewFactory()
	extCfg := extFactory.CreateDefaultConfig()
	sub := map[string]any{"endpoint": fmt.Sprintf("127.0.0.1:%d", port), "warmup_timeout": "1m"}
	require.NoError(t, unmarshalInto(sub, extCfg))
	extID := component.MustNewID("readiness")
	ext, err := extFactory.Create(t.Context(), extensiontest.NewNopSettings(extFactory.Type()), extCfg)
	require.NoError(t, err)
	host := extensionHost{extensions: map[component.ID]component.Component{extID: ext}}
	require.NoError(t, ext.Start(t.Context(), host))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	require.NoError(t, ext.(extensioncapabilities.PipelineWatcher).Ready())

	// The agent's port is closed at first.
	agentAddr := harness.FreeAddr(t)
	agent := defaultProbeConfig()
	agent.Name, agent.Type, agent.Category = "planner_agent", typeTCP, "agent"
	agent.ClientConfig.Endpoint = agentAddr
	disk := defaultProbeConfig()
	disk.Name, disk.Type, disk.Critical = "disk_space", typeDisk, false
	disk.DegradedFreePercent, disk.UnhealthyFreePercent = 0, 0
	mem := defaultProbeConfig()
	mem.Name, mem.Type, mem.Critical = "memory", typeMemory, false
	mem.DegradedUsedPercent, mem.UnhealthyUsedPercent = 100, 100

	cfg := testConfig(agent, disk, mem)
	cfg.Readiness = extID
	cfg.ControllerConfig.CollectionInterval = 200 * time.Millisecond
	cfg.ControllerConfig.Timeout = 150 * time.Millisecond
	cfg.ControllerConfig.InitialDelay = 0
	rcv, err := NewFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), host))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var body struct {
		Status string                    `json:"status"`
		Checks map[string]map[string]any `json:"checks"`
	}
	// Probes report as each finishes: wait until all three have a first result.
	require.Eventually(t, func() bool {
		code, raw := get(t, base+"/health")
		require.NoError(t, json.Unmarshal([]byte(raw), &body), raw)
		c, ok := body.Checks["planner_agent"]
		for _, name := range []string{"disk_space", "memory"} {
			if p, ok := body.Checks[name]; !ok || p["message"] == "waiting for the first result" {
				return false
			}
		}
		return ok && c["status"] == "unhealthy" && code == http.StatusServiceUnavailable
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "unhealthy", body.Status)
	a := body.Checks["planner_agent"]
	assert.Equal(t, "connection_refused", a["error_type"])
	assert.Equal(t, "agent", a["category"])
	assert.Equal(t, true, a["critical"])
	assert.Contains(t, a["message"], "connection refused")
	d := body.Checks["disk_space"]
	assert.Equal(t, "healthy", d["status"])
	for _, k := range []string{"latency_ms", "message", "free_gb", "total_gb", "free_percent"} {
		assert.Contains(t, d, k)
	}
	m := body.Checks["memory"]
	for _, k := range []string{"latency_ms", "message", "used_gb", "total_gb", "used_percent"} {
		assert.Contains(t, m, k)
	}
	code, _ := get(t, base+"/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code, "a critical probe is unhealthy")

	// The agent comes up: readiness follows.
	l, err := net.Listen("tcp", agentAddr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	require.Eventually(t, func() bool {
		code, _ := get(t, base+"/ready")
		return code == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	code, raw := get(t, base+"/health")
	assert.Equal(t, http.StatusOK, code, raw)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec,noctx // test URL on loopback
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
