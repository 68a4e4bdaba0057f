package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"bytes"
	_ "embed" // the generated price table
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Period is a set of prices with the condition under which it applies.
type Period struct {
	// StartDate (unix nanoseconds, UTC midnight) is the first instant the prices apply;
	// 0 means always.
	StartDate int64
	// Daily windows (seconds since UTC midnight) restrict the prices to a time of day,
	// [DailyStart, DailyEnd), wrapping at midnight when DailyStart > DailyEnd.
	Daily                bool
	DailyStart, DailyEnd int64
	Prices               PriceSet
}

func (p *Period) activeAt(unixNano int64) bool {
	if p.StartDate != 0 && unixNano < p.StartDate {
		return false
	}
	if p.Daily {
		sec := (unixNano / int64(time.Second)) % 86400
		if sec < 0 {
			sec += 86400
		}
		if p.DailyStart <= p.DailyEnd {
			return sec >= p.DailyStart && sec < p.DailyEnd
		}
		return sec >= p.DailyStart || sec < p.DailyEnd
	}
	return true
}

// Model is one price entry.
type Model struct {
	// ID is the entry's identifier, written as llm_cost.model.
	ID string
	// Provider is the id of the table provider the entry belongs to; for overrides,
	// the provider it is scoped to ("" = any).
	Provider string
	// Match selects the model names the entry prices; nil means the ID, exactly.
	Match *Rule
	// Periods are tried last to first; the first active one applies, else the first.
	Periods []Period
	// Override marks entries from the configuration or price files.
	Override bool

	lowerID string
}

// PricesAt returns the prices in force at unixNano (a span's start time).
func (m *Model) PricesAt(unixNano int64) *PriceSet {
	last := len(m.Periods) - 1
	if last >= 8 {
		// A long price history (a user's file can hold thousands of dates): the
		// periods that start later cannot apply, so start from the last that does not.
		last = sort.Search(len(m.Periods), func(i int) bool { return m.Periods[i].StartDate > unixNano }) - 1
	}
	for i := last; i > 0; i-- {
		if m.Periods[i].activeAt(unixNano) {
			return &m.Periods[i].Prices
		}
	}
	// The first period applies when no later one does, even outside its own
	// condition: no earlier price is known.
	return &m.Periods[0].Prices
}

func (m *Model) matches(name string) bool {
	if m.Match == nil {
		return name == m.lowerID
	}
	return m.Match.Match(name)
}

func (m *Model) compile() error {
	if strings.TrimSpace(m.ID) == "" {
		return fmt.Errorf("a price entry needs an id")
	}
	m.lowerID = strings.ToLower(m.ID)
	if m.Match != nil {
		if err := m.Match.Compile(); err != nil {
			return fmt.Errorf("price entry %q: %w", m.ID, err)
		}
	}
	if len(m.Periods) == 0 {
		return fmt.Errorf("price entry %q has no prices", m.ID)
	}
	for i := range m.Periods {
		if err := m.Periods[i].Prices.validate(); err != nil {
			return fmt.Errorf("price entry %q: %w", m.ID, err)
		}
	}
	return nil
}

// Provider is a group of price entries with the rules that find it.
type Provider struct {
	ID string
	// ProviderMatch finds the provider from a provider name; ModelMatch from a model
	// name when no provider is known.
	ProviderMatch, ModelMatch *Rule
	// Fallbacks are providers whose models this one also serves (Azure serves OpenAI's).
	Fallbacks []string
	Models    []*Model

	byID map[string]*Model
}

// Table is a complete, immutable price table: the built-in entries plus overrides.
// Build one with NewTable; it is safe for concurrent use.
type Table struct {
	// Version is written as llm_cost.pricing_version: where the prices come from and
	// their date.
	Version string
	// Date is the date of the table's data, when its pricing_version is a date.
	Date      time.Time
	Providers []*Provider
	Overrides []*Model

	byID        map[string]*Provider
	globalOrder []*Provider
	overByID    map[string][]*Model
}

// preferred providers are searched first when a span names no provider, so that a
// bare model name resolves to its maker's price rather than a reseller's.
var preferred = []string{"openai", "anthropic", "google", "mistral", "cohere", "deepseek", "x-ai", "groq", "aws", "azure"}

