package pricing

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Facts only: the generated table carries no names, descriptions, comments or URLs.
func TestTableKeepsFactsOnly(t *testing.T) {
	b, err := os.ReadFile("table.json")
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	allowed := map[string]bool{
		"pricing_version": true, "source": true, "providers": true, "id": true, "provider_match": true, "model_match": true,
		"fallbacks": true, "models": true, "match": true, "prices": true, "start_date": true, "start_time": true, "end_time": true,
		"equals": true, "starts_with": true, "ends_with": true, "contains": true, "regex": true, "or": true, "and": true,
		"base": true, "tiers": true, "start": true, "price": true,
	}
	var walk func(any, string)
	walk = func(v any, parent string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if parent != "prices" || !strings.HasSuffix(k, "_mtok") && k != "requests_kcount" {
					assert.True(t, allowed[k] || parent == "prices", "unexpected key %q", k)
				}
				walk(c, k)
			}
		case []any:
			for _, c := range x {
				walk(c, parent)
			}
		}
	}
	walk(v, "")
	for _, word := range []string{"description", "name\"", "pricing_urls", "price_comments", "http"} {
		assert.NotContains(t, string(b), word)
	}
}

func TestGenerateKeepsTiersDatesAndTimes(t *testing.T) {
	src := `[{"id":"p","name":"P","description":"prose","pricing_urls":["https://x"],"provider_match":{"equals":"p"},
	  "fallback_model_providers":["q"],
	  "models":[{"id":"m","name":"M","description":"more prose","match":{"starts_with":"m-"},
	    "prices":[{"prices":{"input_mtok":{"base":1,"tiers":[{"start":1000,"price":2}]},"input_audio_mtok":9}},
	              {"constraint":{"start_date":"2026-01-01"},"prices":{"input_mtok":3,"cache_write_5m_mtok":4}},
	              {"constraint":{"start_time":"00:30:00Z","end_time":"16:30:00Z","type":"time_of_date"},"prices":{"output_mtok":5}}]}]},
	  {"id":"q","models":[]}]`
	out, err := GenerateTable([]byte(src), "2026-08-21", "test")
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, `{"fallbacks":["q"],"id":"p","provider_match":{"equals":"p"},"models":[`)
	assert.Contains(t, s, `{"prices":{"input_mtok":{"base":1,"tiers":[{"start":1000,"price":2}]}}}`)
	assert.Contains(t, s, `{"prices":{"cache_write_mtok":4,"input_mtok":3},"start_date":"2026-01-01"}`)
	assert.Contains(t, s, `{"end_time":"16:30:00Z","prices":{"output_mtok":5},"start_time":"00:30:00Z"}`)
	assert.NotContains(t, s, "prose")
	assert.NotContains(t, s, "input_audio_mtok")

	tb, err := ParseTable(out)
	require.NoError(t, err)
	assert.Equal(t, []string{"q"}, tb.Fallbacks("p"))
	assert.Nil(t, tb.Fallbacks("q"))
	assert.Nil(t, tb.Fallbacks("unknown"))
}

// The v3 file wraps the same provider list in an object with its units.
func TestGenAIPricesV3Wrapper(t *testing.T) {
	v2 := `[{"id":"p","models":[{"id":"m","match":{"equals":"m"},"prices":{"input_mtok":1}}]}]`
	v3 := `{"units":{"input_tokens":{"per":1000000}},"providers":` + v2 + `}`
	a, err := GenerateTable([]byte(v2), "d", "s")
	require.NoError(t, err)
	b, err := GenerateTable([]byte(v3), "d", "s")
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
}

