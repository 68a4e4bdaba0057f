package agentmetrics // import "github.com/procode-ai/otelcol-procode/connector/agentmetrics"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/procode-ai/otelcol-procode/connector/agentmetrics/internal/metadata"
)

// Default histogram buckets, in seconds.
var (
	// OTel GenAI semantic conventions: gen_ai.client.operation.duration.
	defaultLLMBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	// Agent runs take seconds to minutes.
	defaultAgentBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	// OTel HTTP semantic conventions: http.server.request.duration.
	defaultHTTPBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	// OTel database semantic conventions: db.client.operation.duration.
	defaultDBBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}
	// Cost of one agent run, in USD: a cent to tens of dollars.
	defaultRunCostBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25}
)

// NewFactory returns the factory of the agent_metrics connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type, createDefaultConfig,
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		FlushInterval:  15 * time.Second,
		MaxSeries:      5000,
		MaxLabelLength: 64,
		LLM:            GroupConfig{Enabled: true, Buckets: defaultLLMBuckets},
		Agent:          GroupConfig{Enabled: true, Buckets: defaultAgentBuckets},
		HTTP:           GroupConfig{Enabled: true, Buckets: defaultHTTPBuckets},
		DB:             GroupConfig{Enabled: true, Buckets: defaultDBBuckets},
		CostDimensions: CostDimensionsConfig{MaxValues: 100},
		AgentRunCost: AgentRunCostConfig{Enabled: true, Buckets: defaultRunCostBuckets,
			Settle: 30 * time.Second, MaxOpenRuns: 10000},
	}
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return newConnector(set, cfg.(*Config), next), nil
}
