package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// The LLM spend overlay (config/overlays/llm-spend.yaml) end to end: the OpenTelemetry Go
// SDK sends agent runs of several tenants, users and features; /metrics must show the
// exact cost per dimension value, per agent run and per budget; a real Prometheus with
// config/prometheus/alerts.yaml must raise the budget alerts; and a budget's spend must
// survive a restart through file_storage.
//
// Costs are computed here from list prices (USD per million tokens), not read from the
// collector; TestLLMSpendListPricesMatchTheEmbeddedData checks them against the data
// llm_cost's table is built from (third_party/genai-prices/). gpt4oCall and
// sonnetSplitCall are in llmcost_test.go, and
//
//	gpt-4o-mini  input 0.15, output 0.60
var spendMiniCall = (2000*0.15 + 1000*0.60) / perMillion // 2000 input, 1000 output tokens

// Per round of spendRound:
//
//	acme/alice   researcher run, feature search:   2 gpt-4o calls + 1 Claude call seen as two spans
//	acme/bob     planner run, feature chat:        1 gpt-4o call (its own feature: summarize) + 1 gpt-4o-mini call
//	globex/carol planner run (tenant from the resource), no feature: 1 gpt-4o call
//	(nobody)     a gpt-4o-mini call outside any agent run, without any of the attributes
var (
	spendAlice   = 2*gpt4oCall + sonnetSplitCall
	spendBob     = gpt4oCall + spendMiniCall
	spendCarol   = gpt4oCall
	spendNobody  = spendMiniCall
	spendAcme    = spendAlice + spendBob
	spendGlobex  = spendCarol
	spendTotal   = spendAcme + spendGlobex + spendNobody
	spendPlanner = spendBob + spendCarol
	spendGPT4o   = 4 * gpt4oCall
)

const spendService = "spend-app"

// spendApps returns the providers of one service: the app's own, and the one of a
// process that serves only tenant globex (tenant.id on its resource).
func spendApps(t *testing.T, c *harness.Collector) (app, globex *sdktrace.TracerProvider) {
	t.Helper()
	app = batchedTracerProvider(t, c, spendService)
	globexRes, err := resource.Merge(harness.AppResource(spendService), resource.NewSchemaless(attribute.String("tenant.id", "globex")))
	require.NoError(t, err)
	return app, batchedTracerProviderFor(t, c, globexRes)
}

// llmCall starts and ends a chat span of model under ctx with the given usage.
func llmCall(tracer trace.Tracer, ctx context.Context, provider, model string, attrs ...attribute.KeyValue) {
	_, span := tracer.Start(ctx, "chat "+model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(append([]attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", provider),
		attribute.String("gen_ai.request.model", model),
	}, attrs...)...))
	span.End()
}

func gpt4o(tracer trace.Tracer, ctx context.Context, attrs ...attribute.KeyValue) {
	llmCall(tracer, ctx, "openai", "gpt-4o", append([]attribute.KeyValue{attribute.String("gen_ai.response.model", "gpt-4o-2024-08-06"),
		attribute.Int("gen_ai.usage.input_tokens", 1000), attribute.Int("gen_ai.usage.cache_read.input_tokens", 200),
		attribute.Int("gen_ai.usage.output_tokens", 500)}, attrs...)...)
}

func gpt4oMini(tracer trace.Tracer, ctx context.Context) {
	llmCall(tracer, ctx, "openai", "gpt-4o-mini",
		attribute.Int("gen_ai.usage.input_tokens", 2000), attribute.Int("gen_ai.usage.output_tokens", 1000))
}

