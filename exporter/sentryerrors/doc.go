//go:generate go tool mdatagen metadata.yaml

// Package sentryerrors implements the sentry_errors exporter: exception span events,
// error spans and error log records become Sentry error events (stack frames, trace
// link, LLM/agent/user/request context, breadcrumbs), scrubbed of secrets and delivered
// through exporterhelper's queue and retry with Sentry's rate limits honoured.
package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"
