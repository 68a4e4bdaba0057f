package config_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

const composeFile = "compose/compose.yaml"

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   []string          `yaml:"depends_on"`
	MemLimit    string            `yaml:"mem_limit"`
	Restart     string            `yaml:"restart"`
}

type composeDoc struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func loadCompose(t *testing.T) composeDoc {
	t.Helper()
	b, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	var doc composeDoc
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&doc), "%s uses a key this test does not know: extend composeService if it is valid Compose", composeFile)
	return doc
}

// composeDefault resolves Compose's ${VAR:-default} interpolation to its default, as on
// a machine where the variable is not set.
var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

func composeDefault(s string) string {
	return composeVar.ReplaceAllStringFunc(s, func(m string) string {
		return composeVar.FindStringSubmatch(m)[2]
	})
}

type bindMount struct{ service, source, target string }

// bindMounts lists the volumes that mount a file or folder of the repository: short
// syntax SOURCE:TARGET[:MODE] with a path source (named volumes have none).
func bindMounts(doc composeDoc) []bindMount {
	var out []bindMount
	for name, svc := range doc.Services {
		for _, v := range svc.Volumes {
			parts := strings.Split(composeDefault(v), ":")
			if len(parts) < 2 || !(strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/")) {
				continue
			}
			out = append(out, bindMount{service: name, source: parts[0], target: parts[1]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].service+out[i].target < out[j].service+out[j].target })
	return out
}

// TestComposeMountedFilesExist checks that every file or folder compose.yaml mounts
// exists in the repository (paths relative to config/compose/), and names each that
// does not.
func TestComposeMountedFilesExist(t *testing.T) {
	doc := loadCompose(t)
	mounts := bindMounts(doc)
	require.NotEmpty(t, mounts)
	var missing []string
	for _, m := range mounts {
		path := filepath.Join(filepath.Dir(composeFile), m.source)
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, "config/"+filepath.ToSlash(path)+" (service "+m.service+", mounted at "+m.target+")")
		}
	}
	if len(missing) > 0 {
		t.Fatalf("compose.yaml mounts files that are not in the repository:\n  %s", strings.Join(missing, "\n  "))
	}

	// Build contexts and Dockerfiles are files too.
	for name, svc := range doc.Services {
		if svc.Build == nil {
			continue
		}
		ctx := filepath.Join(filepath.Dir(composeFile), svc.Build.Context)
		_, err := os.Stat(filepath.Join(ctx, svc.Build.Dockerfile))
		assert.NoError(t, err, "service %s builds from a missing Dockerfile", name)
	}
}

// TestComposeStack checks what the stack promises: each service present, each mounting
// the repository file it runs on, at the path its command or provisioning reads.
func TestComposeStack(t *testing.T) {
	doc := loadCompose(t)
	for _, name := range []string{"otelcol", "prometheus", "alertmanager", "grafana", "jaeger"} {
		require.Contains(t, doc.Services, name)
	}
	mounted := map[string]map[string]string{} // service -> target -> source
	for _, m := range bindMounts(doc) {
		if mounted[m.service] == nil {
			mounted[m.service] = map[string]string{}
		}
		mounted[m.service][m.target] = m.source
	}
	expect := []struct{ service, source, target string }{
		{"otelcol", "../otelcol.yaml", "/etc/otelcol/otelcol.yaml"},
		{"otelcol", "../overlays/traces-backend.yaml", "/etc/otelcol/traces-backend.yaml"},
		{"prometheus", "./prometheus.yml", "/etc/prometheus/prometheus.yml"},
		{"prometheus", "../prometheus/alerts.yaml", "/etc/prometheus/alerts.yaml"},
		{"alertmanager", "../alertmanager/alertmanager.yml", "/etc/alertmanager/alertmanager.yml"},
		{"alertmanager", "./secrets.example", "/etc/alertmanager/secrets"},
		{"grafana", "../grafana/provisioning", "/etc/grafana/provisioning"},
		{"grafana", "../grafana/dashboards", "/var/lib/grafana/dashboards/otelcol-procode"},
	}
	for _, e := range expect {
		assert.Equal(t, e.source, mounted[e.service][e.target], "service %s must mount %s at %s", e.service, e.source, e.target)
	}

	// The collector runs the files it mounts.
	col := doc.Services["otelcol"]
	for target := range mounted["otelcol"] {
		assert.Contains(t, col.Command, "--config="+target)
	}
	// In a container, a listener on localhost is unreachable from Prometheus and apps.
	for _, k := range []string{"OTLP_GRPC_ENDPOINT", "OTLP_HTTP_ENDPOINT", "PROMETHEUS_ENDPOINT", "READINESS_ENDPOINT", "TELEMETRY_HOST"} {
		assert.True(t, strings.HasPrefix(col.Environment[k], "0.0.0.0"), "otelcol %s=%q must bind all interfaces", k, col.Environment[k])
	}
	assert.Equal(t, "jaeger:4317", col.Environment["OTLP_TRACES_ENDPOINT"], "traces go to the jaeger service")

	// Alertmanager reads its secrets from files under /etc/alertmanager/secrets/: each
	// file alertmanager.yml names must be in the mounted folder.
	am, err := os.ReadFile("alertmanager/alertmanager.yml")
	require.NoError(t, err)
	secretFiles := regexp.MustCompile(`_file:\s*(/etc/alertmanager/secrets/\S+)`).FindAllStringSubmatch(string(am), -1)
	require.NotEmpty(t, secretFiles)
	for _, m := range secretFiles {
		rel := strings.TrimPrefix(m[1], "/etc/alertmanager/secrets/")
		_, err := os.Stat(filepath.Join("compose", "secrets.example", rel))
		assert.NoError(t, err, "alertmanager.yml reads %s: add a placeholder to config/compose/secrets.example/", m[1])
	}

	// Grafana's datasource URL names the Prometheus service and its published port.
	dsb, err := os.ReadFile(grafanaDatasources)
	require.NoError(t, err)
	assert.Contains(t, string(dsb), "url: http://prometheus:9090")
	assert.Contains(t, doc.Services["prometheus"].Ports, "9090:9090")
}