// spendRound sends one round (see the table above) and flushes it.
func spendRound(t *testing.T, app, globex *sdktrace.TracerProvider) {
	t.Helper()
	tracer := app.Tracer("spend-e2e")
	bg := context.Background()

	// acme/alice: the user and tenant are set once, on the agent span of the request.
	// The agent span repeats its calls' usage (some frameworks do): not priced again.
	ctx, run := tracer.Start(bg, "invoke_agent researcher", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "researcher"),
		attribute.String("tenant.id", "acme"), attribute.String("enduser.id", "alice"), attribute.String("app.feature", "search"),
		attribute.Int("gen_ai.usage.input_tokens", 7050), attribute.Int("gen_ai.usage.output_tokens", 1300)))
	gpt4o(tracer, ctx)
	gpt4o(tracer, ctx)
	// One Claude call described twice (OpenInference's span over the Anthropic SDK's):
	// it counts once.
	sonnetSplitSpans(tracer, ctx)
	run.End()

	// acme/bob: one call names its own feature, which wins over the agent span's.
	ctx, run = tracer.Start(bg, "invoke_agent planner", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "planner"),
		attribute.String("tenant.id", "acme"), attribute.String("enduser.id", "bob"), attribute.String("app.feature", "chat")))
	gpt4o(tracer, ctx, attribute.String("app.feature", "summarize"))
	gpt4oMini(tracer, ctx)
	run.End()

	// A call outside any agent run, without tenant, user or feature.
	gpt4oMini(tracer, bg)

	// globex/carol: the tenant comes from the resource.
	gtracer := globex.Tracer("spend-e2e")
	ctx, run = gtracer.Start(bg, "invoke_agent planner", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "planner"),
		attribute.String("enduser.id", "carol")))
	gpt4o(gtracer, ctx)
	run.End()

	require.NoError(t, app.ForceFlush(bg))
	require.NoError(t, globex.ForceFlush(bg))
}

// awayFromBoundary waits out the last margin of a UTC hour (hourly budgets) or day
// (daily and monthly ones), so that no budget of a test restarts while it runs.
func awayFromBoundary(t *testing.T, hourly bool, margin time.Duration) {
	t.Helper()
	now := time.Now().UTC()
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	if hourly {
		next = now.Truncate(time.Hour).Add(time.Hour)
	}
	if left := next.Sub(now); left < margin {
		t.Logf("waiting %s for the UTC period to turn before budgets are tested", left)
		time.Sleep(left + time.Second)
	}
}

// labelValue is the value of label name of m ("" when absent).
func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// llmSpendOverlay is the shipped overlay.
func llmSpendOverlay() string {
	return filepath.Join(harness.RepoRoot(), "config", "overlays", "llm-spend.yaml")
}

