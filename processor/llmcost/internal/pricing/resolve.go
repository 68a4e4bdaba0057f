package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"regexp"
	"strings"
)

// How a model name found its price entry; written as llm_cost.match.
const (
	MatchExact      = "exact"      // the name is the entry's id
	MatchAlias      = "alias"      // a configured alias names the entry
	MatchRule       = "rule"       // the entry's match rule accepts the name
	MatchNormalized = "normalized" // found after normalising the name (prefixes, suffixes, dates)
	// MatchAnyProvider: the span named no provider, no provider's model rule claims the
	// name, and the entry was found by searching every provider. The price may be a
	// reseller's: dashboards can tell such calls apart.
	MatchAnyProvider = "any_provider"
)

// providerAliases maps provider names used by the instrumentation conventions to the
// table's provider ids.
var providerAliases = map[string]string{
	"openai": "openai", "azure.ai.openai": "azure", "az.ai.openai": "azure", "azure.ai.inference": "azure",
	"az.ai.inference": "azure", "azure": "azure", "azure_openai": "azure", "azure-openai": "azure",
	"anthropic": "anthropic", "aws.bedrock": "aws", "bedrock": "aws", "aws": "aws", "amazon-bedrock": "aws",
	"gcp.gemini": "google", "gcp.vertex_ai": "google", "gcp.gen_ai": "google", "gemini": "google",
	"vertex_ai": "google", "vertexai": "google", "google": "google", "google.ai.studio": "google",
	"cohere": "cohere", "deepseek": "deepseek", "groq": "groq", "mistral_ai": "mistral", "mistralai": "mistral",
	"mistral": "mistral", "perplexity": "perplexity", "x_ai": "x-ai", "xai": "x-ai", "x-ai": "x-ai",
	"together": "together", "together_ai": "together", "fireworks": "fireworks", "fireworks_ai": "fireworks",
	"openrouter": "openrouter", "cerebras": "cerebras", "moonshot": "moonshotai", "moonshotai": "moonshotai",
}

// ProviderID maps a provider name (already lower-cased) to a table provider id, or "".
func (t *Table) ProviderID(name string) string {
	if name == "" {
		return ""
	}
	if id, ok := providerAliases[name]; ok {
		if _, known := t.byID[id]; known {
			return id
		}
	}
	if _, ok := t.byID[name]; ok {
		return name
	}
	for _, p := range t.Providers {
		if p.ProviderMatch != nil && p.ProviderMatch.Match(name) {
			return p.ID
		}
	}
	return ""
}

// Resolve finds the price entry for a model name. provider is the span's provider,
// lower-cased ("" when unknown); aliases map lower-cased names to other names.
//
// Order: overrides before the built-in table. In the table, a span's provider is
// searched with the providers whose models it serves (the data's fallbacks: Azure
// serves OpenAI's and Anthropic's, Google Anthropic's), and no other: a model its
// provider does not sell is unpriced, never priced at another vendor's price. A span
// naming a provider the table does not know is priced only when its model name names
// one (provider/model). A span naming no provider is priced by the provider its name
// names (provider/model), else by the provider whose model rule claims the name (claude*
// for Anthropic, Bedrock's region and version forms for AWS, ...), else by searching
// every provider (llm_cost.match any_provider). In each, the exact entry id, then a
// configured alias, then the entries' match rules, then the same after normalising the
// name (provider/ prefixes, Bedrock region and vendor prefixes, -vN:M suffixes, @date,
// -latest, date suffixes). It returns nil when nothing prices the name.
func (t *Table) Resolve(provider, model string, aliases map[string]string) (*Model, string) {
	name := strings.ToLower(strings.TrimSpace(model))
	if name == "" {
		return nil, ""
	}
	pid := t.ProviderID(provider)
	var target string
	if aliases != nil {
		target = strings.ToLower(strings.TrimSpace(aliases[name]))
	}
	if len(t.Overrides) > 0 {
		if m, how := t.try(name, target, func(n string) *Model { return t.findOverride(pid, provider, n) }); m != nil {
			return m, how
		}
	}
	// The name's own provider prefix (anthropic/claude-sonnet-4-5, the form of
	// gateways and of genai-prices' references) names the provider.
	var ppid, rest string
	if i := strings.IndexByte(name, '/'); i > 0 && i < len(name)-1 {
		ppid, rest = t.ProviderID(name[:i]), name[i+1:]
	}
	if pid != "" {
		m, how := t.try(name, target, func(n string) *Model { return t.findScoped(pid, n) })
		if m == nil && ppid != "" && ppid != pid {
			// A gateway's name through another vendor's client (OpenRouter or a LiteLLM
			// proxy called with the openai SDK, whose spans name openai): the span's
			// provider sells no such model, the one the name names does.
			return t.try(rest, target, func(n string) *Model { return t.findScoped(ppid, n) })
		}
		return m, how
	}
	if ppid != "" {
		return t.try(rest, target, func(n string) *Model { return t.findScoped(ppid, n) })
	}
	if provider != "" {
		return nil, "" // a provider the table has no entries for
	}
	if m, how := t.try(name, target, t.findClaimed); m != nil {
		return m, how
	}
	if m, _ := t.try(name, target, t.findAnywhere); m != nil {
		return m, MatchAnyProvider
	}
	return nil, ""
}

