package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// genai-prices data: the v2 data file (prices/new_data/v2/data.json, also the shape of
// the older prices/data.json) is a JSON array of providers; the v3 file
// (prices/new_data/v3/data.json) wraps the same array as {"units": ..., "providers": [...]}.
// Both are read here. Only facts are kept: provider and model ids, match rules, the
// providers' fallbacks, prices per million tokens, tiers, and the dates or times of day
// from which prices apply. Names, descriptions, comments, URLs and usage extractors are
// dropped.

// keptPrices are the price keys kept: the token kinds GenAI telemetry reports. Audio,
// image, video, citation, search and page prices have no usage attribute to multiply
// with. cache_write_5m_mtok is the same bucket as cache_write_mtok.
var keptPrices = []string{
	"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok",
	"output_reasoning_mtok", "requests_kcount",
}

type gpProvider struct {
	ID            string          `json:"id"`
	ProviderMatch json.RawMessage `json:"provider_match"`
	ModelMatch    json.RawMessage `json:"model_match"`
	Fallbacks     []string        `json:"fallback_model_providers"`
	Models        []gpModel       `json:"models"`
}

type gpModel struct {
	ID     string          `json:"id"`
	Match  json.RawMessage `json:"match"`
	Prices json.RawMessage `json:"prices"`
}

type gpConditional struct {
	Constraint map[string]json.RawMessage `json:"constraint"`
	Prices     map[string]json.RawMessage `json:"prices"`
}

// decodeGenAIPrices reads the provider list of a v2 (array) or v3 (wrapped) data file.
func decodeGenAIPrices(data []byte) ([]gpProvider, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, errors.New("genai_prices format: the file is empty")
	}
	var providers []gpProvider
	switch t[0] {
	case '[':
		if err := json.Unmarshal(t, &providers); err != nil {
			return nil, fmt.Errorf("genai_prices format: %w", err)
		}
	case '{':
		var wrapped struct {
			Providers *[]gpProvider `json:"providers"`
		}
		if err := json.Unmarshal(t, &wrapped); err != nil {
			return nil, fmt.Errorf("genai_prices format: %w", err)
		}
		if wrapped.Providers == nil {
			return nil, errors.New(`genai_prices format: an object without a "providers" list (is it another format?)`)
		}
		providers = *wrapped.Providers
	default:
		return nil, errors.New("genai_prices format: not JSON: a genai-prices data file is a JSON array of providers (or an object with \"providers\")")
	}
	if len(providers) == 0 {
		return nil, errors.New("genai_prices format: no providers")
	}
	return providers, nil
}