// TestLLMSpendByTenantUserAndFeature runs the default configuration with the LLM spend
// overlay and budgets of every selector kind, sends three rounds of agent runs for two
// tenants, three users and three features, and checks every sum on /metrics exactly:
// cost and tokens per dimension value (span, agent span and resource attributes; unknown
// when absent), the cost of each agent run, and each budget's spend, limit and ratio.
func TestLLMSpendByTenantUserAndFeature(t *testing.T) {
	awayFromBoundary(t, true, 2*time.Minute)
	budgets := writeFile(t, "budgets.yaml", `
connectors:
  agent_metrics:
    budgets:
      - {name: llm-daily, limit_usd: 1, period: day}
      - {name: acme-monthly, limit_usd: 0.5, period: month, selector: {dimension: tenant.id, value: acme}}
      - {name: planner-hourly, limit_usd: 0.25, period: hour, selector: {agent: planner}}
      - {name: gpt-4o-daily, limit_usd: 2, period: day, selector: {model: gpt-4o}}
`)
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), llmSpendOverlay(), budgets},
		Env:     map[string]string{"LLM_SPEND_STORAGE_DIR": t.TempDir()},
	})
	app, globex := spendApps(t, c)

	svc := func(kv ...string) map[string]string {
		m := map[string]string{"service_name": spendService}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	dim := func(d, v string) map[string]string { return svc("dimension", d, "dimension_value", v) }

	const rounds = 3
	for r := 1; r <= rounds; r++ {
		spendRound(t, app, globex)
		// Every round is its own batch: the series add up across batches.
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			for _, d := range []string{"tenant.id", "enduser.id", "app.feature"} {
				got, _ := fams.Sum("llm_dimension_cost_usd_total", svc("dimension", d))
				if math.Abs(got-float64(r)*spendTotal) > 1e-9 {
					return fmt.Sprintf("round %d: llm_dimension_cost_usd_total{dimension=%q} sums to %v, want %v\n%s",
						r, d, got, float64(r)*spendTotal, fams.Series("llm_dimension_cost_usd_total"))
				}
			}
			return ""
		})
	}
	// Let the runs settle (AGENT_RUN_COST_SETTLE is 1s in the harness) and be flushed.
	var fams harness.Families
	harness.Eventually(t, 30*time.Second, func() string {
		var err error
		fams, err = harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if n, _ := fams.Sum("agent_run_cost_usd", svc()); n != 3*rounds {
			return fmt.Sprintf("agent_run_cost_usd has %v observations, want %d\n%s", n, 3*rounds, fams.Series("agent_run_cost_usd"))
		}
		return ""
	})
	expect := func(name string, labels map[string]string, want float64) {
		t.Helper()
		got, found := fams.Sum(name, labels)
		if assert.True(t, found, "%s%v absent\n%s", name, labels, fams.Series(name)) {
			assert.InDelta(t, want, got, 1e-9, "%s%v\n%s", name, labels, fams.Series(name))
		}
	}
	for _, name := range []string{"llm_dimension_cost_usd_total", "llm_dimension_tokens_total"} {
		require.NotNil(t, fams[name], "%s missing", name)
		assert.Equal(t, "COUNTER", fams[name].GetType().String(), "%s must be a counter", name)
	}
	for _, name := range []string{"llm_budget_spend_usd", "llm_budget_limit_usd", "llm_budget_used_ratio"} {
		require.NotNil(t, fams[name], "%s missing", name)
		assert.Equal(t, "GAUGE", fams[name].GetType().String(), "%s must be a gauge", name)
	}
	require.NotNil(t, fams["agent_run_cost_usd"])
	assert.Equal(t, "HISTOGRAM", fams["agent_run_cost_usd"].GetType().String())

	// The same calls and cost as llm_cost_usd_total: the duplicate span and the agent
	// span's repeated usage are in neither.
	expect("llm_cost_usd_total", svc(), rounds*spendTotal)

	// Cost per tenant: from the agent span (acme), the resource (globex), nowhere (unknown).
	expect("llm_dimension_cost_usd_total", dim("tenant.id", "acme"), rounds*spendAcme)
	expect("llm_dimension_cost_usd_total", dim("tenant.id", "globex"), rounds*spendGlobex)
	expect("llm_dimension_cost_usd_total", dim("tenant.id", "unknown"), rounds*spendNobody)
	// Cost per user.
	expect("llm_dimension_cost_usd_total", dim("enduser.id", "alice"), rounds*spendAlice)
	expect("llm_dimension_cost_usd_total", dim("enduser.id", "bob"), rounds*spendBob)
	expect("llm_dimension_cost_usd_total", dim("enduser.id", "carol"), rounds*spendCarol)
	expect("llm_dimension_cost_usd_total", dim("enduser.id", "unknown"), rounds*spendNobody)
	// Cost per feature: a call's own attribute wins over its agent span's.
	expect("llm_dimension_cost_usd_total", dim("app.feature", "search"), rounds*spendAlice)
	expect("llm_dimension_cost_usd_total", dim("app.feature", "summarize"), rounds*gpt4oCall)
	expect("llm_dimension_cost_usd_total", dim("app.feature", "chat"), rounds*spendMiniCall)
	expect("llm_dimension_cost_usd_total", dim("app.feature", "unknown"), rounds*(spendCarol+spendNobody))
	// No other values: four per dimension at most, no _other below max_values.
	values := map[string][]string{}
	for _, m := range fams["llm_dimension_cost_usd_total"].GetMetric() {
		d := labelValue(m, "dimension")
		values[d] = append(values[d], labelValue(m, "dimension_value"))
	}
	assert.ElementsMatch(t, []string{"acme", "globex", "unknown"}, values["tenant.id"])
	assert.ElementsMatch(t, []string{"alice", "bob", "carol", "unknown"}, values["enduser.id"])
	assert.ElementsMatch(t, []string{"search", "summarize", "chat", "unknown"}, values["app.feature"])

	// Tokens of acme by type: 3 gpt-4o calls, the Claude call once, a gpt-4o-mini call.
	tok := func(v, typ string) map[string]string {
		return svc("dimension", "tenant.id", "dimension_value", v, "gen_ai_token_type", typ)
	}
	expect("llm_dimension_tokens_total", tok("acme", "input"), rounds*(3*1000+5050+2000))
	expect("llm_dimension_tokens_total", tok("acme", "output"), rounds*(3*500+300+1000))
	expect("llm_dimension_tokens_total", tok("acme", "cache_read"), rounds*(3*200+4000))
	expect("llm_dimension_tokens_total", tok("acme", "cache_write"), rounds*1000)
	expect("llm_dimension_tokens_total", tok("globex", "input"), rounds*1000)
	expect("llm_dimension_tokens_total", tok("unknown", "output"), rounds*1000)

	// One observation per agent run, the sum of its calls' cost.
	researcher, planner := svc("gen_ai_agent_name", "researcher"), svc("gen_ai_agent_name", "planner")
	expect("agent_run_cost_usd", researcher, rounds)
	expect("agent_run_cost_usd", planner, 2*rounds)
	sum, _ := fams.HistogramSum("agent_run_cost_usd", researcher)
	assert.InDelta(t, rounds*spendAlice, sum, 1e-9, "agent_run_cost_usd_sum of researcher")
	sum, _ = fams.HistogramSum("agent_run_cost_usd", planner)
	assert.InDelta(t, rounds*spendPlanner, sum, 1e-9, "agent_run_cost_usd_sum of planner")
	// Both planner runs cost between $0.005 and $0.01 ($0.00815 and $0.00725).
	for _, m := range fams["agent_run_cost_usd"].GetMetric() {
		if labelValue(m, "gen_ai_agent_name") != "planner" {
			continue
		}
		for _, b := range m.GetHistogram().GetBucket() {
			switch b.GetUpperBound() {
			case 0.005:
				assert.Equal(t, uint64(0), b.GetCumulativeCount(), "planner runs at or below $0.005")
			case 0.01:
				assert.Equal(t, uint64(2*rounds), b.GetCumulativeCount(), "planner runs at or below $0.01")
			}
		}
	}

	// Budgets: spend, limit and used ratio of each.
	for _, b := range []struct {
		name, period string
		spend, limit float64
	}{
		{"llm-daily", "day", rounds * spendTotal, 1},
		{"acme-monthly", "month", rounds * spendAcme, 0.5},
		{"planner-hourly", "hour", rounds * spendPlanner, 0.25},
		{"gpt-4o-daily", "day", rounds * spendGPT4o, 2},
	} {
		l := map[string]string{"budget": b.name, "period": b.period}
		expect("llm_budget_spend_usd", l, b.spend)
		expect("llm_budget_limit_usd", l, b.limit)
		expect("llm_budget_used_ratio", l, b.spend/b.limit)
	}
	// The overlay's own budget is replaced by the list above: no other budget.
	assert.Len(t, fams["llm_budget_spend_usd"].GetMetric(), 4, fams.Series("llm_budget_spend_usd"))
	assert.NotContains(t, c.Logs(), "budgets start from zero", "the overlay configures storage")
	c.Stop(30 * time.Second)
}

