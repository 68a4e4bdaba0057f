package readiness

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

var envDefault = regexp.MustCompile(`\$\{env:[A-Z_]+:-([^}]*)\}`)

// TestREADMEExample loads the configuration example of README.md, so that the example a
// user copies is one that works.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, found := strings.Cut(string(readme), "### Example\n\n```yaml\n")
	require.True(t, found, "README.md has no example block")
	example, _, found := strings.Cut(after, "```")
	require.True(t, found)
	example = envDefault.ReplaceAllString(example, "$1")

	conf, err := confmap.NewRetrievedFromYAML([]byte(example))
	require.NoError(t, err)
	m, err := conf.AsConf()
	require.NoError(t, err)
	sub, err := m.Sub("extensions::readiness")
	require.NoError(t, err)
	cfg := createDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.Equal(t, createDefaultConfig(), cfg, "the example shows the defaults")
}
