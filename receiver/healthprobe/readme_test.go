package healthprobe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// readmeExamples returns the README's YAML blocks that configure the receiver.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var out []string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if regexp.MustCompile(`^health_probe:\n`).MatchString(m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestREADMEExamples runs every example of the README: it resolves the ${env:...}
// references the way the collector does, with the variables pointing at local servers
// that speak the real protocols, runs one round and expects every probe healthy.
func TestREADMEExamples(t *testing.T) {
	const apiKey = "sk-readme-0123456789abcdef"
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}`))
	}))
	t.Cleanup(llm.Close)
	agents := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/agent-card.json":
			_, _ = w.Write([]byte(`{"name":"Research Agent","version":"1.0.0","skills":[]}`))
		case "/health":
			_, _ = w.Write([]byte(`{"status":"healthy"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(agents.Close)
	cache, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	go func() {
		for {
			c, err := cache.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	pg := harness.StartPostgreSQL(t)

	env := map[string]string{
		"LLM_MODELS_URL":     llm.URL + "/v1/models",
		"OPENAI_API_KEY":     apiKey,
		"RESEARCH_AGENT_URL": agents.URL,
		"BILLING_AGENT_URL":  agents.URL,
		"CACHE_ADDR":         cache.Addr().String(),
		"PGHOST":             "127.0.0.1",
		"PGPORT":             strconv.Itoa(pg.Port),
		"PGDATABASE":         "postgres",
		"PGUSER":             pg.User,
		"PGPASSWORD":         pg.Password,
		"PGSSLMODE":          "disable",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}

	examples := readmeExamples(t)
	require.Len(t, examples, 5, "one example per probe type (http twice, tcp, postgresql, disk and memory)")
	seenTypes := map[string]bool{}
	for i, yaml := range examples {
		cfg := resolveExample(t, yaml)
		require.NoError(t, cfg.Validate(), "example %d", i)
		s := newTestScraper(t, cfg)
		rep := &recordingReporter{}
		host := extensionHost{extensions: map[component.ID]component.Component{component.MustNewID("readiness"): rep}}
		require.NoError(t, s.start(t.Context(), host), "example %d", i)
		_, err := s.scrape(t.Context())
		require.NoError(t, err)
		for _, r := range s.runners {
			seenTypes[r.cfg.Type] = true
			assert.True(t, r.last.outcome.ok, "example %d probe %s: %s", i, r.cfg.Name, r.last.message)
			assert.NotEqual(t, health.StatusUnhealthy, r.last.status, "example %d probe %s", i, r.cfg.Name)
		}
		if cfg.Readiness != (component.ID{}) {
			assert.Len(t, rep.snapshot(), len(s.runners), "example %d reports every probe", i)
		}
		require.NoError(t, s.shutdown(context.Background()))
	}
	for _, typ := range probeTypes {
		assert.True(t, seenTypes[typ], "the README has no example of %s", typ)
	}
}

func resolveExample(t *testing.T, yaml string) *Config {
	t.Helper()
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"yaml:" + yaml},
		ProviderFactories: []confmap.ProviderFactory{envprovider.NewFactory(), yamlprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	require.NoError(t, err)
	conf, err := resolver.Resolve(t.Context())
	require.NoError(t, err)
	sub, err := conf.Sub("health_probe")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}