// try resolves name (and the alias target) with find: the exact id, then the alias,
// then the entries' rules, then the normalised forms of the name.
func (t *Table) try(name, target string, find func(string) *Model) (*Model, string) {
	if m := find(name); m != nil && t.exactID(m, name) {
		return m, MatchExact
	}
	if target != "" {
		for _, n := range Candidates(target) {
			if m := find(n); m != nil {
				return m, MatchAlias
			}
		}
	}
	if m := find(name); m != nil {
		return m, MatchRule
	}
	for _, n := range Candidates(name)[1:] {
		if m := find(n); m != nil {
			return m, MatchNormalized
		}
	}
	return nil, ""
}

func (t *Table) exactID(m *Model, name string) bool { return m.lowerID == name }

func (t *Table) findOverride(pid, provider, name string) *Model {
	// An override scoped to a provider applies to spans of that provider and to spans
	// that name no provider.
	ok := func(m *Model) bool {
		if m.Provider == "" || provider == "" {
			return true
		}
		p := strings.ToLower(m.Provider)
		return p == provider || (pid != "" && t.ProviderID(p) == pid)
	}
	for _, m := range t.overByID[name] {
		if ok(m) {
			return m
		}
	}
	for _, m := range t.Overrides {
		if m.Match != nil && ok(m) && m.Match.Match(name) {
			return m
		}
	}
	return nil
}

// findScoped searches a provider and its fallbacks: ids first, then rules.
func (t *Table) findScoped(pid, name string) *Model {
	p := t.byID[pid]
	if m := p.byID[name]; m != nil {
		return m
	}
	for _, f := range p.Fallbacks {
		if m := t.byID[f].byID[name]; m != nil {
			return m
		}
	}
	if m := p.findRule(name); m != nil {
		return m
	}
	for _, f := range p.Fallbacks {
		if m := t.byID[f].findRule(name); m != nil {
			return m
		}
	}
	return nil
}

// findClaimed searches the provider a model name belongs to when the span names none:
// Bedrock for Bedrock-style ids (region and vendor prefixes, version suffixes that no
// other provider uses), else the first provider whose model rule claims the name.
func (t *Table) findClaimed(name string) *Model {
	if _, ok := t.byID["aws"]; ok && (bedrockRegion.MatchString(name) || bedrockVersion.MatchString(name) || vendorPrefix.MatchString(name)) {
		if m := t.findScoped("aws", name); m != nil {
			return m
		}
	}
	for _, p := range t.globalOrder {
		if p.ModelMatch != nil && p.ModelMatch.Match(name) {
			if m := t.findScoped(p.ID, name); m != nil {
				return m
			}
		}
	}
	return nil
}

// findAnywhere searches every provider, makers before resellers: ids first, then rules.
func (t *Table) findAnywhere(name string) *Model {
	for _, p := range t.globalOrder {
		if m := p.byID[name]; m != nil {
			return m
		}
	}
	for _, p := range t.globalOrder {
		if m := p.findRule(name); m != nil {
			return m
		}
	}
	return nil
}

func (p *Provider) findRule(name string) *Model {
	for _, m := range p.Models {
		if m.Match != nil && m.Match.Match(name) {
			return m
		}
	}
	return nil
}

var (
	bedrockRegion  = regexp.MustCompile(`^(us|us-gov|eu|apac|ap|au|jp|ca|global|regional)\.`)
	bedrockVersion = regexp.MustCompile(`-v\d+(:\d+)+$|:\d+$`)
	vendorPrefix   = regexp.MustCompile(`^(anthropic|meta|amazon|cohere|mistral|ai21|deepseek|openai|qwen|writer|google|moonshotai|xai)\.`)
	dateSuffix     = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$`)
)

// Candidates returns name followed by the names it normalises to, most specific
// first, without duplicates. name must be lower-cased.
func Candidates(name string) []string {
	out := []string{name}
	add := func(n string) string {
		if n != "" && n != out[len(out)-1] {
			for _, o := range out {
				if o == n {
					return n
				}
			}
			out = append(out, n)
		}
		return n
	}
	n := name
	if i := strings.LastIndexByte(n, '/'); i >= 0 && i < len(n)-1 {
		n = add(n[i+1:])
	}
	if i := strings.IndexByte(n, '@'); i > 0 {
		n = add(n[:i])
	}
	n = add(bedrockRegion.ReplaceAllString(n, ""))
	n = add(bedrockVersion.ReplaceAllString(n, ""))
	n = add(vendorPrefix.ReplaceAllString(n, ""))
	n = add(strings.TrimSuffix(n, "-latest"))
	add(dateSuffix.ReplaceAllString(n, ""))
	return out
}
