package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

const (
	defaultCollectionInterval = 30 * time.Second
	defaultTimeout            = 5 * time.Second
	defaultWorkers            = 16
)

// NewFactory returns the factory of the health_probe receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = defaultCollectionInterval
	// Timeout stays 0 (unset): probeTimeout derives it from collection_interval.
	return &Config{
		ControllerConfig:     cc,
		MetricsBuilderConfig: metadata.DefaultMetricsBuilderConfig(),
		Workers:              defaultWorkers,
	}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	rcfg := cfg.(*Config)
	// Validate has run, but a config built in code may skip it.
	if err := rcfg.Validate(); err != nil {
		return nil, err
	}
	ps, err := newProbeScraper(rcfg, set)
	if err != nil {
		return nil, err
	}
	sc, err := scraper.NewMetrics(ps.scrape, scraper.WithStart(ps.start), scraper.WithShutdown(ps.shutdown))
	if err != nil {
		return nil, err
	}
	// Timeout here bounds each probe, not the round: the controller must not cut the
	// whole round at the first probe's limit.
	controllerCfg := rcfg.ControllerConfig
	controllerCfg.Timeout = 0
	ctrl, err := scraperhelper.NewMetricsController(&controllerCfg, set, next,
		scraperhelper.AddMetricsScraper(metadata.Type, sc))
	if err != nil {
		return nil, err
	}
	return &healthProbeReceiver{controller: ctrl, scraper: ps}, nil
}
