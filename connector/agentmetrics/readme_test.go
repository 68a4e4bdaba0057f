package agentmetrics

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// TestREADMEExample loads the connector's part of the README's example.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, found := strings.Cut(string(readme), "### Example\n\n```yaml\n")
	require.True(t, found, "README.md has no example block")
	example, _, found := strings.Cut(after, "```")
	require.True(t, found)
	conf, err := confmap.NewRetrievedFromYAML([]byte(example))
	require.NoError(t, err)
	m, err := conf.AsConf()
	require.NoError(t, err)
	sub, err := m.Sub("connectors::agent_metrics")
	require.NoError(t, err)
	cfg := createDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.Contains(t, m.Get("service::pipelines::traces::exporters"), "agent_metrics")
}
