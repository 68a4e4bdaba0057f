package tests

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// defaultServiceList reads a list under service:: of the default configuration (for
// example "extensions", or "pipelines", "traces", "exporters"), so that an overlay that
// has to restate it (lists are replaced, not merged) keeps whatever the default has.
func defaultServiceList(t *testing.T, path ...string) []string {
	t.Helper()
	b, err := os.ReadFile(harness.DefaultConfig())
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	var node any = doc["service"]
	for _, p := range path {
		m, ok := node.(map[string]any)
		require.True(t, ok, "service::%s is not a map in the default config", strings.Join(path, "::"))
		node = m[p]
	}
	list, ok := node.([]any)
	require.True(t, ok, "service::%s is not a list in the default config", strings.Join(path, "::"))
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// yamlList renders names as a YAML flow list.
func yamlList(names ...string) string {
	return "[" + strings.Join(names, ", ") + "]"
}

// hitRecorder is an HTTP target that answers 200 at once and records when it was hit.
type hitRecorder struct {
	mu   sync.Mutex
	hits []time.Time
}

func (h *hitRecorder) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	h.hits = append(h.hits, time.Now())
	h.mu.Unlock()
	_, _ = w.Write([]byte(`{"status":"healthy"}`))
}

func (h *hitRecorder) since(t0 time.Time) []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Time
	for _, at := range h.hits {
		if !at.Before(t0) {
			out = append(out, at)
		}
	}
	return out
}

// TestHungProbeTargetsLeakNothing: an HTTP service and a PostgreSQL server that
// accept connections and never answer are probed every 300ms for about 40 rounds
// beside a healthy service. The healthy service is probed on schedule every round and
// stays healthy; the hung ones time out; the collector's open file descriptors, its
// goroutines and the connections it holds to the hung targets do not grow.
func TestHungProbeTargetsLeakNothing(t *testing.T) {
	hungHTTP := harness.NewBlackHole(t)
	hungDB := harness.NewBlackHole(t)
	fast := &hitRecorder{}
	fastSrv := httptest.NewServer(fast)
	t.Cleanup(fastSrv.Close)
	pprof := harness.FreeAddr(t)

	const interval = 300 * time.Millisecond
	overlay := writeFile(t, "hung.yaml", fmt.Sprintf(`
extensions:
  pprof:
    endpoint: %s
receivers:
  health_probe:
    collection_interval: 300ms
    timeout: 200ms
    initial_delay: 0s
    probes:
      - name: hung_agent
        type: http
        category: agent
        critical: false
        endpoint: http://%s/health
      - name: hung_database
        type: postgresql
        critical: false
        host: 127.0.0.1
        port: %s
        user: procode
        password: not-used
        sslmode: disable
      - name: billing_agent
        type: http
        category: agent
        endpoint: %s/health
        body_checks:
          - name: reports_healthy
            json_path: $.status
            equals: healthy
service:
  extensions: %s
`, pprof, hungHTTP.Addr(), strings.Split(hungDB.Addr(), ":")[1], fastSrv.URL, yamlList(append(defaultServiceList(t, "extensions"), "pprof")...)))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})

	type sample struct {
		fds, goroutines, open int
	}
	read := func() sample {
		fds, err := harness.OpenFDs(c.PID())
		require.NoError(t, err)
		g, err := harness.Goroutines(pprof)
		require.NoError(t, err)
		open, _ := hungHTTP.Open()
		openDB, _ := hungDB.Open()
		return sample{fds, g, open + openDB}
	}
	time.Sleep(5 * interval) // warm up: every probe has run, pools and buffers exist
	read()                   // and the test's own keep-alive connection to pprof is open
	start := time.Now()
	warm := read()
	peak := warm
	for time.Since(start) < 40*interval {
		time.Sleep(interval)
		s := read()
		peak.fds, peak.goroutines, peak.open = max(peak.fds, s.fds), max(peak.goroutines, s.goroutines), max(peak.open, s.open)
	}
	end := read()
	elapsed := time.Since(start)
	_, acceptedHTTP := hungHTTP.Open()
	_, acceptedDB := hungDB.Open()
	t.Logf("over %s: fds %d -> %d (peak %d), goroutines %d -> %d (peak %d), connections held to hung targets peak %d; hung targets saw %d and %d connections",
		elapsed.Round(time.Millisecond), warm.fds, end.fds, peak.fds, warm.goroutines, end.goroutines, peak.goroutines, peak.open, acceptedHTTP, acceptedDB)

	// Nothing grows with the rounds: a leak of one descriptor or goroutine per round
	// would add about 40. At any moment up to three probe connections are open (the
	// two hung targets and the healthy one).
	assert.LessOrEqual(t, peak.fds, warm.fds+6, "open file descriptors grow")
	assert.LessOrEqual(t, peak.goroutines, warm.goroutines+12, "goroutines grow")
	assert.LessOrEqual(t, peak.open, 4, "connections to the hung targets are closed after each timeout")
	assert.GreaterOrEqual(t, acceptedHTTP, 30, "the hung HTTP target was probed every round, on a new connection")
	assert.GreaterOrEqual(t, acceptedDB, 15, "the hung database was retried")

	// The healthy service was probed every round, on schedule.
	hits := fast.since(start)
	assert.GreaterOrEqual(t, len(hits), int(elapsed/interval)*3/4, "rounds of the healthy probe in %s", elapsed)
	var worst time.Duration
	for i := 1; i < len(hits); i++ {
		worst = max(worst, hits[i].Sub(hits[i-1]))
	}
	assert.Less(t, worst, 3*interval, "the healthy probe waited %s between two runs", worst)

	_, h := getHealth(t, c)
	assert.Equal(t, "healthy", h.Checks["billing_agent"]["status"], "%v", h.Checks["billing_agent"])
	assert.Less(t, h.Checks["billing_agent"]["latency_ms"], 150.0, "the healthy probe's own run is not slowed by the hung ones")
	for _, name := range []string{"hung_agent", "hung_database"} {
		assert.Equal(t, "unhealthy", h.Checks[name]["status"], "%s: %v", name, h.Checks[name])
		assert.Equal(t, "timeout", h.Checks[name]["error_type"], "%s: %v", name, h.Checks[name])
	}
	fams := harness.MustScrape(t, c.MetricsURL())
	timeouts, _ := fams.Sum("healthprobe_errors_total", map[string]string{"probe_name": "hung_agent", "error_type": "timeout"})
	assert.GreaterOrEqual(t, timeouts, 30.0, fams.Series("healthprobe_errors_total"))
	code, _, err := c.Get(c.ReadinessURL("/ready"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "non-critical hung probes do not take the collector out of load balancing")
	c.Stop(30 * time.Second)
}

