package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// This file checks PromQL queries (alert rules, dashboard panels, runbook queries)
// against what the collector really exposes: every metric a query selects must exist,
// and the labels it matches, groups and joins on must exist on that metric.

// exposition indexes scraped series: series name -> label name -> values seen.
type exposition map[string]map[string]map[string]bool

// add indexes every series of fams under the names Prometheus stores them by.
func (e exposition) add(fams harness.Families) {
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			switch fam.GetType() {
			case dto.MetricType_HISTOGRAM:
				for _, b := range m.GetHistogram().GetBucket() {
					e.put(name+"_bucket", m, "le", fmt.Sprint(b.GetUpperBound()))
				}
				e.put(name+"_sum", m, "", "")
				e.put(name+"_count", m, "", "")
			case dto.MetricType_SUMMARY:
				e.put(name, m, "quantile", "")
				e.put(name+"_sum", m, "", "")
				e.put(name+"_count", m, "", "")
			default:
				e.put(name, m, "", "")
			}
		}
	}
}

func (e exposition) put(series string, m *dto.Metric, extraLabel, extraValue string) {
	ls := e[series]
	if ls == nil {
		ls = map[string]map[string]bool{}
		e[series] = ls
	}
	set := func(k, v string) {
		if ls[k] == nil {
			ls[k] = map[string]bool{}
		}
		ls[k][v] = true
	}
	for _, l := range m.GetLabel() {
		set(l.GetName(), l.GetValue())
	}
	if extraLabel != "" {
		set(extraLabel, extraValue)
	}
}

// Series Prometheus makes itself for every target: not in any exposition.
var prometheusSeries = map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true}

// Labels queries may use that no exporter sets: Prometheus' target labels, and the
// `service` label alerts.yaml sets with label_replace (or prometheus.yml with
// metric_relabel_configs; see config/prometheus/prometheus.yml).
var externalLabels = map[string]bool{"job": true, "instance": true, "service": true}

// query is one PromQL expression and where it comes from.
type query struct {
	source string
	expr   string
	// checkValues: equality matchers must match a value seen (false for documentation
	// with placeholders such as service_name="SERVICE").
	checkValues bool
}

// grafanaVarValue replaces a dashboard variable in a query before parsing.
const grafanaVarValue = "grafana_variable"

var (
	grafanaInterval = regexp.MustCompile(`\$\{?__(rate_interval|interval|range|interval_ms|range_s|range_ms)(:[^}]*)?\}?`)
	grafanaVariable = regexp.MustCompile(`\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]+\]\]`)
)

// substituteGrafana turns a dashboard query into plain PromQL: interval variables become
// 5m, other variables a placeholder value (label values containing it are not checked).
func substituteGrafana(expr string) string {
	expr = grafanaInterval.ReplaceAllString(expr, "5m")
	return grafanaVariable.ReplaceAllString(expr, grafanaVarValue)
}

// checkQuery parses q and returns every problem found against e.
func checkQuery(q query, e exposition) []string {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q.expr)
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			name := selectorName(n)
			if name == "" {
				report("selector %s has no fixed metric name: cannot check it", n)
				return nil
			}
			if prometheusSeries[name] {
				return nil
			}
			series, ok := e[name]
			if !ok {
				report("metric %s is not exported", name)
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name == labels.MetricName || externalLabels[m.Name] || m.Matches("") {
					continue
				}
				values, ok := series[m.Name]
				if !ok {
					report("metric %s has no label %s (it has %s)", name, m.Name, labelNames(series))
					continue
				}
				if m.Type == labels.MatchEqual && q.checkValues && !strings.Contains(m.Value, grafanaVarValue) && !values[m.Value] {
					report("no series %s{%s=%q} (values seen: %s)", name, m.Name, m.Value, setString(values))
				}
			}
		case *parser.AggregateExpr:
			if !n.Without {
				problems = append(problems, checkLabelsExist(n.Expr, n.Grouping, e, "by")...)
			}
		case *parser.BinaryExpr:
			if vm := n.VectorMatching; vm != nil {
				both := parser.Expressions{n.LHS, n.RHS}
				problems = append(problems, checkLabelsExist(both, vm.MatchingLabels, e, "on/ignoring")...)
				problems = append(problems, checkLabelsExist(both, vm.Include, e, "group_left/group_right")...)
			}
		case *parser.Call:
			if n.Func.Name == "label_replace" && len(n.Args) == 5 {
				if src, ok := n.Args[3].(*parser.StringLiteral); ok && src.Val != "" {
					problems = append(problems, checkLabelsExist(n.Args[0], []string{src.Val}, e, "label_replace source")...)
				}
			}
		}
		return nil
	})
	return problems
}