// NewTable indexes providers and overrides; it fails on an invalid entry or rule.
func NewTable(version string, providers []*Provider, overrides []*Model) (*Table, error) {
	t := &Table{Version: version, Providers: providers, Overrides: overrides,
		byID: make(map[string]*Provider, len(providers)), overByID: map[string][]*Model{}}
	for _, p := range providers {
		if _, dup := t.byID[p.ID]; dup {
			return nil, fmt.Errorf("provider %q listed twice", p.ID)
		}
		t.byID[p.ID] = p
		for _, r := range []*Rule{p.ProviderMatch, p.ModelMatch} {
			if r != nil {
				if err := r.Compile(); err != nil {
					return nil, fmt.Errorf("provider %q: %w", p.ID, err)
				}
			}
		}
		p.byID = make(map[string]*Model, len(p.Models))
		for _, m := range p.Models {
			m.Provider = p.ID
			if err := m.compile(); err != nil {
				return nil, fmt.Errorf("provider %q: %w", p.ID, err)
			}
			if _, dup := p.byID[m.lowerID]; !dup {
				p.byID[m.lowerID] = m
			}
		}
	}
	for _, p := range providers {
		for _, f := range p.Fallbacks {
			if _, ok := t.byID[f]; !ok {
				return nil, fmt.Errorf("provider %q falls back to unknown provider %q", p.ID, f)
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range preferred {
		if p, ok := t.byID[id]; ok {
			t.globalOrder = append(t.globalOrder, p)
			seen[id] = true
		}
	}
	for _, p := range providers {
		if !seen[p.ID] {
			t.globalOrder = append(t.globalOrder, p)
		}
	}
	for _, m := range overrides {
		m.Override = true
		if err := m.compile(); err != nil {
			return nil, err
		}
		t.overByID[m.lowerID] = append(t.overByID[m.lowerID], m)
	}
	return t, nil
}

// Fallbacks returns the ids of the providers whose models the provider with this table
// id also serves, in the data's order (genai-prices' fallback_model_providers: Azure
// serves OpenAI's, Anthropic's, DeepSeek's, ... models), or nil for an unknown id. The
// slice is the table's: do not change it.
func (t *Table) Fallbacks(providerID string) []string {
	if p, ok := t.byID[providerID]; ok {
		return p.Fallbacks
	}
	return nil
}

// ModelCount is the number of entries, built-in and overrides.
func (t *Table) ModelCount() int {
	n := len(t.Overrides)
	for _, p := range t.Providers {
		n += len(p.Models)
	}
	return n
}

// WithOverrides returns a new table with the same built-in entries and the given
// overrides. The receiver is not changed.
func (t *Table) WithOverrides(overrides []*Model) (*Table, error) {
	nt := &Table{Version: t.Version, Date: t.Date, Providers: t.Providers, Overrides: overrides,
		byID: t.byID, globalOrder: t.globalOrder, overByID: map[string][]*Model{}}
	for _, m := range overrides {
		m.Override = true
		if err := m.compile(); err != nil {
			return nil, err
		}
		nt.overByID[m.lowerID] = append(nt.overByID[m.lowerID], m)
	}
	return nt, nil
}

// tableFile is the JSON form of the generated table (see internal/pricegen).
type tableFile struct {
	PricingVersion string `json:"pricing_version"`
	Source         string `json:"source"`
	Providers      []struct {
		ID            string   `json:"id"`
		ProviderMatch *Rule    `json:"provider_match,omitempty"`
		ModelMatch    *Rule    `json:"model_match,omitempty"`
		Fallbacks     []string `json:"fallbacks,omitempty"`
		Models        []struct {
			ID      string         `json:"id"`
			Match   *Rule          `json:"match,omitempty"`
			Periods []periodRecord `json:"prices"`
		} `json:"models"`
	} `json:"providers"`
}

// periodRecord is one period in the generated table.
type periodRecord struct {
	StartDate string   `json:"start_date,omitempty"`
	StartTime string   `json:"start_time,omitempty"`
	EndTime   string   `json:"end_time,omitempty"`
	Prices    PriceSet `json:"prices"`
}

func (r periodRecord) period() (Period, error) {
	p := Period{Prices: r.Prices}
	if r.StartDate != "" {
		d, err := time.Parse(time.DateOnly, r.StartDate)
		if err != nil {
			return p, fmt.Errorf("start_date %q is not YYYY-MM-DD", r.StartDate)
		}
		p.StartDate = d.UnixNano()
	}
	if r.StartTime != "" || r.EndTime != "" {
		s, err1 := secondsOfDay(r.StartTime)
		e, err2 := secondsOfDay(r.EndTime)
		if err1 != nil || err2 != nil {
			return p, fmt.Errorf("start_time %q / end_time %q are not HH:MM:SS", r.StartTime, r.EndTime)
		}
		p.Daily, p.DailyStart, p.DailyEnd = true, s, e
	}
	return p, nil
}

func secondsOfDay(s string) (int64, error) {
	t, err := time.Parse("15:04:05", strings.TrimSuffix(s, "Z"))
	if err != nil {
		return 0, err
	}
	return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()), nil
}

// ParseTable decodes a table in the generated JSON form.
func ParseTable(b []byte) (*Table, error) {
	var f tableFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("price table: %w", err)
	}
	providers := make([]*Provider, 0, len(f.Providers))
	for _, fp := range f.Providers {
		p := &Provider{ID: fp.ID, ProviderMatch: fp.ProviderMatch, ModelMatch: fp.ModelMatch, Fallbacks: fp.Fallbacks}
		for _, fm := range fp.Models {
			m := &Model{ID: fm.ID, Match: fm.Match}
			for _, rec := range fm.Periods {
				per, err := rec.period()
				if err != nil {
					return nil, fmt.Errorf("price table: model %q: %w", fm.ID, err)
				}
				m.Periods = append(m.Periods, per)
			}
			p.Models = append(p.Models, m)
		}
		providers = append(providers, p)
	}
	t, err := NewTable(f.PricingVersion, providers, nil)
	if err != nil {
		return nil, err
	}
	t.Date, _ = time.Parse(time.DateOnly, f.PricingVersion)
	return t, nil
}

//go:embed table.json
var builtinJSON []byte

var (
	builtinOnce  sync.Once
	builtinTable *Table
	builtinErr   error
)

// Builtin returns the embedded table. It is parsed once; the result is shared and
// must not be changed (use WithOverrides). Its Version, written as
// llm_cost.pricing_version, is "embedded " and the date of its genai-prices data.
func Builtin() (*Table, error) {
	builtinOnce.Do(func() {
		builtinTable, builtinErr = ParseTable(builtinJSON)
		if builtinErr == nil {
			builtinTable.Version = "embedded " + builtinTable.Version
		}
	})
	return builtinTable, builtinErr
}
