package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	"github.com/procode-ai/otelcol-procode/extension/readiness/internal/metadata"
)

const (
	// maxHeaderBytes bounds a request's headers (Go's default is 1 MiB): probes and
	// load balancers send a few hundred bytes; the rest is room for proxies' headers.
	// Larger requests get 431.
	maxHeaderBytes = 16 << 10

	defaultEndpoint         = "localhost:13133"
	defaultWarmupTimeout    = 30 * time.Second
	defaultRecoveryDuration = 5 * time.Minute

	defaultFailingAfter   = 30 * time.Second
	defaultQueueThreshold = 0.8
	defaultLossWindow     = 5 * time.Minute
)

// NewFactory returns the factory of the readiness extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	// The endpoints read no request body; keep the limit small.
	server.MaxRequestBodySize = 1 << 10
	return &Config{
		ServerConfig: server,
		Paths: PathsConfig{
			Livez:  "/livez",
			Health: "/health",
			Ready:  "/ready",
		},
		WarmupTimeout:    defaultWarmupTimeout,
		RecoveryDuration: defaultRecoveryDuration,
		Delivery: DeliveryConfig{
			Enabled:        true,
			FailingAfter:   defaultFailingAfter,
			QueueThreshold: defaultQueueThreshold,
			LossWindow:     defaultLossWindow,
		},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set), nil
}
