package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Only these price keys are kept: the token kinds that GenAI telemetry reports.
// Audio, image, video, citation, search and page prices have no usage attribute to
// multiply with. cache_write_5m_mtok is the same bucket as cache_write_mtok.
var keptPrices = []string{
	"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok",
	"output_reasoning_mtok", "requests_kcount",
}

type srcProvider struct {
	ID            string          `json:"id"`
	ProviderMatch json.RawMessage `json:"provider_match"`
	ModelMatch    json.RawMessage `json:"model_match"`
	Fallbacks     []string        `json:"fallback_model_providers"`
	Models        []srcModel      `json:"models"`
}

type srcModel struct {
	ID     string          `json:"id"`
	Match  json.RawMessage `json:"match"`
	Prices json.RawMessage `json:"prices"`
}

type srcConditional struct {
	Constraint *struct {
		StartDate string `json:"start_date"`
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
	} `json:"constraint"`
	Prices map[string]json.RawMessage `json:"prices"`
}

// generate converts genai-prices v2 data into the table's JSON form: one provider
// header line and one line per model, so that a price change is a one-line diff.
func generate(data []byte, version string) ([]byte, error) {
	var providers []srcProvider
	if err := json.Unmarshal(data, &providers); err != nil {
		return nil, fmt.Errorf("decode source: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"pricing_version\":%q,\"source\":%q,\"providers\":[\n", version, sourceRef)
	for pi, p := range providers {
		if p.ID == "" {
			return nil, fmt.Errorf("provider %d has no id", pi)
		}
		head := map[string]any{"id": p.ID}
		if len(p.ProviderMatch) > 0 && string(p.ProviderMatch) != "null" {
			head["provider_match"] = p.ProviderMatch
		}
		if len(p.ModelMatch) > 0 && string(p.ModelMatch) != "null" {
			head["model_match"] = p.ModelMatch
		}
		if len(p.Fallbacks) > 0 {
			head["fallbacks"] = p.Fallbacks
		}
		hb, err := marshalSorted(head)
		if err != nil {
			return nil, err
		}
		// Open the provider object and its models list; the header's closing brace is
		// replaced so that models can follow on their own lines.
		b.Write(hb[:len(hb)-1])
		b.WriteString(",\"models\":[\n")
		for mi, m := range p.Models {
			periods, err := convertPrices(m.Prices)
			if err != nil {
				return nil, fmt.Errorf("provider %q model %q: %w", p.ID, m.ID, err)
			}
			rec := map[string]any{"id": m.ID, "prices": periods}
			if len(m.Match) > 0 && string(m.Match) != "null" {
				rec["match"] = m.Match
			}
			mb, err := marshalSorted(rec)
			if err != nil {
				return nil, err
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

// convertPrices turns a ModelPrice or a list of ConditionalPrice into periods.
func convertPrices(raw json.RawMessage) ([]map[string]any, error) {
	var list []srcConditional
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = []srcConditional{{Prices: one}}
	}
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
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
			if c.Constraint.StartDate != "" {
				per["start_date"] = c.Constraint.StartDate
			}
			if c.Constraint.StartTime != "" || c.Constraint.EndTime != "" {
				per["start_time"] = c.Constraint.StartTime
				per["end_time"] = c.Constraint.EndTime
			}
		}
		out = append(out, per)
	}
	return out, nil
}

// marshalSorted writes a map with sorted keys (encoding/json sorts map keys) and
// compacts embedded raw JSON.
func marshalSorted(v map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
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
