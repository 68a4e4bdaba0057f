package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// configErrorCase is one broken setting of one of our components, merged over the
// default configuration, and what the operator must read in the answer of
// `otelcol-procode validate`: the component, the field and the fix.
type configErrorCase struct {
	component string // configuration path of the component, e.g. "extensions::readiness"
	set       string // YAML under the component, e.g. "paths::ready: ready"
	field     string // the field as the message names it
	fix       string // the part of the message that says what is allowed or what to do
	secret    string // a value that must not be echoed (a DSN key, a password)
}

var configErrorCases = []configErrorCase{
	// readiness extension
	{component: "extensions::readiness", set: `endpoint: localhost`, field: "endpoint", fix: `is not host:port`},
	{component: "extensions::readiness", set: `endpoint: ""`, field: "endpoint", fix: `use host:port, for example "localhost:13133"`},
	{component: "extensions::readiness", set: `endpoint: "localhost:"`, field: "endpoint", fix: `has no port: use host:port`},
	{component: "extensions::readiness", set: `paths::livez: livez`, field: "paths::livez", fix: `must start with "/"`},
	{component: "extensions::readiness", set: `paths::health: "/health?x=1"`, field: "paths::health", fix: `must be a plain path without query, fragment or spaces`},
	{component: "extensions::readiness", set: `paths::ready: /health`, field: "paths::ready", fix: `each endpoint needs its own path`},
	{component: "extensions::readiness", set: `warmup_timeout: -5s`, field: "warmup_timeout", fix: `must not be negative (0 disables waiting for probes)`},
	{component: "extensions::readiness", set: `warmup_timeout: soon`, field: "warmup_timeout", fix: `time: invalid duration`},
	{component: "extensions::readiness", set: `recovery_duration: -1m`, field: "recovery_duration", fix: `must not be negative`},
	{component: "extensions::readiness", set: `warmup: 5s`, field: "warmup", fix: `has invalid keys: warmup`},
	{component: "extensions::readiness", set: `delivery::failing_after: -30s`, field: "delivery::failing_after", fix: `must not be negative (0 degrades at the first failed send)`},
	{component: "extensions::readiness", set: `delivery::queue_threshold: 80`, field: "delivery::queue_threshold", fix: `must be above 0 and at most 1 (a share of the queue's capacity, for example 0.8)`},
	{component: "extensions::readiness", set: `delivery::loss_window: 0s`, field: "delivery::loss_window", fix: `must be positive`},
	{component: "extensions::readiness", set: `gate_readiness: [otlp/traces]`, field: "gate_readiness[0]", fix: `must be a component as /health names it, kind:id with kind one of receiver, processor, exporter, connector, extension, for example "exporter:otlp/traces"`},
	{component: "extensions::readiness", set: `gate_readiness: ["exporter:otlp traces"]`, field: "gate_readiness[0]", fix: `"otlp traces" is not a component ID (type[/name])`},
	{component: "extensions::readiness", set: `delivery::gate_readiness: [exporter:otlp]`, field: "delivery::gate_readiness", fix: `has invalid keys`},

	// llm_cost processor
	{component: "processors::llm_cost", set: `prices: [{input_mtok: 1}]`, field: "prices[0]", fix: `id must not be empty`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large}]`, field: "prices[0]", fix: `needs input_mtok or output_mtok (USD per million tokens)`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: -1}]`, field: "input_mtok", fix: `must be a finite number >= 0`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, output_mtok: 2000000}]`, field: "output_mtok", fix: `is above the most a token may cost (1e+06 USD per million tokens)`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: cheap}]`, field: "input_mtok", fix: `expected type 'float64'`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: 1, start_date: "2026-13-01"}]`, field: "start_date", fix: `must be a date, YYYY-MM-DD`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: 1, match: {regex: "("}}]`, field: "match", fix: `missing closing )`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: 1, match: {sounds_like: acme}}]`, field: "match", fix: `sounds_like`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: 1, tiers: [{above_input_tokens: 0, input_mtok: 2}]}]`, field: "tiers[0]: above_input_tokens", fix: `must be > 0`},
	{component: "processors::llm_cost", set: `prices: [{id: acme-large, input_mtok: 1, tiers: [{above_input_tokens: 1000}]}]`, field: "tiers[0]", fix: `needs at least one price`},
	{component: "processors::llm_cost", set: `prices: [{id: a, input_mtok: 1}, {id: a, input_mtok: 2}]`, field: "prices[1]", fix: `give each entry of a price history its own start_date, or a different provider`},
	{component: "processors::llm_cost", set: `price_files: [{path: ""}]`, field: "price_files[0]: path", fix: `must not be empty`},
	{component: "processors::llm_cost", set: `price_files: [{path: /etc/p.json}, {path: /etc/p.json}]`, field: "price_files[1]: path", fix: `is listed twice`},
	{component: "processors::llm_cost", set: `price_files: [{path: /etc/p.csv, format: csv}]`, field: "price_files[0]: format", fix: `is not one of "auto", "llm_cost", "litellm", "genai_prices"`},
	{component: "processors::llm_cost", set: `price_files: [{url: "ftp://prices.example/p.json"}]`, field: "price_files[0]: url", fix: `must be an http:// or https:// URL with a host`},
	{component: "processors::llm_cost", set: `price_files: [{url: "https://prices.example/p.json", path: /etc/p.json}]`, field: "price_files[0]", fix: `has both a path and a url; give one`},
	{component: "processors::llm_cost", set: `price_files: [{url: "https://prices.example/p.json", reload_intervall: 1h}]`, field: "price_files[0]", fix: `has invalid keys: reload_intervall`},
	{component: "processors::llm_cost", set: `price_files: [{path: /etc/p.json, timeout: 5s}]`, field: "price_files[0]", fix: `HTTP client settings (timeout, tls, headers, ...) apply to a url, not to a path`},
	{component: "processors::llm_cost", set: `stale_after: -1h`, field: "stale_after", fix: `must be positive`},
	{component: "processors::llm_cost", set: `reload_interval: -1s`, field: "reload_interval", fix: `must not be negative (0 reads price files once)`},
	{component: "processors::llm_cost", set: `reload_interval: 100ms`, field: "reload_interval", fix: `must be at least 1s (or 0 to read price files once)`},
	{component: "processors::llm_cost", set: `aliases: {prod-gpt4o: ""}`, field: "aliases", fix: `neither the name nor the target may be empty`},
	{component: "processors::llm_cost", set: `use_provided_cost: maybe`, field: "use_provided_cost", fix: `expected type 'bool'`},
	{component: "processors::llm_cost", set: `provided_cost: always`, field: "provided_cost", fix: `is not one of "fallback", "prefer", "ignore"`},
	{component: "processors::llm_cost", set: `{provided_cost: prefer, use_provided_cost: true}`, field: "use_provided_cost", fix: `set only provided_cost`},
	{component: "processors::llm_cost", set: `service_tiers: {openai: {turbo: {multiplier: 2}}}`, field: "service_tiers[openai][turbo]", fix: `is not one of flex, priority, batch, scale`},
	{component: "processors::llm_cost", set: `service_tiers: {openai: {flex: {multiplier: -1}}}`, field: "service_tiers[openai][flex]: multiplier", fix: `must be between 0 (none) and 100`},
	{component: "processors::llm_cost", set: `deduplication: {max_calls: -1}`, field: "deduplication::max_calls", fix: `must not be negative (0 compares spans within a batch only)`},
	{component: "processors::llm_cost", set: `deduplication: {max_calls: 3000000000}`, field: "deduplication::max_calls", fix: `must be at most 1000000 (about 160 bytes each, allocated at start)`},
	{component: "processors::llm_cost", set: `cache_size: 0`, field: "cache_size", fix: `must be at least 1`},
	{component: "processors::llm_cost", set: `unpriced_model_limit: -1`, field: "unpriced_model_limit", fix: `must not be negative`},
	{component: "processors::llm_cost", set: `price_file: /etc/p.json`, field: "price_file", fix: `has invalid keys: price_file`},

	// health_probe receiver
	{component: "receivers::health_probe", set: `collection_interval: 0s`, field: "collection_interval", fix: `requires positive value`},
	{component: "receivers::health_probe", set: `timeout: 40s`, field: "timeout", fix: `must be less than collection_interval 30s`},
	{component: "receivers::health_probe", set: `timeout: -1s`, field: "timeout", fix: `must not be negative (0 or unset: 5s, or just under collection_interval`},
	{component: "receivers::health_probe", set: `{collection_interval: 5s, timeout: 5s}`, field: "timeout", fix: `must be less than collection_interval 5s`},
	{component: "receivers::health_probe", set: `initial_delay: -1s`, field: "initial_delay", fix: `must not be negative`},
	{component: "receivers::health_probe", set: `workers: 0`, field: "workers", fix: `must be between 1 and 1024`},
	{component: "receivers::health_probe", set: `probes: []`, field: "probes", fix: `must list at least one probe`},
	{component: "receivers::health_probe", set: `probes: [{name: Disk Space, type: disk}]`, field: "name", fix: `must be lower_snake_case`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk}, {name: disk, type: memory}]`, field: "name", fix: `probe names must be unique`},
	{component: "receivers::health_probe", set: `probes: [{name: files, type: ftp}]`, field: "type", fix: `use one of http, tcp, postgresql, disk, memory`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, category: Storage}]`, field: "category", fix: `must be lower_snake_case, for example database, llm_provider, agent, system`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, critical: maybe}]`, field: "critical", fix: `expected type 'bool'`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, timeout: -1s}]`, field: "timeout", fix: `must not be negative (0 takes the receiver's timeout)`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, timeout: 45s}]`, field: "timeout", fix: `must be less than collection_interval 30s`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, degraded_latency: 10s}]`, field: "degraded_latency", fix: `must be less than the probe's timeout 5s`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, failure_threshold: 0}]`, field: "failure_threshold", fix: `must be at least 1`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, success_threshold: 0}]`, field: "success_threshold", fix: `must be at least 1`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, endpoint: "localhost:5432"}]`, field: `"endpoint"`, fix: `does not apply to type "disk"`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, treshold: 5}]`, field: "treshold", fix: `has invalid keys: treshold`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http}]`, field: "endpoint", fix: `must be set to an http:// or https:// URL`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "ftp://files.internal/x"}]`, field: "endpoint", fix: `must be http or https`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http:///health"}]`, field: "endpoint", fix: `has no host: use http://host[:port]/path`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://a:b@agent:80:80/x"}]`, field: "endpoint", fix: `is not a URL`, secret: "a:b@"},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", method: get}]`, field: "method", fix: `is not an HTTP method, for example GET, HEAD or POST`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", expected_status: [600]}]`, field: "expected_status[0]", fix: `out of range`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", expected_status: ["2xx-3xx"]}]`, field: "expected_status[0]", fix: `not a status`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", follow_redirects: sometimes}]`, field: "follow_redirects", fix: `expected type 'bool'`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", max_body_bytes: 0}]`, field: "max_body_bytes", fix: `must be positive`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{contains: ok}]}]`, field: "body_checks[0]", fix: `name must be lower_snake_case; each check needs a name`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{name: ok, contains: ok, regex: ok}]}]`, field: "body_checks[0]", fix: `set exactly one of contains, regex or json_path`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{name: ok, regex: "(ok"}]}]`, field: "regex", fix: `does not compile`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{name: ok, json_path: "$.a[x]", equals: 1}]}]`, field: "json_path", fix: `is neither an array index nor a quoted key`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{name: ok, json_path: "$.status"}]}]`, field: "json_path", fix: `needs equals: the value expected at that path`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{name: ok, contains: ok, equals: ok}]}]`, field: "equals", fix: `applies only to json_path`},
	{component: "receivers::health_probe", set: `probes: [{name: agent, type: http, endpoint: "http://agent/h", body_checks: [{name: ok, contians: ok}]}]`, field: "contians", fix: `has invalid keys: contians`},
	{component: "receivers::health_probe", set: `probes: [{name: cache, type: tcp, endpoint: cache}]`, field: "endpoint", fix: `must be host:port, for example "localhost:5432"`},
	{component: "receivers::health_probe", set: `probes: [{name: db, type: postgresql, user: app}]`, field: "host", fix: `must be set, for example "localhost" or "db.internal"`},
	{component: "receivers::health_probe", set: `probes: [{name: db, type: postgresql, host: db, user: app, port: 70000}]`, field: "port", fix: `must be between 1 and 65535`},
	{component: "receivers::health_probe", set: `probes: [{name: db, type: postgresql, host: db}]`, field: "user", fix: `must be set`},
	{component: "receivers::health_probe", set: `probes: [{name: db, type: postgresql, host: db, user: app, database: ""}]`, field: "database", fix: `must not be empty`},
	{component: "receivers::health_probe", set: `probes: [{name: db, type: postgresql, host: db, user: app, password: Hunter2-pw, password_file: /run/secrets/pg}]`, field: "password_file", fix: `set password or password_file, not both`, secret: "Hunter2-pw"},
	{component: "receivers::health_probe", set: `probes: [{name: db, type: postgresql, host: db, user: app, sslmode: strict}]`, field: "sslmode", fix: `must be one of disable, allow, prefer, require, verify-ca, verify-full`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, path: data}]`, field: "path", fix: `must be an absolute path`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, degraded_free_percent: 150}]`, field: "degraded_free_percent", fix: `must be between 0 and 100`},
	{component: "receivers::health_probe", set: `probes: [{name: disk, type: disk, unhealthy_free_percent: 30}]`, field: "unhealthy_free_percent", fix: `must not be greater than degraded_free_percent 20`},
	{component: "receivers::health_probe", set: `probes: [{name: memory, type: memory, source: swap}]`, field: "source", fix: `must be auto, host or cgroup`},
	{component: "receivers::health_probe", set: `probes: [{name: memory, type: memory, degraded_used_percent: 95}]`, field: "degraded_used_percent", fix: `must not be greater than unhealthy_used_percent 90`},
	{component: "receivers::health_probe", set: `probes: [{name: memory, type: memory, unhealthy_used_percent: -1}]`, field: "unhealthy_used_percent", fix: `must be between 0 and 100`},

	// sentry_errors exporter
	{component: "exporters::sentry_errors", set: `dsn: "sentry.example/42"`, field: "dsn", fix: `use https://PUBLIC_KEY@HOST/PROJECT_ID`},
	{component: "exporters::sentry_errors", set: `dsn: "https://DsnKey0123456789@sentry.example"`, field: "dsn", fix: `use https://PUBLIC_KEY@HOST/PROJECT_ID`, secret: "DsnKey0123456789"},
	{component: "exporters::sentry_errors", set: `dsn: "https://DsnKey0123456789@sentry.example:http/42"`, field: "dsn", fix: `use https://PUBLIC_KEY@HOST/PROJECT_ID`, secret: "DsnKey0123456789"},
	{component: "exporters::sentry_errors", set: `dsn_by_service: {billing-api: ""}`, field: "dsn_by_service::billing-api", fix: `remove the entry to use dsn`},
	{component: "exporters::sentry_errors", set: `dsn_by_service: {billing-api: "https://DsnKey0123456789@sentry.example"}`, field: "dsn_by_service::billing-api", fix: `use https://PUBLIC_KEY@HOST/PROJECT_ID`, secret: "DsnKey0123456789"},
	{component: "exporters::sentry_errors", set: `min_severity: critical`, field: "min_severity", fix: `use one of trace, debug, info, warn, error, fatal`},
	{component: "exporters::sentry_errors", set: `send_default_pii: maybe`, field: "send_default_pii", fix: `expected type 'bool'`},
	{component: "exporters::sentry_errors", set: `include_genai_content: maybe`, field: "include_genai_content", fix: `expected type 'bool'`},
	{component: "exporters::sentry_errors", set: `max_breadcrumbs: 5000`, field: "max_breadcrumbs", fix: `must be between 0 and 1000`},
	{component: "exporters::sentry_errors", set: `request_headers: ["user agent"]`, field: "request_headers[0]", fix: `is not a header name`},
	{component: "exporters::sentry_errors", set: `in_app_exclude: [""]`, field: "in_app_exclude[0]", fix: `must not be empty`},
	{component: "exporters::sentry_errors", set: `fingerprint: ["{{ user }}"]`, field: "fingerprint[0]", fix: `use {{ default }}, {{ exception.type }}, {{ span.name }}, {{ attr:KEY }} or {{ resource:KEY }}`},
	{component: "exporters::sentry_errors", set: `fingerprint: ["svc-{{ default }}"]`, field: "fingerprint[0]", fix: `a template must be the whole entry`},
	{component: "exporters::sentry_errors", set: `scrub: {extra_keys: [""]}`, field: "scrub::extra_keys[0]", fix: `must not be empty`},
	{component: "exporters::sentry_errors", set: `scrub: {extra_patterns: ["ACCT-(\\d+"]}`, field: "scrub::extra_patterns[0]", fix: `is not a valid regular expression`},
	{component: "exporters::sentry_errors", set: `ignore_exceptions: ["*"]`, field: "ignore_exceptions[0]", fix: `must name an exception type (a trailing * matches a prefix)`},
	{component: "exporters::sentry_errors", set: `sample_rate: 1.5`, field: "sample_rate", fix: `must be between 0 and 1`},
	{component: "exporters::sentry_errors", set: `fingerprint_limit: {max_events: -1}`, field: "fingerprint_limit::max_events", fix: `must not be negative (0 means no limit)`},
	{component: "exporters::sentry_errors", set: `fingerprint_limit: {max_events: 10, window: 0s}`, field: "fingerprint_limit::window", fix: `must be positive when max_events is set`},
	{component: "exporters::sentry_errors", set: `timeout: -1s`, field: "timeout", fix: `must be greater than or equal to 0`},
	{component: "exporters::sentry_errors", set: `retry_on_failure: {multiplier: -1}`, field: "multiplier", fix: `must be greater than or equal to 0`},
	{component: "exporters::sentry_errors", set: `sending_queue: {queue_size: 0}`, field: "queue_size", fix: `must be positive`},
	{component: "exporters::sentry_errors", set: `endpoint: "https://sentry.example"`, field: "endpoint", fix: `the DSN names Sentry's host; remove endpoint and set dsn`},
	{component: "exporters::sentry_errors", set: `headers: {X-Sentry-Auth: "Sentry sentry_key=DsnKey0123456789"}`, field: "headers::X-Sentry-Auth", fix: `is set by the exporter (from the DSN, for the envelope): remove it`, secret: "DsnKey0123456789"},
	{component: "exporters::sentry_errors", set: `dns: "https://k@sentry.example/42"`, field: "dns", fix: `has invalid keys: dns`},

	// agent_metrics connector
	{component: "connectors::agent_metrics", set: `flush_interval: 0s`, field: "flush_interval", fix: `must be positive`},
	{component: "connectors::agent_metrics", set: `flush_interval: often`, field: "flush_interval", fix: `time: invalid duration`},
	{component: "connectors::agent_metrics", set: `max_series: 0`, field: "max_series", fix: `must be at least 1`},
	{component: "connectors::agent_metrics", set: `max_label_length: 4`, field: "max_label_length", fix: `must be at least 8`},
	{component: "connectors::agent_metrics", set: `llm::buckets: []`, field: "llm::buckets", fix: `must not be empty`},
	{component: "connectors::agent_metrics", set: `agent::buckets: [1, 0.5]`, field: "agent::buckets", fix: `must be strictly increasing`},
	{component: "connectors::agent_metrics", set: `http::buckets: [0, 1]`, field: "http::buckets", fix: `must be positive (seconds)`},
	{component: "connectors::agent_metrics", set: `db::enabled: maybe`, field: "enabled", fix: `expected type 'bool'`},
	{component: "connectors::agent_metrics", set: `{llm: {enabled: false}, agent: {enabled: false}, http: {enabled: false}, db: {enabled: false}}`, field: "every metric group", fix: `enable at least one of llm, agent, http, db`},
	{component: "connectors::agent_metrics", set: `max_serie: 10`, field: "max_serie", fix: `has invalid keys: max_serie`},
}

