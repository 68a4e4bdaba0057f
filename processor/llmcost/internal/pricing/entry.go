package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Entry is one price in the processor's own override format, used by the inline
// `prices:` setting and by price files of format `llm_cost`. Prices are USD per
// million tokens (requests_kcount: USD per thousand requests).
type Entry struct {
	// ID names the entry; it is written as llm_cost.model and, without Match, is the
	// model name the entry prices (compared case-insensitively).
	ID string `mapstructure:"id"`
	// Provider scopes the entry to spans of this provider (or spans without one).
	Provider string `mapstructure:"provider"`
	// Match replaces the exact-id match with a rule.
	Match *Rule `mapstructure:"match"`
	// StartDate (YYYY-MM-DD, UTC) makes this price apply from that day on; several
	// entries with the same id and provider form a price history.
	StartDate string `mapstructure:"start_date"`

	Rates `mapstructure:",squash"`

	// Tiers reprice every token of a request whose input tokens exceed a threshold.
	Tiers []EntryTier `mapstructure:"tiers"`
}

// Rates are the per-bucket prices of an Entry or a tier.
type Rates struct {
	InputMTok           *float64 `mapstructure:"input_mtok"`
	OutputMTok          *float64 `mapstructure:"output_mtok"`
	CacheReadMTok       *float64 `mapstructure:"cache_read_mtok"`
	CacheWriteMTok      *float64 `mapstructure:"cache_write_mtok"`
	CacheWrite1hMTok    *float64 `mapstructure:"cache_write_1h_mtok"`
	OutputReasoningMTok *float64 `mapstructure:"output_reasoning_mtok"`
	RequestsKCount      *float64 `mapstructure:"requests_kcount"`
}

// EntryTier is a price that applies to every token once the input exceeds AboveInputTokens.
type EntryTier struct {
	AboveInputTokens int64 `mapstructure:"above_input_tokens"`
	Rates            `mapstructure:",squash"`
}

func checkPrice(field string, v *float64) error {
	if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) {
		return fmt.Errorf("%s %v must be a finite number >= 0", field, *v)
	}
	return nil
}

// checkTokenPrice is checkPrice with the upper bound of a per-token price.
func checkTokenPrice(field string, v *float64) error {
	if err := checkPrice(field, v); err != nil {
		return err
	}
	if v != nil && *v > MaxTokenPrice {
		return fmt.Errorf("%s %v is above the most a token may cost (%g USD per million tokens)", field, *v, float64(MaxTokenPrice))
	}
	return nil
}

func (r *Rates) validate(prefix string) error {
	return errors.Join(
		checkTokenPrice(prefix+"input_mtok", r.InputMTok),
		checkTokenPrice(prefix+"output_mtok", r.OutputMTok),
		checkTokenPrice(prefix+"cache_read_mtok", r.CacheReadMTok),
		checkTokenPrice(prefix+"cache_write_mtok", r.CacheWriteMTok),
		checkTokenPrice(prefix+"cache_write_1h_mtok", r.CacheWrite1hMTok),
		checkTokenPrice(prefix+"output_reasoning_mtok", r.OutputReasoningMTok),
		checkPrice(prefix+"requests_kcount", r.RequestsKCount),
	)
}

func (r *Rates) empty() bool {
	return r.InputMTok == nil && r.OutputMTok == nil && r.CacheReadMTok == nil && r.CacheWriteMTok == nil &&
		r.CacheWrite1hMTok == nil && r.OutputReasoningMTok == nil && r.RequestsKCount == nil
}

