package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"errors"
	"fmt"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/procode-ai/otelcol-procode/internal/strictconf"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// Probe types.
const (
	typeHTTP       = "http"
	typeTCP        = "tcp"
	typePostgreSQL = "postgresql"
	typeDisk       = "disk"
	typeMemory     = "memory"
)

var probeTypes = []string{typeHTTP, typeTCP, typePostgreSQL, typeDisk, typeMemory}

// Memory sources.
const (
	memorySourceAuto   = "auto"
	memorySourceHost   = "host"
	memorySourceCgroup = "cgroup"
)

const maxWorkers = 1024

var (
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	sslModes  = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
)

// Config is the health_probe receiver's configuration.
type Config struct {
	// ControllerConfig holds collection_interval, initial_delay and timeout. Here timeout
	// is the default timeout of each probe run (not of the whole round of probes).
	ControllerConfig scraperhelper.ControllerConfig `mapstructure:",squash"`
	// MetricsBuilderConfig enables or disables single metrics (metrics::NAME::enabled).
	MetricsBuilderConfig metadata.MetricsBuilderConfig `mapstructure:",squash"`

	// Workers bounds how many probes run at the same time.
	Workers int `mapstructure:"workers"`

	// Readiness names the readiness extension that receives every probe result; empty
	// means results only become metrics.
	Readiness component.ID `mapstructure:"readiness"`

	// Probes is the list of checks to run every collection_interval.
	Probes []ProbeConfig `mapstructure:"probes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ProbeConfig is one entry of probes. Name, type and the common settings apply to all
// types; the other fields apply to the types named in their comments.
type ProbeConfig struct {
	Name     string `mapstructure:"name"`
	Type     string `mapstructure:"type"`
	Category string `mapstructure:"category"`
	Critical bool   `mapstructure:"critical"`

	// Timeout bounds one run; 0 takes the receiver's timeout.
	Timeout time.Duration `mapstructure:"timeout"`
	// DegradedLatency marks a passing run that took longer as degraded; 0 turns it off.
	DegradedLatency  time.Duration `mapstructure:"degraded_latency"`
	FailureThreshold int           `mapstructure:"failure_threshold"`
	SuccessThreshold int           `mapstructure:"success_threshold"`

	// http and tcp: endpoint. http: the rest of the upstream client settings (tls,
	// headers, auth, proxy_url, ...).
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	// http
	Method          string            `mapstructure:"method"`
	Body            string            `mapstructure:"body"`
	ExpectedStatus  []any             `mapstructure:"expected_status"`
	FollowRedirects bool              `mapstructure:"follow_redirects"`
	MaxBodyBytes    int64             `mapstructure:"max_body_bytes"`
	BodyChecks      []BodyCheckConfig `mapstructure:"body_checks"`

	// postgresql
	Host         string              `mapstructure:"host"`
	Port         int                 `mapstructure:"port"`
	Database     string              `mapstructure:"database"`
	User         string              `mapstructure:"user"`
	Password     configopaque.String `mapstructure:"password"`
	PasswordFile string              `mapstructure:"password_file"`
	SSLMode      string              `mapstructure:"sslmode"`

	// disk
	Path                 string  `mapstructure:"path"`
	DegradedFreePercent  float64 `mapstructure:"degraded_free_percent"`
	UnhealthyFreePercent float64 `mapstructure:"unhealthy_free_percent"`

	// memory
	Source               string  `mapstructure:"source"`
	DegradedUsedPercent  float64 `mapstructure:"degraded_used_percent"`
	UnhealthyUsedPercent float64 `mapstructure:"unhealthy_used_percent"`

	// keys holds the keys the configuration set, to reject those of other probe types.
	keys []string
	// statusRanges is expected_status parsed by Validate.
	statusRanges []statusRange
}

// BodyCheckConfig is one check of an HTTP response body. Exactly one of contains, regex
// or json_path is set; json_path needs equals.
type BodyCheckConfig struct {
	Name     string `mapstructure:"name"`
	Contains string `mapstructure:"contains"`
	Regex    string `mapstructure:"regex"`
	JSONPath string `mapstructure:"json_path"`
	Equals   any    `mapstructure:"equals"`
}

// keysByType lists the probe keys each type accepts besides the common ones.
var (
	commonKeys = []string{"name", "type", "category", "critical", "timeout", "degraded_latency", "failure_threshold", "success_threshold"}
	keysByType = map[string][]string{
		// Ours, then every key of the upstream client settings (endpoint, tls, headers,
		// auth, proxy_url, ...), read from confighttp.ClientConfig itself so that the list
		// follows an upgrade of confighttp.
		typeHTTP: append([]string{"method", "body", "expected_status", "follow_redirects", "max_body_bytes", "body_checks"},
			slices.DeleteFunc(strictconf.Keys(confighttp.ClientConfig{}), func(k string) bool { return slices.Contains(commonKeys, k) })...),
		typeTCP:        {"endpoint"},
		typePostgreSQL: {"host", "port", "database", "user", "password", "password_file", "sslmode"},
		typeDisk:       {"path", "degraded_free_percent", "unhealthy_free_percent"},
		typeMemory:     {"source", "degraded_used_percent", "unhealthy_used_percent"},
	}
	defaultCategory = map[string]string{
		typeHTTP:       "service",
		typeTCP:        "service",
		typePostgreSQL: "database",
		typeDisk:       "system",
		typeMemory:     "system",
	}
)

func defaultProbeConfig() ProbeConfig {
	client := confighttp.NewDefaultClientConfig()
	// A fresh connection per run measures dns, connect and tls every time and proves
	// that new connections work, as blackbox_exporter does. keepalive::enabled turns
	// reuse back on.
	client.DisableKeepAlives = true //nolint:staticcheck // the upstream field still carries the setting
	return ProbeConfig{
		Critical:             true,
		FailureThreshold:     1,
		SuccessThreshold:     1,
		ClientConfig:         client,
		Method:               http.MethodGet,
		FollowRedirects:      true,
		MaxBodyBytes:         1 << 20,
		Port:                 5432,
		Database:             "postgres",
		SSLMode:              "prefer",
		Path:                 "/",
		DegradedFreePercent:  20,
		UnhealthyFreePercent: 10,
		Source:               memorySourceAuto,
		DegradedUsedPercent:  80,
		UnhealthyUsedPercent: 90,
	}
}

var (
	_ confmap.Unmarshaler = (*ProbeConfig)(nil)
	_ confmap.Unmarshaler = (*BodyCheckConfig)(nil)
)

// Unmarshal fills in the defaults, rejects unknown keys (the squashed upstream client
// settings would otherwise make confmap ignore them, see strictconf) and records which
// keys were set so that Validate can reject keys of another probe type.
func (p *ProbeConfig) Unmarshal(conf *confmap.Conf) error {
	if err := strictconf.Check(withoutOptionalSwitches(conf), p); err != nil {
		return err
	}
	*p = defaultProbeConfig()
	type plain ProbeConfig // same fields, without this Unmarshal method
	if err := conf.Unmarshal((*plain)(p)); err != nil {
		return err
	}
	for k := range conf.ToStringMap() {
		p.keys = append(p.keys, strings.ToLower(k))
	}
	sort.Strings(p.keys)
	return nil
}

// withoutOptionalSwitches drops the "enabled" key of the upstream client's optional
// sections (keepalive, cookies): configoptional reads it, but it is no struct field, so
// strictconf would call it unknown.
func withoutOptionalSwitches(conf *confmap.Conf) *confmap.Conf {
	m := conf.ToStringMap()
	for _, section := range []string{"keepalive", "cookies"} {
		if sub, ok := m[section].(map[string]any); ok {
			if _, has := sub["enabled"]; has {
				clean := make(map[string]any, len(sub))
				for k, v := range sub {
					if k != "enabled" {
						clean[k] = v
					}
				}
				m[section] = clean
			}
		}
	}
	return confmap.NewFromStringMap(m)
}

// Unmarshal rejects unknown keys in a body check: the enclosing probe is decoded with
// unknown keys ignored, so a typo here would otherwise pass silently.
func (b *BodyCheckConfig) Unmarshal(conf *confmap.Conf) error {
	if err := strictconf.Check(conf, b); err != nil {
		return err
	}
	type plain BodyCheckConfig
	return conf.Unmarshal((*plain)(b))
}

// Validate checks the configuration at startup; each message names the field and the
// bad value and says what is allowed. It changes nothing: the values derived from the
// configuration (a timeout left unset, a probe's default category, parsed status
// ranges) are built when the receiver is created (resolveProbe, probeTimeout).
func (cfg *Config) Validate() error {
	var errs []error
	interval := cfg.ControllerConfig.CollectionInterval
	if cfg.ControllerConfig.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s must not be negative (0 or unset: %s, or just under collection_interval when that is %s or less)",
			cfg.ControllerConfig.Timeout, defaultTimeout, defaultTimeout))
	} else if interval > 0 && cfg.ControllerConfig.Timeout >= interval {
		errs = append(errs, fmt.Errorf("timeout %s must be less than collection_interval %s", cfg.ControllerConfig.Timeout, interval))
	}
	if cfg.ControllerConfig.InitialDelay < 0 {
		errs = append(errs, fmt.Errorf("initial_delay %s must not be negative", cfg.ControllerConfig.InitialDelay))
	}
	if cfg.Workers < 1 || cfg.Workers > maxWorkers {
		errs = append(errs, fmt.Errorf("workers %d must be between 1 and %d", cfg.Workers, maxWorkers))
	}
	if len(cfg.Probes) == 0 {
		errs = append(errs, errors.New("probes must list at least one probe (name and type: http, tcp, postgresql, disk or memory)"))
	}
	seen := map[string]int{}
	for i := range cfg.Probes {
		p := &cfg.Probes[i]
		label := fmt.Sprintf("probes[%d] %q", i, p.Name)
		if j, dup := seen[p.Name]; dup && p.Name != "" {
			errs = append(errs, fmt.Errorf("%s: name is already used by probes[%d]: probe names must be unique", label, j))
		}
		seen[p.Name] = i
		for _, err := range p.validate(interval, cfg.probeTimeout()) {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	return errors.Join(errs...)
}

// probeTimeout is the receiver's timeout: the configured one, or when it is unset (0)
// the default, or when the default is not below collection_interval a timeout just
// under the interval (as Prometheus fits scrape_timeout to scrape_interval), so that a
// short interval alone does not stop the collector from starting.
func (cfg *Config) probeTimeout() time.Duration {
	if t := cfg.ControllerConfig.Timeout; t > 0 {
		return t
	}
	interval := cfg.ControllerConfig.CollectionInterval
	if interval <= 0 || defaultTimeout < interval {
		return defaultTimeout
	}
	return interval * 9 / 10
}

// resolveProbe returns a copy of p with the values derived from it: the category its
// type implies when none is set, and the parsed expected_status of an http probe. The
// configuration itself stays as it was loaded.
func resolveProbe(p ProbeConfig) (ProbeConfig, error) {
	if p.Category == "" {
		p.Category = defaultCategory[p.Type]
	}
	if p.Type == typeHTTP {
		ranges, err := parseExpectedStatus(p.ExpectedStatus)
		if err != nil {
			return p, fmt.Errorf("probe %q: %w", p.Name, err)
		}
		p.statusRanges = ranges
	}
	return p, nil
}

// effectiveTimeout is the probe's own timeout or the receiver's.
func (p *ProbeConfig) effectiveTimeout(receiverTimeout time.Duration) time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return receiverTimeout
}

func (p *ProbeConfig) validate(interval, receiverTimeout time.Duration) []error {
	var errs []error
	if !snakeCase.MatchString(p.Name) {
		errs = append(errs, fmt.Errorf("name %q must be lower_snake_case: a lowercase letter, then lowercase letters, digits or _ (at most 63)", p.Name))
	}
	if !slices.Contains(probeTypes, p.Type) {
		errs = append(errs, fmt.Errorf("type %q is not a probe type: use one of %s", p.Type, strings.Join(probeTypes, ", ")))
		return errs
	}
	allowed := append(slices.Clone(commonKeys), keysByType[p.Type]...)
	for _, k := range p.keys {
		if !slices.Contains(allowed, k) {
			errs = append(errs, fmt.Errorf("%q does not apply to type %q: it takes %s", k, p.Type, strings.Join(keysByType[p.Type], ", ")))
		}
	}
	if p.Category != "" && !snakeCase.MatchString(p.Category) {
		errs = append(errs, fmt.Errorf("category %q must be lower_snake_case, for example database, llm_provider, agent, system", p.Category))
	}
	if p.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s must not be negative (0 takes the receiver's timeout)", p.Timeout))
	} else if p.Timeout > 0 && interval > 0 && p.Timeout >= interval {
		// An inherited timeout is checked once, at the receiver level.
		errs = append(errs, fmt.Errorf("timeout %s must be less than collection_interval %s", p.Timeout, interval))
	}
	if p.DegradedLatency < 0 {
		errs = append(errs, fmt.Errorf("degraded_latency %s must not be negative (0 turns it off)", p.DegradedLatency))
	} else if t := p.effectiveTimeout(receiverTimeout); p.DegradedLatency > 0 && p.DegradedLatency >= t {
		errs = append(errs, fmt.Errorf("degraded_latency %s must be less than the probe's timeout %s", p.DegradedLatency, t))
	}
	if p.FailureThreshold < 1 {
		errs = append(errs, fmt.Errorf("failure_threshold %d must be at least 1", p.FailureThreshold))
	}
	if p.SuccessThreshold < 1 {
		errs = append(errs, fmt.Errorf("success_threshold %d must be at least 1", p.SuccessThreshold))
	}
	switch p.Type {
	case typeHTTP:
		errs = append(errs, p.validateHTTP()...)
	case typeTCP:
		if err := validateHostPort(p.ClientConfig.Endpoint); err != nil {
			errs = append(errs, err)
		}
	case typePostgreSQL:
		errs = append(errs, p.validatePostgreSQL()...)
	case typeDisk:
		if !filepath.IsAbs(p.Path) {
			errs = append(errs, fmt.Errorf("path %q must be an absolute path, for example \"/\" or \"/var/lib/postgresql\"", p.Path))
		}
		errs = append(errs, validatePercents("unhealthy_free_percent", p.UnhealthyFreePercent, "degraded_free_percent", p.DegradedFreePercent)...)
	case typeMemory:
		if !slices.Contains([]string{memorySourceAuto, memorySourceHost, memorySourceCgroup}, p.Source) {
			errs = append(errs, fmt.Errorf("source %q must be auto, host or cgroup", p.Source))
		}
		errs = append(errs, validatePercents("degraded_used_percent", p.DegradedUsedPercent, "unhealthy_used_percent", p.UnhealthyUsedPercent)...)
	}
	return errs
}

func (p *ProbeConfig) validateHTTP() []error {
	var errs []error
	u, err := url.Parse(p.ClientConfig.Endpoint)
	switch {
	case p.ClientConfig.Endpoint == "":
		errs = append(errs, errors.New(`endpoint must be set to an http:// or https:// URL, for example "https://api.openai.com/v1/models"`))
	case err != nil:
		errs = append(errs, fmt.Errorf("endpoint is not a URL: %s", redactURLError(err)))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("endpoint scheme %q must be http or https", u.Scheme))
	case u.Host == "":
		errs = append(errs, errors.New("endpoint has no host: use http://host[:port]/path"))
	}
	if !validMethod(p.Method) {
		errs = append(errs, fmt.Errorf("method %q is not an HTTP method, for example GET, HEAD or POST", p.Method))
	}
	if _, err := parseExpectedStatus(p.ExpectedStatus); err != nil {
		errs = append(errs, err)
	}
	if p.MaxBodyBytes < 1 {
		errs = append(errs, fmt.Errorf("max_body_bytes %d must be positive", p.MaxBodyBytes))
	}
	names := map[string]bool{}
	for i, c := range p.BodyChecks {
		label := fmt.Sprintf("body_checks[%d] %q", i, c.Name)
		if !snakeCase.MatchString(c.Name) {
			errs = append(errs, fmt.Errorf("%s: name must be lower_snake_case; each check needs a name, which identifies it in metrics and /health", label))
		} else if names[c.Name] {
			errs = append(errs, fmt.Errorf("%s: name is already used by another check of this probe", label))
		}
		names[c.Name] = true
		set := 0
		for _, v := range []string{c.Contains, c.Regex, c.JSONPath} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			errs = append(errs, fmt.Errorf("%s: set exactly one of contains, regex or json_path", label))
			continue
		}
		if c.Regex != "" {
			if _, err := regexp.Compile(c.Regex); err != nil {
				errs = append(errs, fmt.Errorf("%s: regex %q does not compile: %w", label, c.Regex, err))
			}
		}
		if c.JSONPath != "" {
			if _, err := parseJSONPath(c.JSONPath); err != nil {
				errs = append(errs, fmt.Errorf("%s: json_path %q: %w", label, c.JSONPath, err))
			}
			if c.Equals == nil {
				errs = append(errs, fmt.Errorf("%s: json_path needs equals: the value expected at that path", label))
			} else if !isScalar(c.Equals) {
				errs = append(errs, fmt.Errorf("%s: equals must be a string, number or boolean", label))
			}
		} else if c.Equals != nil {
			errs = append(errs, fmt.Errorf("%s: equals applies only to json_path", label))
		}
	}
	return errs
}

