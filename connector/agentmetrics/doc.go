//go:generate go tool mdatagen metadata.yaml

// Package agentmetrics implements the agent_metrics connector: in one pass over each
// batch of spans it counts the LLM calls, tokens and cost that llm_cost recorded, agent
// executions and tool calls, HTTP server requests and database client operations, and
// emits them as cumulative metrics with bounded labels.
package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"
