package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// Price file formats.
const (
	FormatAuto    = "auto"     // decided from the content
	FormatLLMCost = "llm_cost" // {prices: [Entry...]} in YAML or JSON
	FormatLiteLLM = "litellm"  // LiteLLM's model_prices_and_context_window.json
)

// ParseFile decodes a price file's content in the given format.
func ParseFile(b []byte, format string) ([]*Model, error) {
	if format == "" || format == FormatAuto {
		format = detectFormat(b)
	}
	switch format {
	case FormatLiteLLM:
		return ParseLiteLLM(b)
	case FormatLLMCost:
		return parseOwn(b)
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// detectFormat: our format has a top-level "prices" list; LiteLLM's is an object of
// objects keyed by model name.
func detectFormat(b []byte) string {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '{' {
		var probe map[string]json.RawMessage
		if json.Unmarshal(t, &probe) == nil {
			if _, own := probe["prices"]; !own {
				return FormatLiteLLM
			}
		}
	}
	return FormatLLMCost
}

func parseOwn(b []byte) ([]*Model, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("llm_cost format: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("llm_cost format: the file is empty; it needs a \"prices\" list")
	}
	var f struct {
		Prices []Entry `mapstructure:"prices"`
	}
	if err := confmap.NewFromStringMap(raw).Unmarshal(&f); err != nil {
		return nil, fmt.Errorf("llm_cost format: %w", err)
	}
	if f.Prices == nil {
		return nil, fmt.Errorf("llm_cost format: no \"prices\" list")
	}
	return Models(f.Prices)
}