func (p *ProbeConfig) validatePostgreSQL() []error {
	var errs []error
	if p.Host == "" {
		errs = append(errs, errors.New(`host must be set, for example "localhost" or "db.internal"`))
	}
	if p.Port < 1 || p.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d must be between 1 and 65535", p.Port))
	}
	if p.User == "" {
		errs = append(errs, errors.New("user must be set"))
	}
	if p.Database == "" {
		errs = append(errs, errors.New("database must not be empty"))
	}
	if p.Password != "" && p.PasswordFile != "" {
		errs = append(errs, errors.New("set password or password_file, not both"))
	}
	if !slices.Contains(sslModes, p.SSLMode) {
		errs = append(errs, fmt.Errorf("sslmode %q must be one of %s", p.SSLMode, strings.Join(sslModes, ", ")))
	}
	return errs
}

func validateHostPort(endpoint string) error {
	if endpoint == "" {
		return errors.New(`endpoint must be set to host:port, for example "localhost:5432"`)
	}
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("endpoint %q must be host:port, for example \"localhost:5432\"", safetext.Clean(endpoint))
	}
	return nil
}

// validatePercents checks that low <= high and both lie in [0, 100].
func validatePercents(lowName string, low float64, highName string, high float64) []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    float64
	}{{lowName, low}, {highName, high}} {
		if f.v < 0 || f.v > 100 {
			errs = append(errs, fmt.Errorf("%s %g must be between 0 and 100", f.name, f.v))
		}
	}
	if len(errs) == 0 && low > high {
		errs = append(errs, fmt.Errorf("%s %g must not be greater than %s %g", lowName, low, highName, high))
	}
	return errs
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

// redactURLError keeps a URL parse error's reason without echoing the URL, which may
// carry credentials.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "invalid URL"
}