// promConfig is the part of a prometheus.yml the tests check.
type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
	Alerting struct {
		Alertmanagers []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"alertmanagers"`
	} `yaml:"alerting"`
}

func loadPromConfig(t *testing.T, path string) promConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "config/%s is missing", path)
	var c promConfig
	require.NoError(t, yaml.Unmarshal(b, &c))
	return c
}

// TestComposePrometheusConfig checks the Compose Prometheus config against the shipped
// one (same jobs and rule files, so the alert rules select the right series), that it
// scrapes the collector service on the ports the collector listens on, and that promtool
// accepts it together with alerts.yaml.
func TestComposePrometheusConfig(t *testing.T) {
	composeProm := loadPromConfig(t, "compose/prometheus.yml")
	shipped := loadPromConfig(t, "prometheus/prometheus.yml")

	jobs := func(c promConfig) []string {
		var out []string
		for _, s := range c.ScrapeConfigs {
			out = append(out, s.JobName)
		}
		sort.Strings(out)
		return out
	}
	assert.Equal(t, jobs(shipped), jobs(composeProm), "compose/prometheus.yml must keep the job names of prometheus/prometheus.yml")
	assert.Equal(t, shipped.RuleFiles, composeProm.RuleFiles)

	col := loadCompose(t).Services["otelcol"]
	listen := map[string]bool{}
	for _, k := range []string{"PROMETHEUS_ENDPOINT"} {
		listen["otelcol:"+col.Environment[k][strings.LastIndex(col.Environment[k], ":")+1:]] = true
	}
	listen["otelcol:"+col.Environment["TELEMETRY_PORT"]] = true
	for _, s := range composeProm.ScrapeConfigs {
		for _, sc := range s.StaticConfigs {
			for _, target := range sc.Targets {
				assert.True(t, listen[target], "job %s scrapes %s, where the collector does not listen (it listens on %v)", s.JobName, target, listen)
			}
		}
	}
	require.NotEmpty(t, composeProm.Alerting.Alertmanagers)
	assert.Equal(t, []string{"alertmanager:9093"}, composeProm.Alerting.Alertmanagers[0].StaticConfigs[0].Targets)

	promtool := harness.RequireCommand(t, "promtool", "prometheus")
	dir := t.TempDir()
	copyFile(t, "compose/prometheus.yml", filepath.Join(dir, "prometheus.yml"))
	for _, rf := range composeProm.RuleFiles {
		copyFile(t, filepath.Join("prometheus", rf), filepath.Join(dir, rf))
	}
	out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	require.NoError(t, err, "promtool check config:\n%s", out)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err, "config/%s is missing", from)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}
