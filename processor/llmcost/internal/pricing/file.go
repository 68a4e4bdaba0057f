package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// Price file formats.
const (
	FormatAuto        = "auto"         // decided from the content
	FormatLLMCost     = "llm_cost"     // {prices: [Entry...]} in YAML or JSON
	FormatLiteLLM     = "litellm"      // LiteLLM's model_prices_and_context_window.json
	FormatGenAIPrices = "genai_prices" // genai-prices' data file (v2 array or v3 wrapper): a whole table
)

// Formats lists the accepted format names, for configuration errors.
var Formats = []string{FormatAuto, FormatLLMCost, FormatLiteLLM, FormatGenAIPrices}

// Parsed is the content of a price source: a whole table (format genai_prices), which
// replaces the embedded one, or entries (llm_cost, litellm), which override it.
type Parsed struct {
	Format string
	Table  *Table
	Models []*Model
}

// ParseSource decodes a price source's content in the given format ("" or auto: decided
// from the content). version is the table's version, for a genai_prices source.
func ParseSource(b []byte, format, version string) (Parsed, error) {
	if format == "" || format == FormatAuto {
		format = DetectFormat(b)
	}
	if format == FormatGenAIPrices {
		t, err := ParseGenAIPrices(b, version)
		return Parsed{Format: format, Table: t}, err
	}
	models, err := ParseFile(b, format)
	return Parsed{Format: format, Models: models}, err
}

// ParseFile decodes a price file's content in the given override format (llm_cost,
// litellm or auto).
func ParseFile(b []byte, format string) ([]*Model, error) {
	if format == "" || format == FormatAuto {
		format = DetectFormat(b)
	}
	var models []*Model
	var err error
	switch format {
	case FormatLiteLLM:
		models, err = ParseLiteLLM(b)
	case FormatLLMCost:
		models, err = parseOwn(b)
	case FormatGenAIPrices:
		return nil, fmt.Errorf("format %q is a whole price table, not override entries", format)
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return nil, err
	}
	// Check every entry as the table will, so that a file is either rejected here
	// (and its previous prices kept) or usable as a whole.
	for _, m := range models {
		if err := m.compile(); err != nil {
			return nil, fmt.Errorf("%s format: %w", format, err)
		}
	}
	return models, nil
}

// DetectFormat tells the format from the content: genai-prices' data is a JSON array
// of providers (or an object with "providers"); ours has a top-level "prices" list;
// LiteLLM's is an object of objects keyed by model name.
func DetectFormat(b []byte) string {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		return FormatGenAIPrices
	}
	if len(t) > 0 && t[0] == '{' {
		var probe map[string]json.RawMessage
		if json.Unmarshal(t, &probe) == nil {
			if _, gp := probe["providers"]; gp {
				return FormatGenAIPrices
			}
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
	raw, _ = DatesAsText(raw).(map[string]any)
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

// DatesAsText turns the timestamps a YAML decoder makes of unquoted dates
// (start_date: 2026-01-01) back into the text they were written as, in every map and
// list of v, so that they decode into the string fields that hold them.
func DatesAsText(v any) any {
	switch x := v.(type) {
	case time.Time:
		if x.Equal(x.Truncate(24*time.Hour)) && x.Location() == time.UTC {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	case map[string]any:
		for k, e := range x {
			x[k] = DatesAsText(e)
		}
	case []any:
		for i, e := range x {
			x[i] = DatesAsText(e)
		}
	}
	return v
}
