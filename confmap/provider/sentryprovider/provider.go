// Package sentryprovider is a confmap provider that derives Sentry's OTLP ingestion
// settings from the project's DSN, so that a configuration can send traces and logs to
// the same Sentry project as its error events with nothing but SENTRY_DSN set:
//
//	traces_endpoint: ${sentry:otlp_traces_endpoint}  # https://HOST/api/PROJECT/integration/otlp/v1/traces
//	logs_endpoint:   ${sentry:otlp_logs_endpoint}    # .../integration/otlp/v1/logs
//	headers:
//	  x-sentry-auth: ${sentry:otlp_auth}             # sentry sentry_key=PUBLIC_KEY
//
// (Sentry's documentation: Project settings > Client Keys (DSN) shows the same
// endpoints and header.) The DSN is read from the environment variable SENTRY_DSN.
package sentryprovider // import "github.com/procode-ai/otelcol-procode/confmap/provider/sentryprovider"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	sentry "github.com/getsentry/sentry-go"
	"go.opentelemetry.io/collector/confmap"

	"github.com/procode-ai/otelcol-procode/internal/sentrydsn"
)

const (
	schemeName = "sentry"
	// DSNVariable is the environment variable the DSN is read from.
	DSNVariable = "SENTRY_DSN"
)

type provider struct{}

// NewFactory returns the factory of the "sentry" confmap provider.
func NewFactory() confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider { return provider{} })
}

func (provider) Scheme() string { return schemeName }

func (provider) Shutdown(context.Context) error { return nil }

func (provider) Retrieve(_ context.Context, uri string, _ confmap.WatcherFunc) (*confmap.Retrieved, error) {
	name, ok := strings.CutPrefix(uri, schemeName+":")
	if !ok {
		return nil, fmt.Errorf("%q is not a %s: URI", uri, schemeName)
	}
	v, err := Value(name, os.Getenv(DSNVariable))
	if err != nil {
		return nil, err
	}
	return confmap.NewRetrieved(v)
}

// Value is the setting name derived from dsn: otlp_traces_endpoint, otlp_logs_endpoint
// or otlp_auth. An error never quotes the DSN, which holds the project's key.
func Value(name, dsn string) (string, error) {
	if dsn == "" {
		return "", fmt.Errorf("${%s:%s}: %s is empty; the Sentry overlay needs the project's DSN", schemeName, name, DSNVariable)
	}
	if p := sentrydsn.Problem(dsn); p != "" {
		return "", fmt.Errorf("${%s:%s}: %s is not a valid Sentry DSN (%s): use https://PUBLIC_KEY@HOST/PROJECT_ID", schemeName, name, DSNVariable, p)
	}
	d, err := sentry.NewDsn(dsn)
	if err != nil {
		return "", fmt.Errorf("${%s:%s}: %s is not a valid Sentry DSN: use https://PUBLIC_KEY@HOST/PROJECT_ID", schemeName, name, DSNVariable)
	}
	api := strings.TrimSuffix(d.GetAPIURL().String(), "envelope/") // https://HOST/api/PROJECT/
	switch name {
	case "otlp_traces_endpoint":
		return api + "integration/otlp/v1/traces", nil
	case "otlp_logs_endpoint":
		return api + "integration/otlp/v1/logs", nil
	case "otlp_auth":
		return "sentry sentry_key=" + d.GetPublicKey(), nil
	}
	return "", errors.New("${" + schemeName + ":" + name + "}: unknown setting; use otlp_traces_endpoint, otlp_logs_endpoint or otlp_auth")
}
