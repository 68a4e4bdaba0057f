package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// A group is every series that share one span-derived label set, so that a span costs
// one map lookup instead of one per metric: for an LLM call the requests, duration,
// token, cost and unpriced series of its (service, provider, model, operation). Member
// series are created on first use through their metric's state, which owns them and
// bounds their number; groups are bounded the same way.
type group struct {
	key      labelKey
	overflow bool
	series   [groupSlots]*series
	// byAgent holds the cost series of an LLM group, by agent label.
	byAgent map[string]*series
}

// Slots of a group's series. Which slots a group uses depends on its kind.
const (
	slotOK = iota
	slotError
	slotDuration
	slotUnpriced
	slotTokens                 // numTokenTypes slots follow
	slotClass   = slotTokens   // HTTP groups: one slot per status class
	slotRunCost = slotUnpriced // agent groups: agent.run.cost.usd
	groupSlots  = slotTokens + numTokenTypes + 1
)

type groupSet struct {
	groups   map[labelKey]*group
	overflow *group
}

func newGroupSet() groupSet { return groupSet{groups: make(map[labelKey]*group)} }

// get returns the group for k; past maxGroups, one shared group whose series are the
// metrics' overflow series.
func (gs *groupSet) get(k *labelKey, maxGroups int) *group {
	if g, ok := gs.groups[*k]; ok {
		return g
	}
	if len(gs.groups) >= maxGroups {
		if gs.overflow == nil {
			gs.overflow = &group{overflow: true}
		}
		return gs.overflow
	}
	g := &group{}
	for i := range k {
		g.key[i] = strings.Clone(k[i])
	}
	gs.groups[g.key] = g
	return g
}

// member returns the group's series in slot of metric m, creating it on first use with
// the label values labels writes (from the group's key).
func (c *agentMetrics) member(g *group, slot, m int, labels func(*labelKey), now pcommon.Timestamp) *series {
	if s := g.series[slot]; s != nil {
		return s
	}
	var s *series
	if g.overflow {
		s = c.metrics[m].overflowSeries(now, c.overflow)
	} else {
		var k labelKey
		labels(&k)
		s = c.metrics[m].get(&k, now, c.cfg.MaxSeries, c.overflow)
	}
	g.series[slot] = s
	return s
}

// costSeries returns the LLM cost series of group g for agent.
func (c *agentMetrics) costSeries(g *group, agent string, now pcommon.Timestamp) *series {
	if s, ok := g.byAgent[agent]; ok {
		return s
	}
	if valid := c.validLabel(agent); valid != agent {
		agent = valid // see agentMetrics.group
		if s, ok := g.byAgent[agent]; ok {
			return s
		}
	}
	if g.overflow {
		return c.metrics[mLLMCost].overflowSeries(now, c.overflow)
	}
	k := labelKey{g.key[0], g.key[1], g.key[2], agent}
	s := c.metrics[mLLMCost].get(&k, now, c.cfg.MaxSeries, c.overflow)
	if g.byAgent == nil {
		g.byAgent = make(map[string]*series, 2)
	}
	// Only a series of its own is remembered: every agent past max_series shares the
	// overflow series, and remembering each of them would let this map grow without the
	// bound the metric keeps (max_series groups times max_series agents).
	if s != c.metrics[mLLMCost].overflow && len(g.byAgent) < c.cfg.MaxSeries {
		g.byAgent[strings.Clone(agent)] = s
	}
	return s
}
