//go:generate go tool mdatagen metadata.yaml
//go:generate go run ./internal/pricegen -out internal/pricing/table.json

// Package llmcost implements the llm_cost processor: it normalises GenAI token usage
// from the instrumentation conventions in use, resolves the model to a price entry and
// writes the cost in USD, with how it was found, onto each LLM span and log record.
package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"