// check checks one entry; the error names the field and the bad value. It is not named
// Validate: the collector validates every nested struct that has a Validate method, and
// would report each problem a second time, without the entry's index and id.
func (e *Entry) check() error {
	var errs []error
	if strings.TrimSpace(e.ID) == "" {
		errs = append(errs, errors.New("id must not be empty"))
	}
	if e.Rates.InputMTok == nil && e.Rates.OutputMTok == nil {
		errs = append(errs, errors.New("needs input_mtok or output_mtok (USD per million tokens)"))
	}
	errs = append(errs, e.Rates.validate(""))
	if e.StartDate != "" {
		if _, err := time.Parse(time.DateOnly, e.StartDate); err != nil {
			errs = append(errs, fmt.Errorf("start_date %q must be a date, YYYY-MM-DD", e.StartDate))
		}
	}
	if e.Match != nil {
		if err := e.Match.Compile(); err != nil {
			errs = append(errs, fmt.Errorf("match: %w", err))
		}
	}
	for i, t := range e.Tiers {
		if t.AboveInputTokens <= 0 {
			errs = append(errs, fmt.Errorf("tiers[%d]: above_input_tokens %d must be > 0", i, t.AboveInputTokens))
		}
		if t.Rates.empty() {
			errs = append(errs, fmt.Errorf("tiers[%d]: needs at least one price", i))
		}
		errs = append(errs, t.Rates.validate(fmt.Sprintf("tiers[%d]: ", i)))
	}
	return errors.Join(errs...)
}

// Models turns entries into price entries: entries with the same id and provider
// become one entry whose periods start at their start dates.
func Models(entries []Entry) ([]*Model, error) {
	type key struct{ id, provider string }
	type dated struct {
		key
		start int64
	}
	byKey := map[key]*Model{}
	starts := map[dated]struct{}{} // one look-up per entry: a long history is not compared pairwise
	var order []*Model
	for i := range entries {
		e := &entries[i]
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("prices[%d] %q: %w", i, e.ID, err)
		}
		k := key{strings.ToLower(e.ID), strings.ToLower(e.Provider)}
		m := byKey[k]
		if m == nil {
			m = &Model{ID: e.ID, Provider: strings.ToLower(e.Provider), Match: e.Match}
			byKey[k] = m
			order = append(order, m)
		} else if e.Match != nil {
			m.Match = e.Match
		}
		per := Period{Prices: e.priceSet()}
		if e.StartDate != "" {
			d, _ := time.Parse(time.DateOnly, e.StartDate)
			per.StartDate = d.UnixNano()
		}
		if _, dup := starts[dated{k, per.StartDate}]; dup {
			return nil, fmt.Errorf("prices[%d] %q: another entry with the same id and provider has the same start_date %q: give each entry of a price history its own start_date, or a different provider", i, e.ID, e.StartDate)
		}
		starts[dated{k, per.StartDate}] = struct{}{}
		m.Periods = append(m.Periods, per)
	}
	for _, m := range order {
		sort.SliceStable(m.Periods, func(i, j int) bool { return m.Periods[i].StartDate < m.Periods[j].StartDate })
	}
	return order, nil
}

func (e *Entry) priceSet() PriceSet {
	var ps PriceSet
	set := func(dst **Rate, base *float64, tier func(*Rates) *float64) {
		var r *Rate
		if base != nil {
			r = &Rate{Base: *base}
		}
		for _, t := range e.Tiers {
			if v := tier(&t.Rates); v != nil {
				if r == nil {
					// A bucket priced only above a threshold costs nothing below it.
					r = &Rate{}
				}
				r.Tiers = append(r.Tiers, Tier{Start: t.AboveInputTokens, Price: *v})
			}
		}
		if r != nil {
			sort.Slice(r.Tiers, func(i, j int) bool { return r.Tiers[i].Start < r.Tiers[j].Start })
		}
		*dst = r
	}
	set(&ps.Input, e.InputMTok, func(r *Rates) *float64 { return r.InputMTok })
	set(&ps.Output, e.OutputMTok, func(r *Rates) *float64 { return r.OutputMTok })
	set(&ps.CacheRead, e.CacheReadMTok, func(r *Rates) *float64 { return r.CacheReadMTok })
	set(&ps.CacheWrite, e.CacheWriteMTok, func(r *Rates) *float64 { return r.CacheWriteMTok })
	set(&ps.CacheWrite1h, e.CacheWrite1hMTok, func(r *Rates) *float64 { return r.CacheWrite1hMTok })
	set(&ps.Reasoning, e.OutputReasoningMTok, func(r *Rates) *float64 { return r.OutputReasoningMTok })
	if e.RequestsKCount != nil {
		ps.RequestsKCount = *e.RequestsKCount
	}
	return ps
}