// configErrorMessage runs validate with the case merged over the default configuration
// and returns what the operator reads (cobra's "Error: " prefix removed).
func configErrorMessage(bin string, c configErrorCase) (string, error) {
	overlay := c.component + "::" + c.set
	if strings.HasPrefix(c.set, "{") { // several keys of the component at once
		overlay = c.component + ": " + c.set
	}
	cmd := exec.Command(bin, "validate", "--config="+harness.DefaultConfig(), "--config=yaml:"+overlay)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		return "", fmt.Errorf("validate accepted %s::%s:\n%s", c.component, c.set, out.String())
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out.String()), "Error: ")), nil
}

const (
	configTableStart = "<!-- config-errors:start (generated by tests/config_errors_test.go; UPDATE_RELIABILITY=1 rewrites it) -->"
	configTableEnd   = "<!-- config-errors:end -->"
)

// TestConfigErrorsNameComponentFieldAndFix runs every case through the built binary's
// validate command and checks that the message names the component, the field and the
// fix, and echoes no secret. The messages form the table in RELIABILITY.md, which must
// match them exactly (UPDATE_RELIABILITY=1 writes it).
func TestConfigErrorsNameComponentFieldAndFix(t *testing.T) {
	bin := harness.Binary(t)
	messages := make([]string, len(configErrorCases))
	errs := make([]error, len(configErrorCases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, c := range configErrorCases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			messages[i], errs[i] = configErrorMessage(bin, c)
		}()
	}
	wg.Wait()

	for i, c := range configErrorCases {
		require.NoError(t, errs[i])
		msg := messages[i]
		name := c.component[strings.Index(c.component, "::")+2:]
		assert.Contains(t, msg, name, "%s: the message does not name the component:\n%s", c.set, msg)
		assert.Contains(t, msg, c.field, "%s: the message does not name the field:\n%s", c.set, msg)
		assert.Contains(t, msg, c.fix, "%s: the message does not say what to do:\n%s", c.set, msg)
		if c.secret != "" {
			assert.NotContains(t, msg, c.secret, "%s: the message echoes a secret", c.set)
		}
	}

	var table strings.Builder
	table.WriteString(configTableStart + "\n\n")
	table.WriteString("| component | broken setting | what `otelcol-procode validate` says |\n|---|---|---|\n")
	for i, c := range configErrorCases {
		fmt.Fprintf(&table, "| `%s` | `%s` | %s |\n", c.component, strings.ReplaceAll(c.set, "|", `\|`), markdownCell(messages[i]))
	}
	table.WriteString("\n" + configTableEnd)

	path := filepath.Join(harness.RepoRoot(), "RELIABILITY.md")
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	start, end := strings.Index(string(doc), configTableStart), strings.Index(string(doc), configTableEnd)
	require.True(t, start >= 0 && end > start, "RELIABILITY.md has no config-errors section")
	current := string(doc[start : end+len(configTableEnd)])
	if os.Getenv("UPDATE_RELIABILITY") != "" {
		require.NoError(t, os.WriteFile(path, []byte(string(doc[:start])+table.String()+string(doc[end+len(configTableEnd):])), 0o644)) //nolint:gosec // a documentation file
		return
	}
	assert.Equal(t, table.String(), current, "RELIABILITY.md's table of config errors is stale: run UPDATE_RELIABILITY=1 go test -run TestConfigErrorsNameComponentFieldAndFix ./tests/")
}

// markdownCell renders a message in one table cell: code, one line per error.
func markdownCell(msg string) string {
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, "`"+strings.ReplaceAll(strings.ReplaceAll(l, "`", "'"), "|", `\|`)+"`")
		}
	}
	return strings.Join(lines, "<br>")
}
