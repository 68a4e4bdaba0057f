package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"math"
	"strconv"
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
	idxNoUsage
	idxDuplicate
	numStatus
	idxNone = -1
)

var statusNames = [numStatus]string{statusPriced, statusProvided, statusUnpriced, statusInvalid, statusSkipped,
	statusNoUsage, statusDup}

// providedMode is what the processor does with a cost the app sent (provided_cost).
type providedMode uint8

const (
	// providedFallback prices every call the table can price and uses the app's
	// figure only when it cannot (the default).
	providedFallback providedMode = iota
	// providedPrefer keeps the app's figure whenever it sent one (for apps that know
	// negotiated prices).
	providedPrefer
	// providedIgnore never uses the app's figure.
	providedIgnore
)

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
	snap      atomic.Pointer[snapshot]
	aliases   map[string]string
	provided  providedMode
	cacheSize int
	labels    *labelSet
	tiers     *tierTable
}

func newEngine(cfg *Config, table *pricing.Table) *engine {
	aliases := make(map[string]string, len(cfg.Aliases))
	for k, v := range cfg.Aliases {
		aliases[strings.ToLower(strings.TrimSpace(k))] = v
	}
	builtin, err := builtinTiers()
	if err != nil {
		panic(err) // servicetiers.yaml is part of the build and checked by its tests
	}
	e := &engine{aliases: aliases, provided: cfg.providedMode(), cacheSize: cfg.CacheSize,
		labels: newLabelSet(cfg.UnpricedModelLimit), tiers: newTierTable(builtin, cfg.ServiceTiers)}
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
// process leaves in it what the traces processor needs to find duplicate calls.
type record struct {
	f    fields
	call callInfo
	// unknownTier and mismatch are counted by the processor: a service tier that is
	// no tier, an app's cost more than 1% away from the table's.
	unknownTier, mismatch bool
}

// callInfo describes the LLM call a record reports, for finding two records of one
// call (see dedup.go).
type callInfo struct {
	usage    pricing.Usage
	hasUsage bool  // usage read and valid (priced, provided, unpriced)
	reported uint8 // hasCacheRead, hasCacheWrite, hasReasoning: the details reported
	detail   uint8 // how many optional usage details and a tier the record reports
	model    *pricing.Model
	name     string // the model name as sent, when unpriced
	respID   string // gen_ai.response.id; points into the record's memory
	// wroteCost: gen_ai.usage.cost is ours; appCost: the app sent gen_ai.usage.cost.
	wroteCost, appCost bool
}

// process prices one span or log record in place and returns the status index it was
// given, or idxNone when it is not an LLM call (or was priced upstream already). scope
// is the instrumentation scope's name, which decides some sources' token semantics.
func (e *engine) process(rec *record, attrs pcommon.Map, name, scope string, startNanos int64) int {
	f := &rec.f
	f.scan(attrs)
	rec.unknownTier, rec.mismatch = false, false
	if f.none() || f.has(kStatus) {
		return idxNone
	}
	k, conv := classify(f, name)
	switch {
	case k == kindOther:
		return idxNone
	case k == kindAggregate, f.str(kSpanType) == "pending_span":
		// Aggregates repeat their children's usage; Logfire's pending spans are a copy
		// of a span's start, written while it runs (the span itself comes later).
		attrs.PutStr(attrStatus, statusSkipped)
		return idxSkipped
	}
	s := e.snap.Load()

	pk, providerRaw := providerOf(f)
	modelRaw := modelOf(f, conv)
	var res *resolved
	if modelRaw != "" {
		res = e.resolve(s, modelRef{providerKey: pk, provider: providerRaw, model: modelRaw})
	} else if providerRaw != "" {
		res = &resolved{provider: canonicalProvider(pk, providerRaw)}
	}

	var provider string
	if res != nil {
		provider = res.provider
	}
	counts, uerr := readCounts(f, conv, sourceOf(scope, f, provider))
	var usage pricing.Usage
	var note string
	if uerr == "" {
		usage, note, uerr = canonical(counts)
	}
	tier, rawTier, badTier := reportedTier(f, counts.tier)
	if badTier {
		rec.unknownTier = true
		note = joinNotes(note, "service tier "+strconv.Quote(rawTier)+" is not a tier: priced as standard")
	}

	attrs.EnsureCapacity(attrs.Len() + 16)
	e.writeCanonical(attrs, f, conv, res, usage, uerr == "")
	c := &rec.call
	*c = callInfo{hasUsage: uerr == "", usage: usage, respID: f.str(kResponseID), appCost: f.has(kCostGenAI),
		detail: detailOf(&counts, tier), reported: reportedOf(&counts)}
	if res != nil {
		c.model = res.model
	}
	if c.model == nil {
		c.name = modelRaw
	}

	st := e.price(rec, attrs, s, res, usage, uerr, modelRaw == "", tier, startNanos, &note)
	if tier != "" {
		attrs.PutStr(attrServiceTier, tier)
	}
	if note != "" {
		attrs.PutStr(attrNote, capText(note, maxErrorLen))
	}
	return st
}

// price decides the status of an inference record and writes its cost and provenance.
func (e *engine) price(rec *record, attrs pcommon.Map, s *snapshot, res *resolved, usage pricing.Usage,
	uerr usageError, noModel bool, tier string, startNanos int64, note *string,
) int {
	f := &rec.f
	version := s.table.Version
	costKey, provided, hasProvided, badProvided := providedCost(f)
	if badProvided != "" && e.provided == providedIgnore {
		// The app's figure is never used: one that is no amount does not make the
		// call invalid. It is not what the call costs either.
		dropProvided(attrs, costKey)
		*note = joinNotes(*note, string(badProvided)+": ignored")
		hasProvided, badProvided = false, ""
	}
	usable := hasProvided && badProvided == "" && e.provided != providedIgnore
	switch {
	case hasProvided && badProvided != "":
		dropProvided(attrs, costKey)
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, string(badProvided))
		return idxInvalid
	case usable && e.provided == providedPrefer && (provided > 0 || usage.Input+usage.Output == 0):
		return e.keepProvided(attrs, costKey, provided, res, version)
	case uerr == errNoUsage:
		if usable {
			return e.keepProvided(attrs, costKey, provided, res, version)
		}
		writeProvenance(attrs, statusNoUsage, res, version)
		return idxNoUsage
	case uerr != "":
		moveProvided(attrs, costKey, provided, hasProvided)
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, string(uerr))
		return idxInvalid
	case noModel || res.model == nil:
		if usable && provided > 0 {
			// The table cannot price the call: the app's figure is the best there is.
			return e.keepProvided(attrs, costKey, provided, res, version)
		}
		moveProvided(attrs, costKey, provided, hasProvided)
		if noModel {
			writeProvenance(attrs, statusInvalid, res, version)
			attrs.PutStr(attrError, "no model name reported")
			return idxInvalid
		}
		writeProvenance(attrs, statusUnpriced, res, version)
		return idxUnpriced
	}
	if startNanos <= 0 {
		startNanos = time.Now().UnixNano()
	}
	c := res.model.PricesAt(startNanos).Cost(usage)
	if tier != "" && tier != tierStandard {
		var tierNote string
		c, tierNote = e.tiers.tierCost(e.tierProvider(s, res), res.model, tier, usage, c)
		*note = joinNotes(*note, tierNote)
	}
	if c.Total > maxCallCost {
		moveProvided(attrs, costKey, provided, hasProvided)
		writeProvenance(attrs, statusInvalid, res, version)
		attrs.PutStr(attrError, "the usage prices at over 1000 USD for one call: not plausible token counts")
		return idxInvalid
	}
	if hasProvided {
		// The app's own figure stays beside ours; one that disagrees by more than 1%
		// is marked and counted.
		attrs.PutDouble(attrProvidedCost, provided)
		if math.Abs(provided-c.Total) > 0.01*c.Total {
			rec.mismatch = true
			attrs.PutBool(attrCostMismatch, true)
		}
	}
	attrs.PutDouble(attrCost, c.Total)
	rec.call.wroteCost = true
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

