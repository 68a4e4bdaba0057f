package config_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

const alertmanagerConfig = "alertmanager/alertmanager.yml"

func TestAlertmanagerConfigValid(t *testing.T) {
	amtool := harness.RequireCommand(t, "amtool", "prometheus-alertmanager")
	out, err := exec.Command(amtool, "check-config", alertmanagerConfig).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "SUCCESS")
}

// TestAlertmanagerRoutes sends each severity through the routing tree with
// `amtool config routes test` and checks where it lands.
func TestAlertmanagerRoutes(t *testing.T) {
	amtool := harness.RequireCommand(t, "amtool", "prometheus-alertmanager")
	tests := []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=ServiceDown", "severity=critical", "service=procode-agent-framework"}, "pagerduty-critical,slack-warning"},
		{[]string{"alertname=DiskSpaceCritical", "severity=critical"}, "pagerduty-critical,slack-warning"},
		{[]string{"alertname=HighResponseTime", "severity=warning"}, "slack-warning"},
		{[]string{"alertname=LLMCostSpike", "severity=warning"}, "slack-warning"},
		{[]string{"alertname=HighRequestVolume", "severity=info"}, "slack-info"},
		{[]string{"alertname=NewUserRegistration", "severity=info"}, "slack-info"},
		{[]string{"alertname=SomethingUnlabelled"}, "slack-warning"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.labels, ","), func(t *testing.T) {
			args := append([]string{"config", "routes", "test", "--config.file=" + alertmanagerConfig}, tt.labels...)
			cmd := exec.Command(amtool, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			require.NoError(t, err, "%s%s", out, stderr.String())
			assert.Equal(t, tt.want, strings.TrimSpace(string(out)))
		})
	}
}

func TestAlertmanagerSecretsAreFiles(t *testing.T) {
	b, err := readFile(alertmanagerConfig)
	require.NoError(t, err)
	for _, inline := range []string{"api_url:", "routing_key:", "service_key:", "hooks.slack.com", "events.pagerduty.com"} {
		assert.NotContains(t, b, inline, "secrets must be read from files")
	}
	for _, file := range []string{"slack_api_url_file:", "routing_key_file:"} {
		assert.Contains(t, b, file)
	}
}
