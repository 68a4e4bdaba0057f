package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Mainstream are the providers whose changes are printed entry by entry; the others
// are summed up.
var Mainstream = []string{"openai", "anthropic", "google", "aws", "azure", "mistral", "cohere", "deepseek", "x-ai", "groq"}

type diffTable struct {
	PricingVersion string `json:"pricing_version"`
	Source         string `json:"source"`
	Providers      []struct {
		ID            string          `json:"id"`
		ProviderMatch json.RawMessage `json:"provider_match"`
		ModelMatch    json.RawMessage `json:"model_match"`
		Fallbacks     []string        `json:"fallbacks"`
		Models        []diffModel     `json:"models"`
	} `json:"providers"`
}

type diffModel struct {
	ID     string          `json:"id"`
	Match  json.RawMessage `json:"match"`
	Prices json.RawMessage `json:"prices"`
}

// Change is one difference between two tables for one provider.
type Change struct {
	Provider, Kind, Model, Detail string // Kind: added, removed, price, rule, provider
}

// Changes lists the differences between two generated tables, provider by provider in
// the new table's order (removed providers last), models in id order.
func Changes(oldJSON, newJSON []byte) (oldT, newT diffTable, changes []Change, err error) {
	if err = json.Unmarshal(oldJSON, &oldT); err != nil {
		return oldT, newT, nil, fmt.Errorf("old table: %w", err)
	}
	if err = json.Unmarshal(newJSON, &newT); err != nil {
		return oldT, newT, nil, fmt.Errorf("new table: %w", err)
	}
	type prov struct {
		head   string
		models map[string]diffModel
	}
	index := func(t diffTable) (map[string]prov, []string) {
		m := map[string]prov{}
		var order []string
		for _, p := range t.Providers {
			head, _ := json.Marshal([]any{p.ProviderMatch, p.ModelMatch, p.Fallbacks})
			ms := map[string]diffModel{}
			for _, mo := range p.Models {
				ms[mo.ID] = mo
			}
			m[p.ID] = prov{string(head), ms}
			order = append(order, p.ID)
		}
		return m, order
	}
	op, _ := index(oldT)
	np, norder := index(newT)
	var removedProviders []string
	for _, p := range oldT.Providers {
		if _, ok := np[p.ID]; !ok {
			removedProviders = append(removedProviders, p.ID)
		}
	}
	compact := func(r json.RawMessage) string {
		var b bytes.Buffer
		if json.Compact(&b, r) != nil {
			return string(r)
		}
		return b.String()
	}
	for _, id := range append(norder, removedProviders...) {
		o, hadOld := op[id]
		n, hasNew := np[id]
		switch {
		case !hadOld:
			changes = append(changes, Change{id, "provider", "", fmt.Sprintf("new provider, %d models", len(n.models))})
		case !hasNew:
			changes = append(changes, Change{id, "provider", "", fmt.Sprintf("removed provider, had %d models", len(o.models))})
		case o.head != n.head:
			changes = append(changes, Change{id, "provider", "", "matching rules or fallbacks: " + o.head + " -> " + n.head})
		}
		ids := map[string]bool{}
		for k := range o.models {
			ids[k] = true
		}
		for k := range n.models {
			ids[k] = true
		}
		sorted := make([]string, 0, len(ids))
		for k := range ids {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, mid := range sorted {
			om, inOld := o.models[mid]
			nm, inNew := n.models[mid]
			switch {
			case !inOld:
				changes = append(changes, Change{id, "added", mid, compact(nm.Prices)})
			case !inNew:
				changes = append(changes, Change{id, "removed", mid, compact(om.Prices)})
			default:
				if compact(om.Prices) != compact(nm.Prices) {
					changes = append(changes, Change{id, "price", mid, compact(om.Prices) + " -> " + compact(nm.Prices)})
				}
				if compact(om.Match) != compact(nm.Match) {
					changes = append(changes, Change{id, "rule", mid, compact(om.Match) + " -> " + compact(nm.Match)})
				}
			}
		}
	}
	return oldT, newT, changes, nil
}

// PrintChanges writes the differences between two tables: every change of a
// mainstream provider, counts for the others.
func PrintChanges(w io.Writer, oldJSON, newJSON []byte) error {
	oldT, newT, changes, err := Changes(oldJSON, newJSON)
	if err != nil {
		return err
	}
	count := func(t diffTable) (n int) {
		for _, p := range t.Providers {
			n += len(p.Models)
		}
		return n
	}
	fmt.Fprintf(w, "price table: %s (%s) -> %s (%s); %d providers, %d models -> %d providers, %d models\n",
		oldT.PricingVersion, oldT.Source, newT.PricingVersion, newT.Source, len(oldT.Providers), count(oldT), len(newT.Providers), count(newT))
	main := map[string]bool{}
	for _, p := range Mainstream {
		main[p] = true
	}
	type tally struct{ added, removed, price, rule int }
	others := map[string]*tally{}
	var otherOrder []string
	last := ""
	for _, c := range changes {
		if !main[c.Provider] {
			t := others[c.Provider]
			if t == nil {
				t = &tally{}
				others[c.Provider] = t
				otherOrder = append(otherOrder, c.Provider)
			}
			switch c.Kind {
			case "added":
				t.added++
			case "removed":
				t.removed++
			case "price":
				t.price++
			case "rule":
				t.rule++
			case "provider":
				fmt.Fprintf(w, "%s: %s\n", c.Provider, c.Detail)
			}
			continue
		}
		if c.Provider != last {
			fmt.Fprintf(w, "\n%s:\n", c.Provider)
			last = c.Provider
		}
		switch c.Kind {
		case "provider":
			fmt.Fprintf(w, "  %s\n", c.Detail)
		case "price":
			fmt.Fprintf(w, "  price changed  %s: %s\n", c.Model, c.Detail)
		case "rule":
			fmt.Fprintf(w, "  rule changed   %s: %s\n", c.Model, c.Detail)
		default:
			fmt.Fprintf(w, "  %-14s %s: %s\n", c.Kind, c.Model, c.Detail)
		}
	}
	if len(otherOrder) > 0 {
		var parts []string
		for _, p := range otherOrder {
			t := others[p]
			if t.added+t.removed+t.price+t.rule == 0 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s +%d -%d ~%d price ~%d rule", p, t.added, t.removed, t.price, t.rule))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "\nother providers (added, removed, price changed, rule changed): %s\n", strings.Join(parts, "; "))
		}
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "no changes")
	}
	return nil
}
