package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// Status indexes for counting.
const (
	idxPriced = iota
	idxProvided
	idxUnpriced
	idxInvalid
	idxSkipped
	numStatus
	idxNone = -1
)

var statusNames = [numStatus]string{statusPriced, statusProvided, statusUnpriced, statusInvalid, statusSkipped}

// modelRef is what a model resolution depends on: the provider as sent (and which
// attribute sent it, since conventions spell providers differently) and the model name
// as sent. Raw strings keep the cache lookup free of allocations.
type modelRef struct {
	providerKey key
	provider    string
	model       string
}

// resolved is the cached outcome of resolving one modelRef.
type resolved struct {
	model    *pricing.Model // nil: no price
	match    string
	label    string // written as llm_cost.model
	provider string // canonical gen_ai.provider.name ("" when none was sent)
}

// snapshot is a price table with its resolution cache; both are replaced together
// when price files change, so a cached result never outlives its table.
type snapshot struct {
	table *pricing.Table
	mu    sync.RWMutex
	cache map[modelRef]*resolved
}

// engine prices records. It is shared by the traces and logs processors.
type engine struct {
	snap        atomic.Pointer[snapshot]
	aliases     map[string]string
	useProvided bool
	cacheSize   int
	labels      *labelSet
}

func newEngine(cfg *Config, table *pricing.Table) *engine {
	aliases := make(map[string]string, len(cfg.Aliases))
	for k, v := range cfg.Aliases {
		aliases[strings.ToLower(strings.TrimSpace(k))] = v
	}
	e := &engine{aliases: aliases, useProvided: cfg.UseProvidedCost, cacheSize: cfg.CacheSize,
		labels: newLabelSet(cfg.UnpricedModelLimit)}
	e.setTable(table)
	return e
}

func (e *engine) setTable(t *pricing.Table) {
	e.snap.Store(&snapshot{table: t, cache: make(map[modelRef]*resolved, 64)})
}

func (e *engine) table() *pricing.Table { return e.snap.Load().table }

// resolve returns the cached resolution of ref, resolving it on a miss. The cache is
// bounded: when it is full it starts over, so a flood of distinct names costs
// resolution time, never unbounded memory.
func (e *engine) resolve(s *snapshot, ref modelRef) *resolved {
	if len(ref.model) > maxNameLen || len(ref.provider) > maxNameLen {
		// No price entry, alias or provider is near this long. Resolving such a name
		// costs time in proportion to its length, and caching it memory: it is unpriced
		// and not cached.
		return &resolved{provider: canonicalProvider(ref.providerKey, ref.provider), label: e.labels.label(ref.model)}
	}
	s.mu.RLock()
	r, ok := s.cache[ref]
	s.mu.RUnlock()
	if ok {
		return r
	}
	provider := canonicalProvider(ref.providerKey, ref.provider)
	m, how := s.table.Resolve(provider, ref.model, e.aliases)
	r = &resolved{model: m, match: how, provider: provider}
	if m != nil {
		r.label = m.ID
	} else {
		r.label = e.labels.label(ref.model)
	}
	key := modelRef{providerKey: ref.providerKey, provider: strings.Clone(ref.provider), model: strings.Clone(ref.model)}
	s.mu.Lock()
	if len(s.cache) >= e.cacheSize {
		clear(s.cache)
	}
	s.cache[key] = r
	s.mu.Unlock()
	return r
}

// record is the per-call scratch space; one per processor call, reused per record.
type record struct {
	f fields
}

