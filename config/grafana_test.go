package config_test

import (
	"encoding/json"
	"fmt"
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

const (
	grafanaDashboards  = "grafana/dashboards"
	grafanaDatasources = "grafana/provisioning/datasources/prometheus.yaml"
	grafanaProviders   = "grafana/provisioning/dashboards/otelcol-procode.yaml"
)

type grafanaRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaTarget struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *grafanaRef `json:"datasource"`
}

type grafanaPanel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *grafanaRef              `json:"datasource"`
	GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
	Targets    []grafanaTarget          `json:"targets"`
	Panels     []grafanaPanel           `json:"panels"` // a row's collapsed panels
}

type grafanaDashboard struct {
	UID        string         `json:"uid"`
	Title      string         `json:"title"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string      `json:"name"`
			Type       string      `json:"type"`
			Query      any         `json:"query"`
			Datasource *grafanaRef `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

// provisionedDatasource returns the uid and type of the one datasource Grafana is
// provisioned with.
func provisionedDatasource(t *testing.T) grafanaRef {
	t.Helper()
	b, err := os.ReadFile(grafanaDatasources)
	require.NoError(t, err)
	var doc struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, URL, Access string
			IsDefault                    bool `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.Equal(t, 1, doc.APIVersion)
	require.Len(t, doc.Datasources, 1, "one provisioned datasource")
	ds := doc.Datasources[0]
	require.Equal(t, "prometheus", ds.Type)
	require.NotEmpty(t, ds.UID, "the datasource needs a fixed uid for dashboards to refer to")
	require.NotEmpty(t, ds.URL)
	require.True(t, ds.IsDefault)
	return grafanaRef{Type: ds.Type, UID: ds.UID}
}

func loadDashboards(t *testing.T) map[string]grafanaDashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(grafanaDashboards, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]grafanaDashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := json.NewDecoder(strings.NewReader(string(b)))
		var d grafanaDashboard
		require.NoError(t, dec.Decode(&d), "%s is not valid dashboard JSON", f)
		out[filepath.Base(f)] = d
	}
	return out
}

// allPanels flattens rows: a collapsed row keeps its panels inside it.
func allPanels(ps []grafanaPanel) []grafanaPanel {
	var out []grafanaPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func TestGrafanaDashboardProvider(t *testing.T) {
	b, err := os.ReadFile(grafanaProviders)
	require.NoError(t, err)
	var doc struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Folder, Type string
			Options            struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.Equal(t, 1, doc.APIVersion)
	require.Len(t, doc.Providers, 1)
	p := doc.Providers[0]
	assert.Equal(t, "file", p.Type)
	assert.True(t, filepath.IsAbs(p.Options.Path), "provider path %q must be absolute (where the dashboards are mounted)", p.Options.Path)

	// Compose mounts config/grafana/dashboards exactly where the provider reads.
	compose, err := os.ReadFile("compose/compose.yaml")
	require.NoError(t, err)
	assert.Contains(t, string(compose), "../grafana/dashboards:"+p.Options.Path, "compose.yaml must mount the dashboards at the provider's path")
}

// TestGrafanaDashboards checks every dashboard's structure: unique uid and title, every
// panel and query on the provisioned datasource, every panel with at least one query
// and no empty query, panels inside the 24-column grid, the dashboards the operations
// bundle promises all present.
func TestGrafanaDashboards(t *testing.T) {
	ds := provisionedDatasource(t)
	dashboards := loadDashboards(t)

	uids, titles := map[string]string{}, map[string]string{}
	for file, d := range dashboards {
		t.Run(file, func(t *testing.T) {
			require.NotEmpty(t, d.UID, "uid")
			assert.LessOrEqual(t, len(d.UID), 40, "Grafana uids are at most 40 characters")
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q is used by %s and %s", d.UID, other, file)
			}
			uids[d.UID] = file
			require.NotEmpty(t, d.Title, "title")
			if other, dup := titles[d.Title]; dup {
				t.Errorf("title %q is used by %s and %s", d.Title, other, file)
			}
			titles[d.Title] = file

			for _, v := range d.Templating.List {
				if v.Type != "query" {
					continue
				}
				require.NotNil(t, v.Datasource, "variable %s has no datasource", v.Name)
				assert.Equal(t, ds, *v.Datasource, "variable %s must use the provisioned datasource", v.Name)
				assert.NotEmpty(t, v.Query, "variable %s has no query", v.Name)
			}

			panels := allPanels(d.Panels)
			require.NotEmpty(t, panels)
			ids := map[int]bool{}
			queries := 0
			for _, p := range panels {
				where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
				assert.False(t, ids[p.ID], "%s: duplicate panel id", where)
				ids[p.ID] = true
				assert.NotEmpty(t, p.Title, "%s: no title", where)
				assert.True(t, p.GridPos.W > 0 && p.GridPos.H > 0 && p.GridPos.X >= 0 && p.GridPos.X+p.GridPos.W <= 24,
					"%s: gridPos %+v outside the 24-column grid", where, p.GridPos)
				if p.Type == "row" {
					continue
				}
				if assert.NotNil(t, p.Datasource, "%s: no datasource", where) {
					assert.Equal(t, ds, *p.Datasource, "%s: must use the provisioned datasource", where)
				}
				if !assert.NotEmpty(t, p.Targets, "%s: no queries", where) {
					continue
				}
				refs := map[string]bool{}
				for _, q := range p.Targets {
					queries++
					assert.NotEmpty(t, strings.TrimSpace(q.Expr), "%s query %s: empty expr", where, q.RefID)
					assert.NotEmpty(t, q.RefID, "%s: a query without refId", where)
					assert.False(t, refs[q.RefID], "%s: duplicate refId %s", where, q.RefID)
					refs[q.RefID] = true
					if q.Datasource != nil {
						assert.Equal(t, ds, *q.Datasource, "%s query %s: must use the provisioned datasource", where, q.RefID)
					}
				}
			}
			assert.Positive(t, queries)
		})
	}

	for _, want := range []string{"overview.json", "llm.json", "agents.json", "dependencies.json", "api-keys.json", "collector.json"} {
		assert.Contains(t, dashboards, want, "the operations bundle ships this dashboard")
	}
}

// grafanaVariables are replaced by values PromQL accepts before promtool parses a query.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "5m", "$__interval", "1m", "$__range", "6h",
)

var grafanaUserVariable = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

// TestGrafanaQueriesParse hands every dashboard query to promtool (as recording rules)
// so that a syntax error fails here rather than as an empty panel.
func TestGrafanaQueriesParse(t *testing.T) {
	promtool := harness.RequireCommand(t, "promtool", "prometheus")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	dashboards := loadDashboards(t)
	files := make([]string, 0, len(dashboards))
	for f := range dashboards {
		files = append(files, f)
	}
	sort.Strings(files)
	var where []string
	for _, f := range files {
		for _, p := range allPanels(dashboards[f].Panels) {
			for _, q := range p.Targets {
				expr := grafanaVariables.Replace(q.Expr)
				expr = grafanaUserVariable.ReplaceAllString(expr, ".*")
				rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query:%d", len(rules)), Expr: expr})
				where = append(where, fmt.Sprintf("%s panel %q query %s", f, p.Title, q.RefID))
			}
		}
	}
	require.NotEmpty(t, rules)
	doc := map[string]any{"groups": []any{map[string]any{"name": "dashboards", "rules": rules}}}
	b, err := yaml.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		// promtool names the failing rule by its index in the group: map it back.
		msg := string(out)
		for i := len(where) - 1; i >= 0; i-- {
			msg = strings.ReplaceAll(msg, fmt.Sprintf("dashboard:query:%d", i), where[i])
		}
		t.Fatalf("promtool check rules: %v\n%s", err, msg)
	}
	assert.Contains(t, string(out), fmt.Sprintf("%d rules found", len(rules)))
}