// TestLLMBudgetAlertsInPrometheus runs a real Prometheus (the Debian package) with
// config/prometheus/alerts.yaml, unchanged, against the collector with the shipped
// overlay and a budget of one cent: at 72.5% spent no budget alert is active; at 81.5%
// LLMBudgetNearlySpent fires; at 154% LLMBudgetExceeded fires too.
func TestLLMBudgetAlertsInPrometheus(t *testing.T) {
	promBin := harness.RequireCommand(t, "prometheus", "prometheus")
	awayFromBoundary(t, false, 3*time.Minute)
	const limit = 0.01
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), llmSpendOverlay()},
		Env:     map[string]string{"LLM_SPEND_STORAGE_DIR": t.TempDir(), "LLM_BUDGET_USD": "0.01", "LLM_BUDGET_NAME": "team-daily"},
	})
	prom := startPrometheus(t, promBin, c)
	tp := batchedTracerProvider(t, c, spendService)
	tracer := tp.Tracer("spend-alerts")

	budgetAlerts := func() map[string]promAlert {
		out := map[string]promAlert{}
		for name, a := range prom.alerts(t) {
			if strings.HasPrefix(name, "LLMBudget") {
				out[name] = a
			}
		}
		return out
	}
	ratioIs := func(want float64) {
		t.Helper()
		harness.Eventually(t, 60*time.Second, func() string {
			v, err := prom.queryScalar(`sum by (budget, period) (llm_budget_used_ratio{budget="team-daily"})`)
			if err != nil {
				return err.Error()
			}
			if math.Abs(v-want) > 1e-9 {
				return fmt.Sprintf("Prometheus has used ratio %v, want %v", v, want)
			}
			return ""
		})
	}
	firing := func(name string) promAlert {
		t.Helper()
		var got promAlert
		harness.Eventually(t, 60*time.Second, func() string {
			a, ok := budgetAlerts()[name]
			if !ok || a.State != "firing" {
				return fmt.Sprintf("%s not firing yet; budget alerts: %v", name, budgetAlerts())
			}
			got = a
			return ""
		})
		return got
	}

	// $0.00725 of $0.01.
	gpt4o(tracer, context.Background())
	require.NoError(t, tp.ForceFlush(context.Background()))
	first := gpt4oCall / limit
	ratioIs(first)
	time.Sleep(3 * time.Second) // several evaluations
	assert.Empty(t, budgetAlerts(), "at %.1f%% of the budget", 100*first)

	// + $0.0009: 81.5%.
	gpt4oMini(tracer, context.Background())
	require.NoError(t, tp.ForceFlush(context.Background()))
	second := (gpt4oCall + spendMiniCall) / limit
	ratioIs(second)
	nearly := firing("LLMBudgetNearlySpent")
	assert.Equal(t, map[string]string{"alertname": "LLMBudgetNearlySpent", "severity": "critical", "budget": "team-daily", "period": "day"}, nearly.Labels)
	v, err := strconv.ParseFloat(nearly.Value, 64)
	require.NoError(t, err)
	assert.InDelta(t, second, v, 1e-9)
	assert.Equal(t, "LLM budget team-daily is 81.5% spent", nearly.Annotations["summary"])
	assert.Equal(t, "LLM calls selected by budget team-daily have cost $0.01 this day (UTC), 81.5% of its $0.01 limit (pages from 80%).", nearly.Annotations["description"])
	assert.Equal(t, "https://github.com/procode-ai/otelcol-procode/blob/main/docs/runbooks/LLMBudgetNearlySpent.md", nearly.Annotations["runbook_url"])
	_, exceeded := budgetAlerts()["LLMBudgetExceeded"]
	assert.False(t, exceeded, "LLMBudgetExceeded at %.1f%%", 100*second)

	// + $0.00725: 154%.
	gpt4o(tracer, context.Background())
	require.NoError(t, tp.ForceFlush(context.Background()))
	third := (2*gpt4oCall + spendMiniCall) / limit
	ratioIs(third)
	spent := firing("LLMBudgetExceeded")
	assert.Equal(t, map[string]string{"alertname": "LLMBudgetExceeded", "severity": "critical", "budget": "team-daily", "period": "day"}, spent.Labels)
	v, err = strconv.ParseFloat(spent.Value, 64)
	require.NoError(t, err)
	assert.InDelta(t, third, v, 1e-9)
	assert.Equal(t, "https://github.com/procode-ai/otelcol-procode/blob/main/docs/runbooks/LLMBudgetExceeded.md", spent.Annotations["runbook_url"])
	t.Logf("%s: %s", spent.Labels["alertname"], spent.Annotations["description"])
	// The 80% alert stays active in Prometheus; Alertmanager holds it back
	// (config/alertmanager_inhibit_test.go).
	assert.Contains(t, budgetAlerts(), "LLMBudgetNearlySpent")
	c.Stop(30 * time.Second)
}