// process prices one span or log record in place and returns the status index it was
// given, or idxNone when it is not an LLM call (or was priced upstream already).
func (e *engine) process(rec *record, attrs pcommon.Map, name string, startNanos int64) int {
	f := &rec.f
	f.scan(attrs)
	if f.present == 0 || f.has(kStatus) {
		return idxNone
	}
	k, conv := classify(f, name)
	switch k {
	case kindOther:
		return idxNone
	case kindAggregate:
		attrs.PutStr(attrStatus, statusSkipped)
		return idxSkipped
	}
	s := e.snap.Load()
	version := s.table.Version

	pk, providerRaw := providerOf(f)
	modelRaw := modelOf(f, conv)
	var res *resolved
	if modelRaw != "" {
		res = e.resolve(s, modelRef{providerKey: pk, provider: providerRaw, model: modelRaw})
	} else if providerRaw != "" {
		res = &resolved{provider: canonicalProvider(pk, providerRaw)}
	}

	counts, uerr := readCounts(f, conv, providerRaw)
	var usage pricing.Usage
	if uerr == "" {
		usage, uerr = canonical(counts)
	}

	attrs.EnsureCapacity(attrs.Len() + 16)
	e.writeCanonical(attrs, f, conv, res, usage, uerr == "")

	costKey, provided, hasProvided, badProvided := providedCost(f)
	if hasProvided && badProvided == "" && e.useProvided && (provided > 0 || usage.Input+usage.Output == 0) {
		if costKey != kCostGenAI {
			attrs.PutDouble(attrCost, provided)
		}
		writeProvenance(attrs, statusProvided, res, version)
		return idxProvided
	}
	if hasProvided && badProvided != "" {
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, string(badProvided))
		return idxInvalid
	}
	if uerr != "" {
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, string(uerr))
		return idxInvalid
	}
	if modelRaw == "" {
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, "no model name reported")
		return idxInvalid
	}
	if res.model == nil {
		writeProvenance(attrs, statusUnpriced, res, version)
		return idxUnpriced
	}
	if startNanos <= 0 {
		startNanos = time.Now().UnixNano()
	}
	c := res.model.PricesAt(startNanos).Cost(usage)
	if c.Total > maxCallCost {
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, "the usage prices at over 1000 USD for one call: not plausible token counts")
		return idxInvalid
	}
	if hasProvided && costKey == kCostGenAI {
		// The app's own figure was zero for a call that used tokens (or provided costs
		// are switched off): keep it beside ours instead of losing it.
		attrs.PutDouble(attrProvidedCost, provided)
	}
	attrs.PutDouble(attrCost, c.Total)
	writeProvenance(attrs, statusPriced, res, version)
	attrs.PutDouble(attrBreakInput, c.Input)
	attrs.PutDouble(attrBreakOutput, c.Output)
	if usage.CacheRead > 0 {
		attrs.PutDouble(attrBreakCacheRead, c.CacheRead)
	}
	if usage.CacheWrite > 0 {
		attrs.PutDouble(attrBreakCacheWr, c.CacheWrite)
	}
	if usage.Reasoning > 0 {
		attrs.PutDouble(attrBreakReasoning, c.Reasoning)
	}
	if c.Request > 0 {
		attrs.PutDouble(attrBreakRequest, c.Request)
	}
	return idxPriced
}

func writeProvenance(attrs pcommon.Map, status string, res *resolved, version string) {
	attrs.PutStr(attrStatus, status)
	if res != nil && res.label != "" {
		attrs.PutStr(attrModel, res.label)
	}
	if res != nil && res.match != "" {
		attrs.PutStr(attrMatch, res.match)
	}
	attrs.PutStr(attrVersion, version)
}

// writeCanonical adds the OTel GenAI attributes the app did not send, from the values
// of its own convention. It never replaces an attribute that is present.
func (e *engine) writeCanonical(attrs pcommon.Map, f *fields, conv convention, res *resolved, u pricing.Usage, usageOK bool) {
	if res != nil && res.provider != "" && !f.has(kProviderName) {
		attrs.PutStr(keyNames[kProviderName], res.provider)
	}
	if !f.has(kOperation) {
		if op := operationName(f, conv); op != "" {
			attrs.PutStr(keyNames[kOperation], op)
		}
	}
	if !f.has(kRequestModel) {
		var m string
		switch conv {
		case convVercel:
			m = f.str(kAIModel)
		case convOpenInference:
			if m = f.str(kOIModel); m == "" {
				m = f.str(kOIEmbeddingModel)
			}
		}
		if m != "" {
			attrs.PutStr(keyNames[kRequestModel], m)
		}
	}
	if conv == convVercel && !f.has(kResponseModel) && f.has(kAIResponseModel) {
		attrs.PutStr(keyNames[kResponseModel], f.str(kAIResponseModel))
	}
	if !usageOK {
		return
	}
	if !f.has(kInputTokens) {
		attrs.PutInt(keyNames[kInputTokens], u.Input)
	}
	if !f.has(kOutputTokens) {
		attrs.PutInt(keyNames[kOutputTokens], u.Output)
	}
	if u.CacheRead > 0 && !f.has(kCacheRead) {
		attrs.PutInt(keyNames[kCacheRead], u.CacheRead)
	}
	if u.CacheWrite > 0 && !f.has(kCacheCreation) {
		attrs.PutInt(keyNames[kCacheCreation], u.CacheWrite)
	}
	if u.Reasoning > 0 && !f.has(kReasoning) {
		attrs.PutInt(keyNames[kReasoning], u.Reasoning)
	}
}

