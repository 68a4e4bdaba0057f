package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestMakeDemo runs scripts/demo.sh, what `make demo` runs, on free ports and checks
// what the README promises a newcomer sees: LLM cost, tokens, agent and probe series
// on /metrics, and the checks on /health.
func TestMakeDemo(t *testing.T) {
	bin := harness.Binary(t)
	ports := map[string]int{}
	for _, name := range []string{"grpc", "http", "prom", "telemetry", "readiness"} {
		ports[name] = harness.FreePort(t)
	}
	cmd := exec.Command("bash", filepath.Join(harness.RepoRoot(), "scripts", "demo.sh"), bin)
	cmd.Dir = harness.RepoRoot()
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("OTLP_GRPC_ENDPOINT=127.0.0.1:%d", ports["grpc"]),
		fmt.Sprintf("OTLP_HTTP_ENDPOINT=127.0.0.1:%d", ports["http"]),
		fmt.Sprintf("PROMETHEUS_ENDPOINT=127.0.0.1:%d", ports["prom"]),
		fmt.Sprintf("TELEMETRY_PORT=%d", ports["telemetry"]),
		fmt.Sprintf("READINESS_ENDPOINT=127.0.0.1:%d", ports["readiness"]),
		// Quicker flushes than the default 15s, so the test need not wait a minute.
		"AGENT_METRICS_FLUSH_INTERVAL=1s", "SPANMETRICS_FLUSH_INTERVAL=1s",
		"DEMO_DURATION=2m",
	)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		// Ctrl-C in a terminal: the script's trap stops the collector.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports["prom"])
	harness.Eventually(t, 90*time.Second, func() string {
		select {
		case err := <-done:
			done <- err
			return fmt.Sprintf("demo.sh exited (%v):\n%s", err, out.String())
		default:
		}
		fams, err := harness.Scrape(metrics)
		if err != nil {
			return err.Error()
		}
		for _, name := range []string{"llm_cost_usd_total", "llm_tokens_total", "llm_requests_total", "agent_invocations_total", "healthprobe_up"} {
			if v, ok := fams.Sum(name, nil); !ok || v <= 0 {
				return name + " not on /metrics yet"
			}
		}
		return ""
	})
	code, body, err := harness.Get(fmt.Sprintf("http://127.0.0.1:%d/health", ports["readiness"]))
	if err != nil || code != 200 || !strings.Contains(body, `"disk_space"`) {
		t.Fatalf("/health: %d %v %s", code, err, body)
	}
	if !strings.Contains(out.String(), "Ctrl-C stops both") {
		t.Errorf("demo.sh did not print its instructions:\n%s", out.String())
	}
}