// TestLLMBudgetSurvivesRestart: with the overlay's file_storage, a budget's spend of the
// period is where it was after a stop and a start on the same directory; without
// storage, the collector says once that budgets start from zero, and they do.
func TestLLMBudgetSurvivesRestart(t *testing.T) {
	awayFromBoundary(t, false, 3*time.Minute)
	dir := t.TempDir()
	opts := harness.Options{
		Configs: []string{harness.DefaultConfig(), llmSpendOverlay()},
		Env:     map[string]string{"LLM_SPEND_STORAGE_DIR": dir, "LLM_BUDGET_USD": "1"},
	}
	daily := map[string]string{"budget": "llm-daily", "period": "day"}
	spendIs := func(c *harness.Collector, want float64) {
		t.Helper()
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			got, found := fams.Sum("llm_budget_spend_usd", daily)
			if !found || math.Abs(got-want) > 1e-9 {
				return fmt.Sprintf("llm_budget_spend_usd %v (present %v), want %v\n%s", got, found, want, fams.Series("llm_budget_spend_usd"))
			}
			if ratio, _ := fams.Sum("llm_budget_used_ratio", daily); math.Abs(ratio-want) > 1e-9 {
				return fmt.Sprintf("llm_budget_used_ratio %v, want %v", ratio, want)
			}
			return ""
		})
	}
	send := func(c *harness.Collector, calls int) {
		t.Helper()
		tp := batchedTracerProvider(t, c, spendService)
		for i := 0; i < calls; i++ {
			gpt4o(tp.Tracer("spend-restart"), context.Background())
		}
		require.NoError(t, tp.ForceFlush(context.Background()))
		require.NoError(t, tp.Shutdown(context.Background()))
	}

	c := harness.Start(t, opts)
	send(c, 2)
	spendIs(c, 2*gpt4oCall)
	c.Stop(30 * time.Second)

	// The same directory: the day's spend goes on from $0.0145.
	c = harness.Start(t, opts)
	spendIs(c, 2*gpt4oCall)
	send(c, 1)
	spendIs(c, 3*gpt4oCall)
	c.Stop(30 * time.Second)

	// A budget without storage (not the overlay): from zero, and said once.
	noStorage := writeFile(t, "no-storage.yaml", `
connectors:
  agent_metrics:
    budgets:
      - {name: llm-daily, limit_usd: 1, period: day}
`)
	c = harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), noStorage}})
	send(c, 1)
	spendIs(c, gpt4oCall)
	assert.Equal(t, 1, strings.Count(c.Logs(), "budgets start from zero"), c.Logs())
	c.Stop(30 * time.Second)
}

