package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The committed table is what the generator makes from the committed data snapshot:
// a changed snapshot without `go generate` fails here.
func TestCommittedTableIsFresh(t *testing.T) {
	src, err := findSource(".")
	require.NoError(t, err, "the genai-prices snapshot must be beside the repository")
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	version, err := snapshotDate(filepath.Join(filepath.Dir(src), "README.md"))
	require.NoError(t, err)
	assert.Equal(t, "2026-08-21", version)
	got, err := generate(data, version)
	require.NoError(t, err)
	committed, err := os.ReadFile(filepath.Join("..", "pricing", "table.json"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(committed, got), "internal/pricing/table.json is stale: run `go generate ./processor/llmcost/`")
}

// Facts only: the generated table carries no names, descriptions, comments or URLs.
func TestTableKeepsFactsOnly(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "pricing", "table.json"))
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
	  "models":[{"id":"m","name":"M","description":"more prose","match":{"starts_with":"m-"},
	    "prices":[{"prices":{"input_mtok":{"base":1,"tiers":[{"start":1000,"price":2}]},"input_audio_mtok":9}},
	              {"constraint":{"start_date":"2026-01-01"},"prices":{"input_mtok":3,"cache_write_5m_mtok":4}},
	              {"constraint":{"start_time":"00:30:00Z","end_time":"16:30:00Z"},"prices":{"output_mtok":5}}]}]}]`
	out, err := generate([]byte(src), "2026-08-21")
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, `{"id":"p","provider_match":{"equals":"p"},"models":[`)
	assert.Contains(t, s, `{"prices":{"input_mtok":{"base":1,"tiers":[{"start":1000,"price":2}]}}}`)
	assert.Contains(t, s, `{"prices":{"cache_write_mtok":4,"input_mtok":3},"start_date":"2026-01-01"}`)
	assert.Contains(t, s, `{"end_time":"16:30:00Z","prices":{"output_mtok":5},"start_time":"00:30:00Z"}`)
	assert.NotContains(t, s, "prose")
	assert.NotContains(t, s, "input_audio_mtok")
}