// metricNames lists the metric names a query selects (none when it does not parse).
func metricNames(expr string) []string {
	parsed, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil
	}
	var names []string
	parser.Inspect(parsed, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, selectorName(vs))
		}
		return nil
	})
	return names
}

func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// checkLabelsExist checks that each label in names is on at least one exported metric
// selected under node, or is made by a label_replace/label_join under node.
func checkLabelsExist(node parser.Node, names []string, e exposition, what string) []string {
	var metrics []string
	made := map[string]bool{}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			if name := selectorName(n); name != "" && !prometheusSeries[name] {
				if _, ok := e[name]; ok {
					metrics = append(metrics, name)
				}
			}
		case *parser.Call:
			if (n.Func.Name == "label_replace" || n.Func.Name == "label_join") && len(n.Args) > 1 {
				if dst, ok := n.Args[1].(*parser.StringLiteral); ok {
					made[dst.Val] = true
				}
			}
		}
		return nil
	})
	if len(metrics) == 0 {
		return nil // only Prometheus' own series, or missing metrics (reported already)
	}
	var problems []string
	for _, l := range names {
		if externalLabels[l] || made[l] {
			continue
		}
		found := false
		for _, m := range metrics {
			if _, ok := e[m][l]; ok {
				found = true
				break
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s label %s is on none of %s", what, l, strings.Join(metrics, ", ")))
		}
	}
	return problems
}

func labelNames(series map[string]map[string]bool) string {
	names := make([]string, 0, len(series))
	for n := range series {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func setString(set map[string]bool) string {
	vals := make([]string, 0, len(set))
	for v := range set {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	if len(vals) > 20 {
		vals = append(vals[:20], "...")
	}
	return strings.Join(vals, ", ")
}

// alertQueries returns the expr of every rule in an alerts file.
func alertQueries(t *testing.T, path string) []query {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	var qs []query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			qs = append(qs, query{source: fmt.Sprintf("%s alert %s%s", filepath.Base(path), r.Alert, r.Record), expr: r.Expr, checkValues: true})
		}
	}
	return qs
}

// dashboardQueries returns every PromQL query of the Grafana dashboards (*.json) under
// dir: panel targets' `expr` at any depth (rows, nested panels, library panels) and
// query variables (label_values(selector, label), query_result(query)). A missing dir
// gives none.
func dashboardQueries(dir string) ([]query, error) {
	var qs []query
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == dir {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".json") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		qs = append(qs, jsonQueries(path, doc)...)
		return nil
	})
	return qs, err
}