// providerOf returns the first provider attribute present and which one it was.
func providerOf(f *fields) (key, string) {
	for _, k := range [...]key{kProviderName, kSystem, kOIProvider, kOISystem, kAIProvider} {
		if s := f.str(k); s != "" {
			return k, s
		}
	}
	return 0, ""
}

// modelOf returns the model name to price: the response model, else the request model,
// in the convention's attribute names.
func modelOf(f *fields, conv convention) string {
	var keys []key
	switch conv {
	case convVercel:
		keys = []key{kAIResponseModel, kResponseModel, kAIModel, kRequestModel}
	case convOpenInference:
		keys = []key{kOIModel, kOIEmbeddingModel, kResponseModel, kRequestModel}
	default:
		keys = []key{kResponseModel, kRequestModel}
	}
	for _, k := range keys {
		if s := f.str(k); strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// knownProviders are the gen_ai.provider.name values of the OTel GenAI conventions.
var knownProviders = map[string]bool{
	"openai": true, "anthropic": true, "aws.bedrock": true, "azure.ai.openai": true, "azure.ai.inference": true,
	"gcp.gemini": true, "gcp.vertex_ai": true, "gcp.gen_ai": true, "cohere": true, "deepseek": true, "groq": true,
	"mistral_ai": true, "perplexity": true, "x_ai": true, "ibm.watsonx.ai": true,
}

// providerSpellings maps the other conventions' provider names to gen_ai.provider.name.
var providerSpellings = map[string]string{
	"az.ai.openai": "azure.ai.openai", "az.ai.inference": "azure.ai.inference", "azure": "azure.ai.openai",
	"azure-openai": "azure.ai.openai", "azure_openai": "azure.ai.openai", "gemini": "gcp.gemini",
	"google.generative-ai": "gcp.gemini", "vertex_ai": "gcp.vertex_ai", "vertexai": "gcp.vertex_ai",
	"vertex ai": "gcp.vertex_ai", "google.vertex": "gcp.vertex_ai", "google": "gcp.gen_ai", "xai": "x_ai",
	"aws": "aws.bedrock", "bedrock": "aws.bedrock", "amazon-bedrock": "aws.bedrock", "mistralai": "mistral_ai",
	"mistral": "mistral_ai", "ibm.watson.ai": "ibm.watsonx.ai",
}

const maxLabelLen = 64

// maxNameLen is the longest model or provider name the processor resolves.
const maxNameLen = 256

// maxProviderKey is the length of the longest provider name or spelling we know.
var maxProviderKey = func() int {
	n := 0
	for k := range knownProviders {
		n = max(n, len(k))
	}
	for k := range providerSpellings {
		n = max(n, len(k))
	}
	return n
}()

// canonicalProvider turns a provider name as sent into gen_ai.provider.name form:
// known spellings are mapped; the Vercel AI SDK's "openai.chat" style loses its API
// suffix; anything else is lower-cased and capped.
func canonicalProvider(_ key, raw string) string {
	// Only a name's first bytes can spell a known provider, and only 64 become the
	// label: the rest is never lower-cased or hashed, however long the value.
	p := strings.ToLower(capText(strings.TrimSpace(raw), max(maxProviderKey+1, maxLabelLen)))
	if p == "" {
		return ""
	}
	for s := p; ; {
		if len(s) > maxProviderKey {
			// Too long to be a spelling: go to the longest '.'-prefix that is not.
			i := strings.LastIndexByte(s[:maxProviderKey+1], '.')
			if i <= 0 {
				break
			}
			s = s[:i]
			continue
		}
		if knownProviders[s] {
			return s
		}
		if c, ok := providerSpellings[s]; ok {
			return c
		}
		i := strings.LastIndexByte(s, '.')
		if i <= 0 {
			break
		}
		s = s[:i]
	}
	return capText(p, maxLabelLen)
}

// capText cuts s to at most n bytes on a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// labelSet bounds how many distinct unpriced model names become llm_cost.model values
// (and so metric labels): past the limit, new names are reported as "_other".
type labelSet struct {
	mu    sync.Mutex
	limit int
	seen  map[string]struct{}
}

const otherLabel = "_other"

func newLabelSet(limit int) *labelSet {
	return &labelSet{limit: limit, seen: map[string]struct{}{}}
}

func (l *labelSet) label(raw string) string {
	s := capText(strings.ToLower(capText(strings.TrimSpace(raw), 4*maxLabelLen)), maxLabelLen)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[s]; ok {
		return s
	}
	if len(l.seen) >= l.limit {
		return otherLabel
	}
	s = strings.Clone(s) // a cut of the attribute value would keep all of it alive
	l.seen[s] = struct{}{}
	return s
}
