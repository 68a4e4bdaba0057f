package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
)

const (
	defaultReloadInterval     = 30 * time.Second
	defaultCacheSize          = 10000
	defaultUnpricedModelLimit = 200
	defaultStaleAfter         = 30 * 24 * time.Hour
)

// NewFactory returns the factory of the llm_cost processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithTraces(createTraces, metadata.TracesStability),
		processor.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		ReloadInterval:     defaultReloadInterval,
		UseProvidedCost:    true,
		CacheSize:          defaultCacheSize,
		UnpricedModelLimit: defaultUnpricedModelLimit,
		StaleAfter:         defaultStaleAfter,
	}
}

var mutates = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newProcessor(set, cfg.(*Config), signalSpans)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		mutates, processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newProcessor(set, cfg.(*Config), signalLogs)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		mutates, processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}
