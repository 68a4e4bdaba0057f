// Package logscrub wraps the collector's logger (see internal/owntelemetry, the
// distribution's telemetry factory) so that no log entry carries the telemetry it is
// processing or a credential.
//
// Why: at debug level upstream OTTL components (signal_to_metrics, transform, filter)
// log every span, log record or data point they evaluate, with all its attributes, in
// a "TransformContext" field; an app's span attributes can hold API keys and bearer
// tokens. And upstream errors quote URLs with credentials or query strings. An operator
// who turns on debug logging to troubleshoot must not copy secrets into the log store.
package logscrub // import "github.com/procode-ai/otelcol-procode/internal/logscrub"