// TestPostgreSQLStoppedMidRun: a real PostgreSQL server is stopped while the collector
// probes it twice, once as a critical dependency and once as a non-critical one. Both
// probes turn unhealthy, /ready answers 503 naming only the critical one, /health is
// unhealthy; when the server is started again both probes and /ready recover, and no
// message shows the password.
func TestPostgreSQLStoppedMidRun(t *testing.T) {
	pg := harness.StartPostgreSQL(t)
	overlay := writeFile(t, "pg.yaml", fmt.Sprintf(`
receivers:
  health_probe:
    collection_interval: 500ms
    timeout: 400ms
    initial_delay: 0s
    probes:
      - name: database
        type: postgresql
        host: 127.0.0.1
        port: %d
        database: postgres
        user: %s
        password: ${env:PG_PASSWORD}
        sslmode: disable
      - name: analytics_db
        type: postgresql
        critical: false
        host: 127.0.0.1
        port: %d
        database: postgres
        user: %s
        password: ${env:PG_PASSWORD}
        sslmode: disable
`, pg.Port, pg.User, pg.Port, pg.User))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}, Env: map[string]string{"PG_PASSWORD": pg.Password}})

	db := probeLabels("database", "postgresql", "database", true)
	analytics := probeLabels("analytics_db", "postgresql", "database", false)
	upIs := func(want float64) func() string {
		return func() string {
			fams, err := harness.Scrape(c.MetricsURL())
			if err != nil {
				return err.Error()
			}
			a, _ := fams.Sum("healthprobe_up", db)
			b, _ := fams.Sum("healthprobe_up", analytics)
			if a != want || b != want {
				return fmt.Sprintf("healthprobe_up database %v analytics_db %v, want %v", a, b, want)
			}
			return ""
		}
	}
	readyIs := func(want int, verboseHas ...string) func() string {
		return func() string {
			code, body, err := c.Get(c.ReadinessURL("/ready?verbose"))
			if err != nil || code != want {
				return fmt.Sprintf("/ready %d %v, want %d:\n%s", code, err, want, body)
			}
			for _, s := range verboseHas {
				if !strings.Contains(body, s) {
					return fmt.Sprintf("/ready?verbose lacks %q:\n%s", s, body)
				}
			}
			return ""
		}
	}
	harness.Eventually(t, 30*time.Second, upIs(1))
	harness.Eventually(t, 10*time.Second, readyIs(http.StatusOK, "[+]database ok"))

	pg.Stop()
	pg.WaitStopped()
	stopped := time.Now()
	harness.Eventually(t, 10*time.Second, readyIs(http.StatusServiceUnavailable, "[-]database failed"))
	t.Logf("/ready turned 503 %s after the server stopped", time.Since(stopped).Round(10*time.Millisecond))
	harness.Eventually(t, 10*time.Second, upIs(0))
	_, body, err := c.Get(c.ReadinessURL("/ready?verbose"))
	require.NoError(t, err)
	assert.NotContains(t, body, "[-]analytics_db", "a non-critical probe does not fail readiness")
	code, h := getHealth(t, c)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "unhealthy", h.Status)
	for _, name := range []string{"database", "analytics_db"} {
		assert.Equal(t, "unhealthy", h.Checks[name]["status"], "%s: %v", name, h.Checks[name])
		assert.Contains(t, []any{"connection_refused", "other"}, h.Checks[name]["error_type"], "%s: %v", name, h.Checks[name])
	}
	fams := harness.MustScrape(t, c.MetricsURL())
	errs, _ := fams.Sum("healthprobe_errors_total", db)
	assert.GreaterOrEqual(t, errs, 1.0, fams.Series("healthprobe_errors_total"))
	unhealthy, _ := fams.Sum("healthprobe_status", with(db, "probe_status", "unhealthy"))
	assert.Equal(t, 1.0, unhealthy)

	pg.Start()
	restarted := time.Now()
	harness.Eventually(t, 20*time.Second, readyIs(http.StatusOK, "[+]database ok"))
	t.Logf("/ready back to 200 %s after the server restarted", time.Since(restarted).Round(10*time.Millisecond))
	harness.Eventually(t, 10*time.Second, upIs(1))
	code, h = getHealth(t, c)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "healthy", h.Checks["database"]["status"])
	assert.Equal(t, "healthy", h.Checks["analytics_db"]["status"])

	for _, url := range []string{c.ReadinessURL("/health"), c.ReadinessURL("/ready?verbose"), c.MetricsURL(), c.TelemetryURL()} {
		_, body, err := c.Get(url)
		require.NoError(t, err)
		assert.NotContains(t, body, pg.Password, url)
	}
	assert.NotContains(t, c.Logs(), pg.Password)
	c.Stop(30 * time.Second)
}