// keepProvided gives a record the app's own cost (status provided), copied to
// gen_ai.usage.cost when the app sent it under another name.
func (e *engine) keepProvided(attrs pcommon.Map, costKey key, provided float64, res *resolved, version string) int {
	if costKey != kCostGenAI {
		attrs.PutDouble(attrCost, provided)
	}
	writeProvenance(attrs, statusProvided, res, version)
	return idxProvided
}

// moveProvided keeps the app's cost of a call that is not priced (or not with it) in
// llm_cost.provided_cost, and takes gen_ai.usage.cost off it: that attribute is what a
// call costs, and consumers sum it.
func moveProvided(attrs pcommon.Map, costKey key, provided float64, hasProvided bool) {
	if !hasProvided {
		return
	}
	attrs.PutDouble(attrProvidedCost, provided)
	if costKey == kCostGenAI {
		attrs.Remove(attrCost)
	}
}

// dropProvided takes an app's cost that is not an amount off gen_ai.usage.cost
// (llm_cost.error or llm_cost.note quotes it).
func dropProvided(attrs pcommon.Map, costKey key) {
	if costKey == kCostGenAI {
		attrs.Remove(attrCost)
	}
}

// tierProvider is the price-table provider whose service tiers apply: the span's own
// provider, else the one of the model's entry.
func (e *engine) tierProvider(s *snapshot, res *resolved) string {
	if id := s.table.ProviderID(res.provider); id != "" {
		return id
	}
	return strings.ToLower(res.model.Provider)
}

// detailOf counts how much of a call's usage a record reports beyond input and output:
// of two records of one call, the one with more is priced.
func detailOf(c *tokenCounts, tier string) uint8 {
	n := reportedOf(c)
	n = n&1 + n>>1&1 + n>>2&1
	if c.has1h {
		n++
	}
	if tier != "" {
		n++
	}
	return n
}

// reportedOf is the set of usage details (hasCacheRead, ...) a record reports.
func reportedOf(c *tokenCounts) uint8 {
	var r uint8
	if c.hasCacheRead {
		r |= hasCacheRead
	}
	if c.hasCacheWrite {
		r |= hasCacheWrite
	}
	if c.hasReasoning {
		r |= hasReasoning
	}
	return r
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
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