var (
	labelValuesQuery = regexp.MustCompile(`^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)
	queryResultQuery = regexp.MustCompile(`^\s*query_result\(\s*(.+)\s*\)\s*$`)
)

func jsonQueries(path string, doc any) []query {
	var qs []query
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if title, ok := v["title"].(string); ok && title != "" {
				where = title
			}
			if expr, ok := v["expr"].(string); ok && strings.TrimSpace(expr) != "" {
				qs = append(qs, query{source: fmt.Sprintf("%s panel %q", path, where), expr: substituteGrafana(expr), checkValues: true})
			}
			if tmpl, ok := v["templating"].(map[string]any); ok {
				list, _ := tmpl["list"].([]any)
				for _, item := range list {
					qs = append(qs, variableQueries(path, item)...)
				}
			}
			for k, child := range v {
				if k != "templating" {
					walk(child, where)
				}
			}
		case []any:
			for _, child := range v {
				walk(child, where)
			}
		}
	}
	walk(doc, "")
	return qs
}

func variableQueries(path string, item any) []query {
	m, ok := item.(map[string]any)
	if !ok || m["type"] != "query" {
		return nil
	}
	var text string
	switch q := m["query"].(type) {
	case string:
		text = q
	case map[string]any:
		text, _ = q["query"].(string)
	}
	source := fmt.Sprintf("%s variable %v", path, m["name"])
	text = substituteGrafana(text)
	if g := labelValuesQuery.FindStringSubmatch(text); g != nil {
		// label_values(selector, label): the label must be on the selected metric.
		return []query{{source: source, expr: fmt.Sprintf("count by (%s) (%s)", g[2], g[1]), checkValues: true}}
	}
	if g := queryResultQuery.FindStringSubmatch(text); g != nil {
		return []query{{source: source, expr: g[1], checkValues: true}}
	}
	return nil
}

// markdownQueries returns the queries of the ```promql blocks of a Markdown file. A line
// that starts without indentation starts a query; indented lines continue it; comments
// and blank lines separate queries.
func markdownQueries(path string) ([]query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []query
	var cur []string
	in := false
	flush := func() {
		if len(cur) > 0 {
			qs = append(qs, query{source: path, expr: strings.Join(cur, "\n")})
			cur = nil
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "```promql"):
			in = true
		case in && strings.HasPrefix(line, "```"):
			flush()
			in = false
		case !in:
		case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
			flush()
		case strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t"):
			cur = append(cur, line)
		default:
			flush()
			cur = append(cur, line)
		}
	}
	return qs, sc.Err()
}

// TestPromQLChecker proves the checker catches what it is for, on a small exposition:
// a misspelt metric, a missing label, a label value never seen, a grouping label no
// metric has; and accepts correct queries, label_replace-made labels and dashboard
// variables.
func TestPromQLChecker(t *testing.T) {
	e := exposition{
		"http_server_requests_total": {"service_name": {"api": true}, "http_status_class": {"2xx": true, "5xx": true}},
		"llm_requests_total":         {"outcome": {"ok": true, "error": true}, "gen_ai_provider_name": {"openai": true}},
		"healthprobe_up":             {"probe_category": {"database": true}, "probe_name": {"db": true}},
	}
	ok := []string{
		`sum by (service_name) (rate(http_server_requests_total{http_status_class="5xx"}[5m])) / sum by (service_name) (rate(http_server_requests_total[5m]))`,
		`label_replace(sum by (service_name) (rate(http_server_requests_total[5m])), "service", "$1", "service_name", "(.+)")`,
		`sum by (signal) (label_replace(rate(llm_requests_total[5m]), "signal", "x", "", ""))`,
		`up{job="otelcol-procode"} == 0 or healthprobe_up{probe_category="database", service=""} == 0`,
		`sum by (outcome) (rate(llm_requests_total[5m])) / ignoring(outcome) group_left sum(rate(llm_requests_total[5m]))`,
		substituteGrafana(`sum by (service_name) (rate(http_server_requests_total{service_name=~"$service", http_status_class="${class}"}[$__rate_interval]))`),
	}
	for _, q := range ok {
		assert.Empty(t, checkQuery(query{expr: q, checkValues: true}, e), q)
	}
	bad := map[string]string{
		`rate(http_server_request_total[5m])`:                               "metric http_server_request_total is not exported",
		`rate(http_server_requests_total{status_class="5xx"}[5m])`:          "has no label status_class",
		`rate(llm_requests_total{outcome="failed"}[5m])`:                    `no series llm_requests_total{outcome="failed"}`,
		`sum by (service) (rate(llm_requests_total[5m]))`:                   "",
		`sum by (service_name) (rate(llm_requests_total[5m]))`:              "by label service_name is on none of llm_requests_total",
		`label_replace(healthprobe_up, "service", "$1", "probe", "(.+)")`:   "label_replace source label probe is on none of healthprobe_up",
		`rate(http_server_requests_total[5m]) / on(outcome) healthprobe_up`: "on/ignoring label outcome",
		`{__name__=~"http_.*"}`:                                             "no fixed metric name",
		`sum(rate(http_server_requests_total[5m]`:                           "does not parse",
	}
	for q, want := range bad {
		problems := checkQuery(query{expr: q, checkValues: true}, e)
		if want == "" {
			assert.Empty(t, problems, "%s: the service label is made by the rules: %v", q, problems)
			continue
		}
		assert.Contains(t, strings.Join(problems, "\n"), want, q)
	}
	// Placeholder values in documentation are not checked, label names still are.
	assert.Empty(t, checkQuery(query{expr: `rate(http_server_requests_total{service_name="SERVICE"}[5m])`}, e))
	assert.NotEmpty(t, checkQuery(query{expr: `rate(http_server_requests_total{service="x", route="SERVICE"}[5m])`}, e))
}

// TestDashboardQueryExtraction proves the dashboard walker finds queries where Grafana
// keeps them: nested row panels, targets, query variables in both forms.
func TestDashboardQueryExtraction(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", "overview.json"), []byte(`{
  "title": "Overview",
  "templating": {"list": [
    {"name": "service", "type": "query", "query": {"query": "label_values(http_server_requests_total, service_name)", "refId": "A"}},
    {"name": "model", "type": "query", "query": "label_values(llm_cost_usd_total{service_name=~\"$service\"}, llm_cost_model)"},
    {"name": "top", "type": "query", "query": "query_result(topk(5, llm_requests_total))"},
    {"name": "interval", "type": "interval", "query": "1m,5m"}
  ]},
  "panels": [
    {"type": "row", "title": "Traffic", "panels": [
      {"title": "Requests", "targets": [{"expr": "sum by (service_name) (rate(http_server_requests_total{service_name=~\"$service\"}[$__rate_interval]))", "refId": "A"}]}
    ]},
    {"title": "Errors", "targets": [{"expr": "sum(rate(llm_requests_total{outcome=\"error\"}[${__interval}]))"}, {"expr": ""}]}
  ]
}`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "datasource.yaml"), []byte("apiVersion: 1\n"), 0o600))
	qs, err := dashboardQueries(dir)
	require.NoError(t, err)
	var exprs []string
	for _, q := range qs {
		exprs = append(exprs, q.expr)
	}
	sort.Strings(exprs)
	assert.Equal(t, []string{
		"count by (llm_cost_model) (llm_cost_usd_total{service_name=~\"grafana_variable\"})",
		"count by (service_name) (http_server_requests_total)",
		"sum by (service_name) (rate(http_server_requests_total{service_name=~\"grafana_variable\"}[5m]))",
		"sum(rate(llm_requests_total{outcome=\"error\"}[5m]))",
		"topk(5, llm_requests_total)",
	}, exprs)

	none, err := dashboardQueries(filepath.Join(dir, "absent"))
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestMarkdownQueryExtraction(t *testing.T) {
	p := filepath.Join(t.TempDir(), "runbook.md")
	require.NoError(t, os.WriteFile(p, []byte("# X\n\n```promql\n# a comment\nup == 0\nsum by (a) (rate(x[5m]))\n  / sum by (a) (rate(y[5m]))\n\nz\n```\n\n```\nnot_promql\n```\n"), 0o600))
	qs, err := markdownQueries(p)
	require.NoError(t, err)
	var exprs []string
	for _, q := range qs {
		exprs = append(exprs, q.expr)
	}
	assert.Equal(t, []string{"up == 0", "sum by (a) (rate(x[5m]))\n  / sum by (a) (rate(y[5m]))", "z"}, exprs)
}
