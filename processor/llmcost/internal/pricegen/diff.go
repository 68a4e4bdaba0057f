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
	op, _ := indexProviders(oldT)
	np, norder := indexProviders(newT)
	var removedProviders []string
	for _, p := range oldT.Providers {
		if _, ok := np[p.ID]; !ok {
			removedProviders = append(removedProviders, p.ID)
		}
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
		changes = append(changes, modelChanges(id, o.models, n.models)...)
	}
	return oldT, newT, changes, nil
}

// diffProvider is one provider of a table: its matching rules and fallbacks as one
// string, and its models by id.
type diffProvider struct {
	head   string
	models map[string]diffModel
}

func indexProviders(t diffTable) (map[string]diffProvider, []string) {
	m := map[string]diffProvider{}
	var order []string
	for _, p := range t.Providers {
		head, _ := json.Marshal([]any{p.ProviderMatch, p.ModelMatch, p.Fallbacks})
		ms := map[string]diffModel{}
		for _, mo := range p.Models {
			ms[mo.ID] = mo
		}
		m[p.ID] = diffProvider{string(head), ms}
		order = append(order, p.ID)
	}
	return m, order
}

// modelChanges lists the models of one provider added, removed, repriced or matched
// by another rule, in id order.
func modelChanges(provider string, old, cur map[string]diffModel) []Change {
	ids := make([]string, 0, len(old)+len(cur))
	for k := range old {
		ids = append(ids, k)
	}
	for k := range cur {
		if _, dup := old[k]; !dup {
			ids = append(ids, k)
		}
	}
	sort.Strings(ids)
	var changes []Change
	for _, mid := range ids {
		om, inOld := old[mid]
		nm, inNew := cur[mid]
		switch {
		case !inOld:
			changes = append(changes, Change{provider, "added", mid, compact(nm.Prices)})
		case !inNew:
			changes = append(changes, Change{provider, "removed", mid, compact(om.Prices)})
		default:
			if compact(om.Prices) != compact(nm.Prices) {
				changes = append(changes, Change{provider, "price", mid, compact(om.Prices) + " -> " + compact(nm.Prices)})
			}
			if compact(om.Match) != compact(nm.Match) {
				changes = append(changes, Change{provider, "rule", mid, compact(om.Match) + " -> " + compact(nm.Match)})
			}
		}
	}
	return changes
}

func compact(r json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, r) != nil {
		return string(r)
	}
	return b.String()
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
	var others []Change
	last := ""
	for _, c := range changes {
		if !main[c.Provider] {
			others = append(others, c)
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
	printOthers(w, others)
	if len(changes) == 0 {
		fmt.Fprintln(w, "no changes")
	}
	return nil
}

// printOthers sums up the changes of the providers that are not mainstream: their
// provider changes as they are, then one count per kind and provider.
func printOthers(w io.Writer, changes []Change) {
	type tally struct{ added, removed, price, rule int }
	counts := map[string]*tally{}
	var order []string
	for _, c := range changes {
		t := counts[c.Provider]
		if t == nil {
			t = &tally{}
			counts[c.Provider] = t
			order = append(order, c.Provider)
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
	}
	var parts []string
	for _, p := range order {
		if t := counts[p]; t.added+t.removed+t.price+t.rule > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d -%d ~%d price ~%d rule", p, t.added, t.removed, t.price, t.rule))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "\nother providers (added, removed, price changed, rule changed): %s\n", strings.Join(parts, "; "))
	}
}
