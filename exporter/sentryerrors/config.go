package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/procode-ai/otelcol-procode/internal/sentrydsn"
)

// Config is the sentry_errors exporter's configuration.
type Config struct {
	// DSN is the Sentry project's DSN. Empty means off: error events are counted as
	// dropped (reason no_dsn) and the pipeline keeps working.
	DSN configopaque.String `mapstructure:"dsn"`
	// DSNByService routes the events of a service (resource service.name) to its own
	// Sentry project; services not listed use DSN.
	DSNByService map[string]configopaque.String `mapstructure:"dsn_by_service"`

	// Environment is used when the resource carries neither deployment.environment.name
	// nor deployment.environment.
	Environment string `mapstructure:"environment"`
	// EnvironmentOverride, when set, replaces the environment of every event.
	EnvironmentOverride string `mapstructure:"environment_override"`

	// MinSeverity is the lowest log severity that becomes an event; log records with
	// exception.* attributes become events whatever their severity.
	MinSeverity string `mapstructure:"min_severity"`

	// SendDefaultPII adds the user's email and IP address (user.email, client.address)
	// to events. enduser.id / user.id are always sent.
	SendDefaultPII bool `mapstructure:"send_default_pii"`
	// IncludeGenAIContent keeps prompt and completion content (gen_ai.input.messages,
	// gen_ai.output.messages, gen_ai.prompt, ...) in events; it is left out by default.
	IncludeGenAIContent bool `mapstructure:"include_genai_content"`

	// MaxBreadcrumbs caps the breadcrumbs of one event; the most recent are kept.
	MaxBreadcrumbs int `mapstructure:"max_breadcrumbs"`
	// RequestHeaders lists the HTTP request headers (http.request.header.<name>) that
	// may appear in the event's request; every other header is left out.
	RequestHeaders []string `mapstructure:"request_headers"`
	// InAppExclude lists module or path prefixes that are library code, on top of the
	// built-in rules (site-packages, node_modules, GOROOT, the Go module cache, the JDK, .NET's System.*).
	InAppExclude []string `mapstructure:"in_app_exclude"`

	// Fingerprint, when set, replaces Sentry's default grouping. Each entry is literal
	// text or one of {{ default }}, {{ exception.type }}, {{ span.name }},
	// {{ attr:KEY }}, {{ resource:KEY }}.
	Fingerprint []string `mapstructure:"fingerprint"`

	Scrub ScrubConfig `mapstructure:"scrub"`

	// IgnoreExceptions lists exception types (exception.type, or error.type for error
	// spans without an exception) that never become events. An entry ending in "*" is a prefix.
	IgnoreExceptions []string `mapstructure:"ignore_exceptions"`
	// SampleRate is the share of error events sent, from 0 to 1. The decision follows
	// the event_id, so a retried delivery gets the same decision.
	SampleRate float64 `mapstructure:"sample_rate"`
	// FingerprintLimit caps the events of one error group within a window.
	FingerprintLimit FingerprintLimitConfig `mapstructure:"fingerprint_limit"`

	// ClientConfig is the HTTP client to Sentry: timeout (per envelope), tls, proxy_url,
	// headers, auth extensions, as for otlphttp. Its keys sit at the top level, as if
	// squashed (see Unmarshal). Its endpoint stays empty: the DSN names the host.
	ClientConfig confighttp.ClientConfig                                  `mapstructure:"-"`
	RetryConfig  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ScrubConfig adds to the built-in deny list.
type ScrubConfig struct {
	// ExtraKeys are more attribute, header or context keys whose values become
	// [Filtered]. A key matches when it contains the entry, ignoring case.
	ExtraKeys []string `mapstructure:"extra_keys"`
	// ExtraPatterns are regular expressions (RE2 syntax); every match in any string
	// value becomes [Filtered].
	ExtraPatterns []string `mapstructure:"extra_patterns"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// FingerprintLimitConfig protects the Sentry quota from one error storm.
type FingerprintLimitConfig struct {
	// MaxEvents is the most events of one fingerprint sent within Window; 0 is no limit.
	MaxEvents int `mapstructure:"max_events"`
	// Window is the length of the counting window.
	Window time.Duration `mapstructure:"window"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var severityNames = map[string]plog.SeverityNumber{
	"trace": plog.SeverityNumberTrace,
	"debug": plog.SeverityNumberDebug,
	"info":  plog.SeverityNumberInfo,
	"warn":  plog.SeverityNumberWarn,
	"error": plog.SeverityNumberError,
	"fatal": plog.SeverityNumberFatal,
}

func parseSeverity(s string) (plog.SeverityNumber, bool) {
	n, ok := severityNames[strings.ToLower(strings.TrimSpace(s))]
	return n, ok
}

var fingerprintTemplate = regexp.MustCompile(`^\{\{\s*(.*?)\s*\}\}$`)

// fingerprintPart is one entry of the configured fingerprint.
type fingerprintPart struct {
	literal string // when kind is ""
	kind    string // "default", "exception.type", "span.name", "attr", "resource"
	key     string
}

func parseFingerprint(entries []string) ([]fingerprintPart, error) {
	parts := make([]fingerprintPart, 0, len(entries))
	for i, e := range entries {
		m := fingerprintTemplate.FindStringSubmatch(e)
		if m == nil {
			if strings.Contains(e, "{{") {
				return nil, fmt.Errorf("fingerprint[%d] %q: a template must be the whole entry, like \"{{ exception.type }}\"", i, e)
			}
			parts = append(parts, fingerprintPart{literal: e})
			continue
		}
		name := m[1]
		switch {
		case name == "default", name == "exception.type", name == "span.name":
			parts = append(parts, fingerprintPart{kind: name})
		case strings.HasPrefix(name, "attr:") && len(name) > len("attr:"):
			parts = append(parts, fingerprintPart{kind: "attr", key: strings.TrimSpace(name[len("attr:"):])})
		case strings.HasPrefix(name, "resource:") && len(name) > len("resource:"):
			parts = append(parts, fingerprintPart{kind: "resource", key: strings.TrimSpace(name[len("resource:"):])})
		default:
			return nil, fmt.Errorf("fingerprint[%d] %q: unknown template; use {{ default }}, {{ exception.type }}, {{ span.name }}, {{ attr:KEY }} or {{ resource:KEY }}", i, e)
		}
	}
	return parts, nil
}

func validateDSN(field string, dsn configopaque.String) error {
	if dsn == "" {
		return nil
	}
	// The DSN holds the project key: name the field and the problem, never the value.
	if p := sentrydsn.Problem(string(dsn)); p != "" {
		return fmt.Errorf("%s is not a valid Sentry DSN (%s): use https://PUBLIC_KEY@HOST/PROJECT_ID", field, p)
	}
	return nil
}

// clientKeys are the keys of confighttp.ClientConfig.
var clientKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[confighttp.ClientConfig]()
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("mapstructure"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// Unmarshal reads the client's keys into ClientConfig and the rest into the Config.
// Squashing ClientConfig (as otlphttp does) would make confmap accept unknown keys
// silently, because ClientConfig has an Unmarshal of its own; a typo'd key is an error here.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	client, rest := map[string]any{}, map[string]any{}
	for k, v := range conf.ToStringMap() {
		if clientKeys[k] {
			client[k] = v
		} else {
			rest[k] = v
		}
	}
	if err := cfg.ClientConfig.Unmarshal(confmap.NewFromStringMap(client)); err != nil {
		return err
	}
	type fields Config // Config's fields without this method
	type Config fields // named as before in decoding errors ("'sentryerrors.Config' has invalid keys")
	return confmap.NewFromStringMap(rest).Unmarshal((*Config)(cfg))
}

// Validate checks the configuration at startup and names the bad field and value.
func (cfg *Config) Validate() error {
	errs := cfg.validateDelivery()
	if _, ok := parseSeverity(cfg.MinSeverity); !ok {
		errs = append(errs, fmt.Errorf("min_severity %q is not a severity: use one of trace, debug, info, warn, error, fatal", cfg.MinSeverity))
	}
	if cfg.MaxBreadcrumbs < 0 || cfg.MaxBreadcrumbs > 1000 {
		errs = append(errs, fmt.Errorf("max_breadcrumbs %d must be between 0 and 1000", cfg.MaxBreadcrumbs))
	}
	if cfg.SampleRate < 0 || cfg.SampleRate > 1 || cfg.SampleRate != cfg.SampleRate {
		errs = append(errs, fmt.Errorf("sample_rate %v must be between 0 and 1", cfg.SampleRate))
	}
	if cfg.FingerprintLimit.MaxEvents < 0 {
		errs = append(errs, fmt.Errorf("fingerprint_limit::max_events %d must not be negative (0 means no limit)", cfg.FingerprintLimit.MaxEvents))
	}
	if cfg.FingerprintLimit.MaxEvents > 0 && cfg.FingerprintLimit.Window <= 0 {
		errs = append(errs, fmt.Errorf("fingerprint_limit::window %s must be positive when max_events is set", cfg.FingerprintLimit.Window))
	}
	if _, err := parseFingerprint(cfg.Fingerprint); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(append(errs, cfg.validateLists()...)...)
}

// validateDelivery checks where events go: the client and the DSNs.
func (cfg *Config) validateDelivery() []error {
	var errs []error
	if cfg.ClientConfig.Endpoint != "" {
		errs = append(errs, errors.New("endpoint is not used: the DSN names Sentry's host; remove endpoint and set dsn"))
	}
	if cfg.ClientConfig.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s must be greater than or equal to 0 (0: no timeout per envelope)", cfg.ClientConfig.Timeout))
	}
	// confighttp sets its headers over the request's: these would replace the DSN's key
	// (every project's events sent with one key) or the envelope's content type.
	for name := range cfg.ClientConfig.Headers.Iter {
		if strings.EqualFold(name, "X-Sentry-Auth") || strings.EqualFold(name, "Content-Type") {
			errs = append(errs, fmt.Errorf("headers::%s is set by the exporter (from the DSN, for the envelope): remove it", name))
		}
	}
	if err := validateDSN("dsn", cfg.DSN); err != nil {
		errs = append(errs, err)
	}
	services := make([]string, 0, len(cfg.DSNByService))
	for s := range cfg.DSNByService {
		services = append(services, s)
	}
	sort.Strings(services)
	for _, s := range services {
		switch {
		case s == "":
			errs = append(errs, errors.New(`dsn_by_service: the service name must not be empty`))
		case cfg.DSNByService[s] == "":
			errs = append(errs, fmt.Errorf("dsn_by_service::%s must not be empty: remove the entry to use dsn", s))
		default:
			if err := validateDSN("dsn_by_service::"+s, cfg.DSNByService[s]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// validateLists checks the entries of the configured lists.
func (cfg *Config) validateLists() []error {
	var errs []error
	for i, p := range cfg.Scrub.ExtraPatterns {
		if p == "" {
			errs = append(errs, fmt.Errorf("scrub::extra_patterns[%d] must not be empty", i))
		} else if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("scrub::extra_patterns[%d] %q is not a valid regular expression: %w", i, p, err))
		}
	}
	blank := func(field string, list []string) {
		for i, v := range list {
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("%s[%d] must not be empty", field, i))
			}
		}
	}
	blank("scrub::extra_keys", cfg.Scrub.ExtraKeys)
	blank("in_app_exclude", cfg.InAppExclude)
	for i, h := range cfg.RequestHeaders {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, " :\t") {
			errs = append(errs, fmt.Errorf("request_headers[%d] %q is not a header name", i, h))
		}
	}
	for i, e := range cfg.IgnoreExceptions {
		if strings.TrimSpace(e) == "" || e == "*" {
			errs = append(errs, fmt.Errorf("ignore_exceptions[%d] %q must name an exception type (a trailing * matches a prefix)", i, e))
		}
	}
	return errs
}

// hasDSN reports whether any event can be delivered at all.
func (cfg *Config) hasDSN() bool {
	return cfg.DSN != "" || len(cfg.DSNByService) > 0
}