// TestLLMSpendFoldsTenantsBeyondMaxValues: with the overlay's LLM_SPEND_MAX_VALUES=2, the
// first two tenants get series of their own and later ones add up in "_other"; at a flush
// a tenant that spends far more (t3) takes the place of the one that spends least (t1).
// t1's series stops growing and t1's later calls go to "_other". At every step the tenant
// series on /metrics add up to exactly the cost of every call: a folded value's total is
// never counted a second time in "_other" (the Prometheus exporter keeps serving a series
// for metric_expiration after its last point, and increase() of "_other" would count a
// moved total as new spend).
func TestLLMSpendFoldsTenantsBeyondMaxValues(t *testing.T) {
	c := harness.Start(t, harness.Options{
		Configs: []string{harness.DefaultConfig(), llmSpendOverlay()},
		Env:     map[string]string{"LLM_SPEND_STORAGE_DIR": t.TempDir(), "LLM_SPEND_MAX_VALUES": "2"},
	})
	tp := batchedTracerProvider(t, c, spendService)
	tracer := tp.Tracer("spend-fold")
	call := func(tenant string, big bool) {
		ctx, run := tracer.Start(context.Background(), "invoke_agent planner", trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "planner"),
			attribute.String("tenant.id", tenant)))
		if big {
			gpt4o(tracer, ctx)
		} else {
			gpt4oMini(tracer, ctx)
		}
		run.End()
	}
	tenants := func(want map[string]float64) {
		t.Helper()
		harness.Eventually(t, 30*time.Second, func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			got := map[string]float64{}
			if fam := fams["llm_dimension_cost_usd_total"]; fam != nil {
				for _, m := range fam.GetMetric() {
					if labelValue(m, "dimension") == "tenant.id" {
						got[labelValue(m, "dimension_value")] += m.GetCounter().GetValue()
					}
				}
			}
			if len(got) != len(want) {
				return fmt.Sprintf("tenant series %v, want %v", got, want)
			}
			for v, w := range want {
				if g, ok := got[v]; !ok || math.Abs(g-w) > 1e-9 {
					return fmt.Sprintf("tenant series %v, want %v", got, want)
				}
			}
			return ""
		})
	}

	// t1 and t2: the first two values, each a series of its own.
	call("t1", false)
	call("t2", false)
	require.NoError(t, tp.ForceFlush(context.Background()))
	tenants(map[string]float64{"t1": spendMiniCall, "t2": spendMiniCall})

	// t3 spends three gpt-4o calls, t4 one gpt-4o-mini call: no place left, so "_other".
	// At the next flush t3, about 24 times t1's spend, takes t1's place.
	for i := 0; i < 3; i++ {
		call("t3", true)
	}
	call("t4", false)
	require.NoError(t, tp.ForceFlush(context.Background()))
	tenants(map[string]float64{"t1": spendMiniCall, "t2": spendMiniCall, "_other": 3*gpt4oCall + spendMiniCall})

	// t3's next call is on a series of its own; t1's and t4's go to "_other".
	time.Sleep(3 * time.Second) // a few flushes: the swap is done
	call("t3", true)
	call("t1", false)
	call("t4", false)
	require.NoError(t, tp.ForceFlush(context.Background()))
	tenants(map[string]float64{"t1": spendMiniCall, "t2": spendMiniCall, "t3": gpt4oCall, "_other": 3*gpt4oCall + 3*spendMiniCall})

	// The other dimensions are absent from every call: all of it is "unknown".
	fams := harness.MustScrape(t, c.MetricsURL())
	total := 4*gpt4oCall + 5*spendMiniCall
	got, _ := fams.Sum("llm_dimension_cost_usd_total", map[string]string{"dimension": "enduser.id", "dimension_value": "unknown"})
	assert.InDelta(t, total, got, 1e-9)
	got, _ = fams.Sum("llm_cost_usd_total", map[string]string{"service_name": spendService})
	assert.InDelta(t, total, got, 1e-9)
	c.Stop(30 * time.Second)
}

