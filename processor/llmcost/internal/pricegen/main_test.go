package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The committed table is what the generator makes from the committed data file: an
// edited table.json, or data updated without regenerating, fails here.
func TestCommittedTableIsFresh(t *testing.T) {
	root, err := RepoRoot(".")
	require.NoError(t, err)
	want, err := Generate(filepath.Join(root, DataDir))
	require.NoError(t, err)
	committed, err := os.ReadFile(filepath.Join("..", "pricing", "table.json"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(committed, want),
		"internal/pricing/table.json is not what third_party/genai-prices/data.json makes: run `go generate ./processor/llmcost/` (or `make update-prices`)")
	src, err := ReadSource(filepath.Join(root, DataDir))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, src.Published, "2026-09-23", "the embedded prices are from the newest data reachable when issue 15 was done")
	assert.True(t, strings.HasPrefix(string(committed), `{"pricing_version":"`+src.Published[:10]+`","source":"@pydantic/genai-prices `+src.Version+`"`))
}

func TestChangesBetweenTables(t *testing.T) {
	old := `{"pricing_version":"a","source":"s","providers":[
{"id":"openai","models":[
{"id":"gpt-x","prices":[{"prices":{"input_mtok":1}}]},
{"id":"gpt-gone","prices":[{"prices":{"input_mtok":1}}]},
{"id":"gpt-rule","match":{"equals":"gpt-rule"},"prices":[{"prices":{"input_mtok":1}}]}]},
{"id":"azure","fallbacks":["openai"],"models":[]}]}`
	nw := `{"pricing_version":"b","source":"s","providers":[
{"id":"openai","models":[
{"id":"gpt-x","prices":[{"prices":{"input_mtok":2}}]},
{"id":"gpt-new","prices":[{"prices":{"input_mtok":3}}]},
{"id":"gpt-rule","match":{"starts_with":"gpt-rule"},"prices":[{"prices":{"input_mtok":1}}]}]},
{"id":"azure","fallbacks":["openai","anthropic"],"models":[]},
{"id":"acme","models":[{"id":"a","prices":[{"prices":{}}]}]}]}`
	_, _, ch, err := Changes([]byte(old), []byte(nw))
	require.NoError(t, err)
	assert.Equal(t, []Change{
		{"openai", "removed", "gpt-gone", `[{"prices":{"input_mtok":1}}]`},
		{"openai", "added", "gpt-new", `[{"prices":{"input_mtok":3}}]`},
		{"openai", "rule", "gpt-rule", `{"equals":"gpt-rule"} -> {"starts_with":"gpt-rule"}`},
		{"openai", "price", "gpt-x", `[{"prices":{"input_mtok":1}}] -> [{"prices":{"input_mtok":2}}]`},
		{"azure", "provider", "", `matching rules or fallbacks: [null,null,["openai"]] -> [null,null,["openai","anthropic"]]`},
		{"acme", "provider", "", "new provider, 1 models"},
		{"acme", "added", "a", `[{"prices":{}}]`},
	}, ch)
	var out bytes.Buffer
	require.NoError(t, PrintChanges(&out, []byte(old), []byte(nw)))
	assert.Contains(t, out.String(), "price changed  gpt-x: ")
	assert.Contains(t, out.String(), "other providers (added, removed, price changed, rule changed): acme +1 -0 ~0 price ~0 rule")
}
