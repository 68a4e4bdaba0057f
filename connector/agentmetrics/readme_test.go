package agentmetrics

import (
	"os"
	"strconv"
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

// TestREADMEDefaults: the defaults the README's Configuration table and Series table
// state are the code's.
func TestREADMEDefaults(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, conf, found := strings.Cut(string(readme), "## Configuration\n")
	require.True(t, found)
	rows := map[string]string{}
	for _, line := range strings.Split(conf, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.Trim(strings.TrimSpace(cells[2]), "`")
	}
	cfg := createDefaultConfig().(*Config)
	join := func(v []float64) string {
		s := make([]string, len(v))
		for i, f := range v {
			s[i] = strconv.FormatFloat(f, 'g', -1, 64)
		}
		return strings.Join(s, ", ")
	}
	for field, want := range map[string]string{
		"flush_interval":                cfg.FlushInterval.String(),
		"max_series":                    strconv.Itoa(cfg.MaxSeries),
		"max_label_length":              strconv.Itoa(cfg.MaxLabelLength),
		"cost_dimensions::max_values":   strconv.Itoa(cfg.CostDimensions.MaxValues),
		"agent_run_cost::enabled":       strconv.FormatBool(cfg.AgentRunCost.Enabled),
		"agent_run_cost::buckets":       join(cfg.AgentRunCost.Buckets),
		"agent_run_cost::settle":        cfg.AgentRunCost.Settle.String(),
		"agent_run_cost::max_open_runs": strconv.Itoa(cfg.AgentRunCost.MaxOpenRuns),
	} {
		got, ok := rows[field]
		if assert.True(t, ok, "README's Configuration table has no row %s", field) {
			assert.Equal(t, strings.ReplaceAll(want, ",", ""), strings.ReplaceAll(got, ",", ""), field)
		}
	}
	// The Series table's bucket lists.
	assert.Contains(t, string(readme), "buckets "+join(cfg.LLM.Buckets)+" s")
	assert.Contains(t, string(readme), "buckets "+join(cfg.Agent.Buckets)+" s")
}
