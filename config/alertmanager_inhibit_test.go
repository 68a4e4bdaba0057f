package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestAlertmanagerInhibitionsAndPages runs the real Alertmanager on alertmanager.yml (its
// secret files and PagerDuty URL pointed at a local sink) and checks what it inhibits
// and what a page says: a collector down silences its own instance's warnings, not
// another's; a disk critical only its own replica's warning; and a page of a group
// whose alerts have different summaries still has one (PagerDuty requires it); a spent
// LLM budget silences its own 80% alert only.
func TestAlertmanagerInhibitionsAndPages(t *testing.T) {
	bin := harness.RequireCommand(t, "prometheus-alertmanager", "prometheus-alertmanager")
	var mu sync.Mutex
	var pages []map[string]any
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.URL.Path, "/pagerduty") {
			var p map[string]any
			if json.Unmarshal(body, &p) == nil {
				mu.Lock()
				pages = append(pages, p)
				mu.Unlock()
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(sink.Close)

	dir := t.TempDir()
	cfg, err := os.ReadFile(alertmanagerConfig)
	require.NoError(t, err)
	slackURL, pdKey := filepath.Join(dir, "slack-webhook-url"), filepath.Join(dir, "pagerduty-routing-key")
	require.NoError(t, os.WriteFile(slackURL, []byte(sink.URL+"/slack"), 0o600))
	require.NoError(t, os.WriteFile(pdKey, []byte("0123456789abcdef0123456789abcdef"), 0o600))
	c := strings.ReplaceAll(string(cfg), "/etc/alertmanager/secrets/slack-webhook-url", slackURL)
	c = strings.ReplaceAll(c, "routing_key_file: /etc/alertmanager/secrets/pagerduty-routing-key",
		"routing_key_file: "+pdKey+"\n        url: "+sink.URL+"/pagerduty")
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(c), 0o600))

	addr := harness.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	harness.Eventually(t, 30*time.Second, func() string {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Sprintf("status %d\n%s", resp.StatusCode, logs.String())
		}
		return ""
	})

	alert := func(summary string, labels ...string) map[string]any {
		l := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		return map[string]any{"labels": l, "annotations": map[string]string{"summary": summary}}
	}
	alerts := []map[string]any{
		alert("collector a is down", "alertname", "CollectorDown", "severity", "critical", "instance", "a:8888", "job", "otelcol"),
		alert("queue full on a", "alertname", "CollectorExporterQueueFull", "severity", "warning", "instance", "a:8888"),
		alert("queue full on b", "alertname", "CollectorExporterQueueFull", "severity", "warning", "instance", "b:8888"),
		alert("disk critical on a", "alertname", "DiskSpaceCritical", "severity", "critical", "instance", "a:8889", "probe_name", "disk_space"),
		alert("disk low on a", "alertname", "DiskSpaceLow", "severity", "warning", "instance", "a:8889", "probe_name", "disk_space"),
		alert("disk low on b", "alertname", "DiskSpaceLow", "severity", "warning", "instance", "b:8889", "probe_name", "disk_space"),
		// A spent budget holds back its own 80% alert, not another budget's.
		alert("acme spent", "alertname", "LLMBudgetExceeded", "severity", "critical", "budget", "acme-daily", "period", "day"),
		alert("acme at 80%", "alertname", "LLMBudgetNearlySpent", "severity", "critical", "budget", "acme-daily", "period", "day"),
		alert("globex at 80%", "alertname", "LLMBudgetNearlySpent", "severity", "critical", "budget", "globex-daily", "period", "day"),
		// One group (same labels of group_by), two summaries: no common one.
		alert("provider openai down", "alertname", "LLMProviderDown", "severity", "critical", "provider", "openai"),
		alert("provider anthropic down", "alertname", "LLMProviderDown", "severity", "critical", "provider", "anthropic"),
	}
	body, err := json.Marshal(alerts)
	require.NoError(t, err)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	inhibited := map[string]bool{}
	harness.Eventually(t, 30*time.Second, func() string {
		resp, err := http.Get(base + "/api/v2/alerts")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		var got []struct {
			Annotations map[string]string `json:"annotations"`
			Status      struct {
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			return err.Error()
		}
		if len(got) != len(alerts) {
			return fmt.Sprintf("%d alerts", len(got))
		}
		for _, a := range got {
			inhibited[a.Annotations["summary"]] = len(a.Status.InhibitedBy) > 0
		}
		if !inhibited["queue full on a"] {
			return "inhibitions not applied yet"
		}
		return ""
	})
	assert.True(t, inhibited["queue full on a"], "collector a down silences a's warning")
	assert.False(t, inhibited["queue full on b"], "collector a down must not silence b's warning")
	assert.True(t, inhibited["disk low on a"])
	assert.False(t, inhibited["disk low on b"], "a's disk critical must not silence b's disk warning")
	assert.True(t, inhibited["acme at 80%"], "a spent budget silences its own 80% alert")
	assert.False(t, inhibited["globex at 80%"], "acme's budget spent must not silence globex's warning")

	harness.Eventually(t, 60*time.Second, func() string {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pages {
			if s, _ := p["payload"].(map[string]any)["summary"].(string); strings.HasPrefix(s, "provider ") {
				if !strings.HasSuffix(s, " down (2 alerts)") {
					return "page summary: " + s
				}
				return ""
			}
		}
		return fmt.Sprintf("no LLMProviderDown page yet among %d", len(pages))
	})
}