func TestGenAIPricesRejectsWhatItCannotRead(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", "  ", "the file is empty"},
		{"html", "<!DOCTYPE html><html>", "not JSON"},
		{"truncated", `[{"id":"p","models":[{"id":"m","prices":{"input_m`, "genai_prices format: unexpected end of JSON input"},
		{"no providers", `[]`, "no providers"},
		{"another format", `{"prices":[{"id":"x","input_mtok":1}]}`, `an object without a "providers" list`},
		{"litellm", `{"gpt-4o":{"input_cost_per_token":2.5e-6}}`, `an object without a "providers" list`},
		{"unknown constraint", `[{"id":"p","models":[{"id":"m","prices":[{"prices":{"input_mtok":1}},{"constraint":{"day_of_week":"sat"},"prices":{"input_mtok":0}}]}]}]`,
			"a price constraint of unknown kind (fields day_of_week)"},
		{"constraint type disagrees", `[{"id":"p","models":[{"id":"m","prices":[{"constraint":{"start_date":"2026-01-01","type":"time_of_date"},"prices":{"input_mtok":0}}]}]}]`,
			`constraint type "time_of_date" does not fit a start_date`},
		{"no prices", `[{"id":"p","models":[{"id":"m"}]}]`, `model "m": no prices`},
		{"provider without id", `[{"models":[]}]`, "provider 0 has no id"},
		{"no models", `[{"id":"p","models":[]}]`, "no models"},
	} {
		_, err := ParseGenAIPrices([]byte(c.in), "v")
		assert.ErrorContains(t, err, c.want, c.name)
	}
	// Prices that fail validation are errors of the file, as in every format.
	for _, c := range []struct{ name, in, want string }{
		{"negative", `[{"id":"p","models":[{"id":"m","prices":{"input_mtok":-1}}]}]`, "price -1 must be a finite number >= 0"},
		{"too high", `[{"id":"p","models":[{"id":"m","prices":{"output_mtok":2e6}}]}]`, "above the most a token may cost"},
		{"bad date", `[{"id":"p","models":[{"id":"m","prices":[{"constraint":{"start_date":"someday"},"prices":{"input_mtok":1}}]}]}]`, `start_date "someday" is not YYYY-MM-DD`},
		{"bad rule", `[{"id":"p","models":[{"id":"m","match":{"regex":"("},"prices":{"input_mtok":1}}]}]`, "regex"},
		{"unknown fallback", `[{"id":"p","fallback_model_providers":["nobody"],"models":[{"id":"m","prices":{}}]}]`, `falls back to unknown provider "nobody"`},
		{"duplicate provider", `[{"id":"p","models":[]},{"id":"p","models":[]}]`, `provider "p" listed twice`},
	} {
		_, err := ParseGenAIPrices([]byte(c.in), "v")
		if assert.Error(t, err, c.name) {
			assert.Contains(t, err.Error(), c.want, c.name)
			assert.True(t, strings.HasPrefix(err.Error(), "genai_prices format: "), err.Error())
		}
	}
}

// repoRoot finds the repository root (the directory with go.mod) above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the package")
		dir = parent
	}
}

// genai-prices writes some rules with a leading negative lookahead, which Go's regexp
// does not have: ^(?!X)rest matches what rest matches unless X does.
func TestRegexLeadingNegativeLookahead(t *testing.T) {
	for _, c := range []struct {
		regex string
		yes   []string
		no    []string
	}{
		{`^(?!.*-[tT][tT][sS](?:$|-))`, []string{"gemini-2.5-pro", "gemini-2.5-pro-preview-05-06", "tts"}, []string{"gemini-2.5-pro-tts", "gemini-2.5-flash-preview-tts-0520"}},
		{`^(?![^/]+/)(?:labs-)?(?:(?:mi|code|dev|magi|mini)stral|mixtral)`, []string{"mistral-large", "labs-devstral-small", "mixtral-8x7b"}, []string{"mistralai/mistral-large", "acme/codestral", "llama-3"}},
		{`^(?![(\])x])a`, []string{"ab"}, []string{"(a", "]a", ")a", "xa"}},
		{`^(?!\)).`, []string{"a"}, []string{")"}},
	} {
		r := Rule{Regex: c.regex}
		require.NoError(t, r.Compile(), c.regex)
		for _, n := range c.yes {
			assert.True(t, r.Match(n), "%s should match %s", c.regex, n)
		}
		for _, n := range c.no {
			assert.False(t, r.Match(n), "%s should not match %s", c.regex, n)
		}
	}
	for _, bad := range []string{`^(?!abc`, `a(?!b)`, `^(?=a)`, `^(?!a)(?!b)`, `^(?!x)a|b`} {
		r := Rule{Regex: bad}
		assert.Error(t, r.Compile(), bad)
	}
}

// Every match rule of the committed data compiles: a rule Go cannot read would make the
// embedded table (or a URL source carrying the same data) fail to load.
func TestEveryRuleOfTheDataCompiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "third_party", "genai-prices", "data.json"))
	require.NoError(t, err)
	_, err = ParseGenAIPrices(b, "test")
	require.NoError(t, err)
}