// GenerateTable converts genai-prices data into the table's JSON form (see ParseTable):
// one provider header line and one line per model, keys sorted, so that a price change
// is a one-line diff. version becomes the table's pricing_version and source its source.
func GenerateTable(data []byte, version, source string) ([]byte, error) {
	providers, err := decodeGenAIPrices(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(data) / 2)
	fmt.Fprintf(&b, "{\"pricing_version\":%q,\"source\":%q,\"providers\":[\n", version, source)
	for pi, p := range providers {
		if p.ID == "" {
			return nil, fmt.Errorf("genai_prices format: provider %d has no id", pi)
		}
		head := map[string]any{"id": p.ID}
		if isSet(p.ProviderMatch) {
			head["provider_match"] = p.ProviderMatch
		}
		if isSet(p.ModelMatch) {
			head["model_match"] = p.ModelMatch
		}
		if len(p.Fallbacks) > 0 {
			head["fallbacks"] = p.Fallbacks
		}
		hb, err := marshalCompact(head)
		if err != nil {
			return nil, fmt.Errorf("genai_prices format: provider %q: %w", p.ID, err)
		}
		// Open the provider object and its models list; the header's closing brace is
		// replaced so that models can follow on their own lines.
		b.Write(hb[:len(hb)-1])
		b.WriteString(",\"models\":[\n")
		for mi, m := range p.Models {
			periods, err := convertPrices(m.Prices)
			if err != nil {
				return nil, fmt.Errorf("genai_prices format: provider %q model %q: %w", p.ID, m.ID, err)
			}
			rec := map[string]any{"id": m.ID, "prices": periods}
			if isSet(m.Match) {
				rec["match"] = m.Match
			}
			mb, err := marshalCompact(rec)
			if err != nil {
				return nil, fmt.Errorf("genai_prices format: provider %q model %q: %w", p.ID, m.ID, err)
			}
			b.Write(mb)
			if mi < len(p.Models)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("]}")
		if pi < len(providers)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes(), nil
}

// ParseGenAIPrices builds a table from genai-prices data, as the embedded table is
// built from its snapshot.
func ParseGenAIPrices(data []byte, version string) (*Table, error) {
	gen, err := GenerateTable(data, version, "")
	if err != nil {
		return nil, err
	}
	t, err := ParseTable(gen)
	if err != nil {
		return nil, errors.New("genai_prices format: " + strings.TrimPrefix(err.Error(), "price table: "))
	}
	if t.ModelCount() == 0 {
		// It would replace the embedded table with one that prices nothing.
		return nil, errors.New("genai_prices format: no models")
	}
	return t, nil
}

func isSet(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }

// convertPrices turns a ModelPrice or a list of ConditionalPrice into periods.
func convertPrices(raw json.RawMessage) ([]map[string]any, error) {
	var list []gpConditional
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0 || string(t) == "null":
		return nil, errors.New("no prices")
	case t[0] == '[':
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, errors.New("an empty list of prices")
		}
	default:
		var one map[string]json.RawMessage
		if err := json.Unmarshal(t, &one); err != nil {
			return nil, err
		}
		list = []gpConditional{{Prices: one}}
	}
	out := make([]map[string]any, 0, len(list))
	for i, c := range list {
		prices := map[string]json.RawMessage{}
		for _, k := range keptPrices {
			if v, ok := c.Prices[k]; ok {
				prices[k] = v
			}
		}
		if v, ok := c.Prices["cache_write_5m_mtok"]; ok {
			if _, has := prices["cache_write_mtok"]; !has {
				prices["cache_write_mtok"] = v
			}
		}
		per := map[string]any{"prices": prices}
		if c.Constraint != nil {
			if err := convertConstraint(c.Constraint, per); err != nil {
				return nil, fmt.Errorf("prices[%d]: %w", i, err)
			}
		}
		out = append(out, per)
	}
	return out, nil
}

// convertConstraint copies a start date or a daily window. A constraint of another
// kind fails the file rather than applying its prices at all times. The "type" that
// the JS package adds must agree with the fields.
func convertConstraint(c map[string]json.RawMessage, per map[string]any) error {
	str := func(k string) (string, error) {
		var s string
		if err := json.Unmarshal(c[k], &s); err != nil {
			return "", fmt.Errorf("constraint %s: %w", k, err)
		}
		return s, nil
	}
	var typ string
	keys := make([]string, 0, len(c))
	for k := range c {
		if k == "type" {
			var err error
			if typ, err = str(k); err != nil {
				return err
			}
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	switch strings.Join(keys, ",") {
	case "start_date":
		if typ != "" && typ != "start_date" {
			return fmt.Errorf("constraint type %q does not fit a start_date", typ)
		}
		d, err := str("start_date")
		if err != nil {
			return err
		}
		per["start_date"] = d
	case "end_time,start_time":
		if typ != "" && typ != "time_of_date" {
			return fmt.Errorf("constraint type %q does not fit a start_time and end_time", typ)
		}
		s, err := str("start_time")
		if err != nil {
			return err
		}
		e, err := str("end_time")
		if err != nil {
			return err
		}
		per["start_time"], per["end_time"] = s, e
	default:
		return fmt.Errorf("a price constraint of unknown kind (fields %s)", strings.Join(keys, ", "))
	}
	return nil
}

// marshalCompact writes a map with sorted keys (encoding/json sorts map keys) and
// compacts embedded raw JSON.
func marshalCompact(v map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return nil, err
	}
	return c.Bytes(), nil
}
