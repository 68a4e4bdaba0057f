package agentmetrics

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// TestREADMEExample loads the connector's part of the README's examples.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, found := strings.Cut(string(readme), "### Example\n\n```yaml\n")
	require.True(t, found, "README.md has no example block")
	example, _, found := strings.Cut(after, "```")
	require.True(t, found)
	loadExample(t, example)

	_, after, found = strings.Cut(string(readme), "### Example: a multi-tenant agent platform\n")
	require.True(t, found, "README.md has no multi-tenant example")
	_, after, found = strings.Cut(after, "```yaml\n")
	require.True(t, found)
	example, _, found = strings.Cut(after, "```")
	require.True(t, found)
	cfg := loadExample(t, example)
	assert.Len(t, cfg.CostDimensions.Attributes, 3)
	assert.Len(t, cfg.Budgets, 4)
	require.NotNil(t, cfg.Storage)
	assert.Equal(t, "file_storage/agent_metrics", cfg.Storage.String())
}

func loadExample(t *testing.T, example string) *Config {
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
	return cfg.(*Config)
}
