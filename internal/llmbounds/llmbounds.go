// Package llmbounds holds what one LLM call can plausibly report, shared by llm_cost
// (which marks a call beyond them invalid) and agent_metrics (which leaves such a call's
// figures out of its totals, whoever set its llm_cost.status).
package llmbounds // import "github.com/procode-ai/otelcol-procode/internal/llmbounds"

// MaxTokens bounds a token count of one call: larger ones are reported as invalid
// rather than turned into an absurd cost, and can make no total overflow.
const MaxTokens = 1 << 40

// MaxCallCostUSD bounds the cost of one call: far above any real call (a whole context
// window of the dearest model costs tens of dollars), far below what a client claiming
// absurd usage or cost would add to every cost total and alert.
const MaxCallCostUSD = 1000
