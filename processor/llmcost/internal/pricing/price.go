package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Rate is a price in USD per million tokens. With tiers, the rate of the highest tier
// whose start the request's total input tokens exceed applies to every token of that
// type (the "cliff" model providers use for long-context prices), not only to the
// tokens above the threshold.
type Rate struct {
	Base  float64
	Tiers []Tier
}

// Tier is the rate that applies once a request's total input tokens exceed Start.
type Tier struct {
	Start int64   `json:"start"`
	Price float64 `json:"price"`
}

// Flat returns a rate without tiers.
func Flat(usdPerMTok float64) *Rate { return &Rate{Base: usdPerMTok} }

// At returns the rate that applies for a request with totalInput input tokens.
func (r *Rate) At(totalInput int64) float64 {
	p := r.Base
	for i := range r.Tiers {
		if totalInput > r.Tiers[i].Start {
			p = r.Tiers[i].Price
		}
	}
	return p
}

// MaxTokenPrice is the most a token may cost, in USD per million tokens (1 USD per
// token). A larger price is a mistake in a price file, and with up to 2^40 tokens a
// call it could price a call at an infinite cost.
const MaxTokenPrice = 1e6

func (r *Rate) validate() error {
	if math.IsNaN(r.Base) || math.IsInf(r.Base, 0) || r.Base < 0 {
		return fmt.Errorf("price %v must be a finite number >= 0", r.Base)
	}
	if r.Base > MaxTokenPrice {
		return fmt.Errorf("price %v is above the most a token may cost (%g USD per million tokens)", r.Base, float64(MaxTokenPrice))
	}
	if !sort.SliceIsSorted(r.Tiers, func(i, j int) bool { return r.Tiers[i].Start < r.Tiers[j].Start }) {
		sort.Slice(r.Tiers, func(i, j int) bool { return r.Tiers[i].Start < r.Tiers[j].Start })
	}
	for _, t := range r.Tiers {
		if t.Start <= 0 {
			return fmt.Errorf("tier start %d must be > 0", t.Start)
		}
		if math.IsNaN(t.Price) || math.IsInf(t.Price, 0) || t.Price < 0 {
			return fmt.Errorf("tier price %v must be a finite number >= 0", t.Price)
		}
		if t.Price > MaxTokenPrice {
			return fmt.Errorf("tier price %v is above the most a token may cost (%g USD per million tokens)", t.Price, float64(MaxTokenPrice))
		}
	}
	return nil
}

// UnmarshalJSON accepts a plain number or {"base": n, "tiers": [{"start": n, "price": n}]}.
func (r *Rate) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var t struct {
			Base  *float64 `json:"base"`
			Tiers []Tier   `json:"tiers"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return err
		}
		if t.Base == nil {
			return errors.New(`tiered price needs "base"`)
		}
		r.Base, r.Tiers = *t.Base, t.Tiers
		return nil
	}
	r.Tiers = nil
	return json.Unmarshal(b, &r.Base)
}

// MarshalJSON writes a plain number when there are no tiers.
func (r Rate) MarshalJSON() ([]byte, error) {
	if len(r.Tiers) == 0 {
		return json.Marshal(r.Base)
	}
	return json.Marshal(struct {
		Base  float64 `json:"base"`
		Tiers []Tier  `json:"tiers"`
	}{r.Base, r.Tiers})
}

// PriceSet is what one model costs during one period. A nil rate is not priced
// separately: see Cost for the fallbacks.
type PriceSet struct {
	Input          *Rate   `json:"input_mtok,omitempty"`
	Output         *Rate   `json:"output_mtok,omitempty"`
	CacheRead      *Rate   `json:"cache_read_mtok,omitempty"`
	CacheWrite     *Rate   `json:"cache_write_mtok,omitempty"`
	CacheWrite1h   *Rate   `json:"cache_write_1h_mtok,omitempty"`
	Reasoning      *Rate   `json:"output_reasoning_mtok,omitempty"`
	RequestsKCount float64 `json:"requests_kcount,omitempty"`
}

func (ps *PriceSet) validate() error {
	for _, r := range []*Rate{ps.Input, ps.Output, ps.CacheRead, ps.CacheWrite, ps.CacheWrite1h, ps.Reasoning} {
		if r != nil {
			if err := r.validate(); err != nil {
				return err
			}
		}
	}
	if math.IsNaN(ps.RequestsKCount) || math.IsInf(ps.RequestsKCount, 0) || ps.RequestsKCount < 0 {
		return fmt.Errorf("requests_kcount %v must be a finite number >= 0", ps.RequestsKCount)
	}
	return nil
}

// Usage is the token usage of one request in canonical form: Input counts every input
// token including cache reads and writes, Output every output token including
// reasoning. CacheWrite1h is the part of CacheWrite written with a one-hour TTL.
type Usage struct {
	Input, Output, CacheRead, CacheWrite, CacheWrite1h, Reasoning int64
}

// Cost is a priced request in USD, by bucket. The buckets add up to Total.
type Cost struct {
	Total, Input, Output, CacheRead, CacheWrite, Reasoning, Request float64
}

const perMillion = 1e-6

// Cost prices u. The caller guarantees 0 <= CacheRead+CacheWrite <= Input,
// CacheWrite1h <= CacheWrite and Reasoning <= Output.
//
// Buckets without a price of their own fall back to the closest one that has one:
// cache reads and writes to the input price (they are input tokens the provider did
// not discount), one-hour cache writes to the cache-write price, reasoning to the
// output price. A model without an input or output price charges nothing for it
// (free models in the table have no prices at all).
func (ps *PriceSet) Cost(u Usage) Cost {
	in := u.Input
	var c Cost
	uncached := u.Input - u.CacheRead - u.CacheWrite
	c.Input = float64(uncached) * rateAt(ps.Input, nil, nil, in) * perMillion
	c.CacheRead = float64(u.CacheRead) * rateAt(ps.CacheRead, ps.Input, nil, in) * perMillion
	c.CacheWrite = float64(u.CacheWrite-u.CacheWrite1h)*rateAt(ps.CacheWrite, ps.Input, nil, in)*perMillion +
		float64(u.CacheWrite1h)*rateAt(ps.CacheWrite1h, ps.CacheWrite, ps.Input, in)*perMillion
	c.Output = float64(u.Output-u.Reasoning) * rateAt(ps.Output, nil, nil, in) * perMillion
	c.Reasoning = float64(u.Reasoning) * rateAt(ps.Reasoning, ps.Output, nil, in) * perMillion
	c.Request = ps.RequestsKCount / 1000
	c.Total = c.Input + c.CacheRead + c.CacheWrite + c.Output + c.Reasoning + c.Request
	return c
}

func rateAt(r, fallback, fallback2 *Rate, totalInput int64) float64 {
	switch {
	case r != nil:
		return r.At(totalInput)
	case fallback != nil:
		return fallback.At(totalInput)
	case fallback2 != nil:
		return fallback2.At(totalInput)
	}
	return 0
}
