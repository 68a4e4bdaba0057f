package llmcost

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.yaml.in/yaml/v3"
)

// readmeExample returns the YAML block under "### Example" in README.md.
func readmeExample(t *testing.T) string { return readmeYAML(t, "### Example") }

// readmeYAML returns the first YAML block after heading in README.md.
func readmeYAML(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, heading)
	require.GreaterOrEqual(t, i, 0, "README.md has no section %q", heading)
	s = s[i:]
	start := strings.Index(s, "```yaml\n")
	require.GreaterOrEqual(t, start, 0)
	s = s[start+len("```yaml\n"):]
	end := strings.Index(s, "```")
	require.GreaterOrEqual(t, end, 0)
	// Blocks inside a list item are indented: take the indentation of the first line off.
	lines := strings.Split(s[:end], "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

// The URL example of "How prices stay current" is a valid configuration with the
// shape issue 15 promises operators: url, format genai_prices, reload_interval.
func TestREADMEURLExample(t *testing.T) {
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(readmeYAML(t, "## How prices stay current")), &raw))
	sub, err := confmap.NewFromStringMap(raw).Sub("processors::llm_cost")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.Len(t, cfg.PriceFiles, 1)
	assert.Equal(t, "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json", cfg.PriceFiles[0].URL)
	assert.Equal(t, "genai_prices", cfg.PriceFiles[0].Format)
	assert.Equal(t, time.Hour, cfg.PriceFiles[0].ReloadInterval)
	require.NotNil(t, cfg.Storage)
	assert.Equal(t, "file_storage/prices", cfg.Storage.String())
}

func TestREADMEExample(t *testing.T) {
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(readmeExample(t)), &raw))
	sub, err := confmap.NewFromStringMap(raw).Sub("processors::llm_cost")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Len(t, cfg.PriceFiles, 2)

	// Run it: the price files do not exist here, so the built-in and inline prices apply.
	sink := new(consumertest.TracesSink)
	p := newTracesProcessor(t, cfg, sink)
	for _, c := range []struct {
		provider, model string
		in, out         int
		want            float64
	}{
		{"acme", "acme-support-large", 1000, 100, mtok(1000, 1.5) + mtok(100, 6)},
		{"acme", "acme-support-large", 200000, 100, mtok(200000, 3) + mtok(100, 12)},
		{"", "router-small", 1000, 1000, mtok(1000, 0.5) + mtok(1000, 0.5)},
		{"azure.ai.openai", "prod-gpt4o-eastus", 1000, 100, mtok(1000, 2.5) + mtok(100, 10)},
	} {
		require.NoError(t, p.ConsumeTraces(context.Background(), oneSpan("chat", sept2025, chatAttrsFor(c.provider, c.model, c.in, c.out))))
		got := sink.AllTraces()[len(sink.AllTraces())-1]
		cost, ok := firstSpanAttrs(got).Get(attrCost)
		require.True(t, ok, "%s is not priced", c.model)
		assert.InDelta(t, c.want, cost.Double(), 1e-12, c.model)
	}
}

func chatAttrsFor(provider, model string, in, out int) map[string]any {
	a := chatAttrs(model, in, out)
	if provider == "" {
		delete(a, "gen_ai.provider.name")
	} else {
		a["gen_ai.provider.name"] = provider
	}
	return a
}