// TestLLMSpendListPricesMatchTheEmbeddedData: the expected costs of the spend and cost
// tests are computed from vendors' list prices written into the tests. The table llm_cost
// embeds is built from third_party/genai-prices/data.json; when an update changes one of
// these prices, this test says which, instead of a sum on /metrics being off.
func TestLLMSpendListPricesMatchTheEmbeddedData(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "third_party", "genai-prices", "data.json"))
	require.NoError(t, err)
	var providers []struct {
		ID     string `json:"id"`
		Models []struct {
			ID     string          `json:"id"`
			Prices json.RawMessage `json:"prices"` // an object, or a list of dated objects
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(b, &providers))
	// USD per million tokens, as used by gpt4oCall, sonnetSplitCall and spendMiniCall.
	want := map[string]map[string]float64{
		"openai/gpt-4o":               {"input_mtok": 2.50, "cache_read_mtok": 1.25, "output_mtok": 10.00},
		"openai/gpt-4o-mini":          {"input_mtok": 0.15, "output_mtok": 0.60},
		"anthropic/claude-sonnet-4-5": {"input_mtok": 3.00, "cache_read_mtok": 0.30, "cache_write_mtok": 3.75, "cache_write_1h_mtok": 6.00, "output_mtok": 15.00},
	}
	found := 0
	for _, p := range providers {
		for _, m := range p.Models {
			prices, ok := want[p.ID+"/"+m.ID]
			if !ok {
				continue
			}
			found++
			var current map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(m.Prices, &current), "%s/%s prices", p.ID, m.ID)
			for field, price := range prices {
				raw, ok := current[field]
				require.True(t, ok, "%s/%s has no %s", p.ID, m.ID, field)
				// A flat price, or a base price with tiers above 200k input tokens.
				var flat float64
				if json.Unmarshal(raw, &flat) != nil {
					var tiered struct {
						Base float64 `json:"base"`
					}
					require.NoError(t, json.Unmarshal(raw, &tiered), "%s/%s %s", p.ID, m.ID, field)
					flat = tiered.Base
				}
				assert.Equal(t, price, flat, "%s/%s %s: the tests' expected costs use %v", p.ID, m.ID, field, price)
			}
		}
	}
	assert.Equal(t, len(want), found, "models found in data.json")
}
