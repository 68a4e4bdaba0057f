package healthprobe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// newTestScraper builds the scraper from cfg as the factory does, without the controller.
func newTestScraper(t *testing.T, cfg *Config) *probeScraper {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s, err := newProbeScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	return s
}

func testConfig(probes ...ProbeConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Probes = probes
	return cfg
}

func TestScrapeGolden(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"m1"}]}`))
	}))
	t.Cleanup(api.Close)

	llm := httpProbe("llm_provider", api.URL+"/v1/models")
	llm.Category = "llm_provider"
	llm.BodyChecks = []BodyCheckConfig{
		{Name: "is_list", JSONPath: "$.object", Equals: "list"},
		{Name: "has_error", Contains: "error"},
	}
	agent := defaultProbeConfig()
	agent.Name, agent.Type, agent.Category, agent.Critical = "billing_agent", typeTCP, "agent", false
	agent.ClientConfig.Endpoint = harness.FreeAddr(t)
	disk := defaultProbeConfig()
	disk.Name, disk.Type = "disk_root", typeDisk
	mem := defaultProbeConfig()
	mem.Name, mem.Type = "memory", typeMemory

	s := newTestScraper(t, testConfig(llm, agent, disk, mem))
	s.runners[2].prober.(*diskProber).statfs = func(string) (uint64, uint64, error) { return 30 << 30, 200 << 30, nil }
	root := fakeSystem(t, map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/\n"})
	mp := s.runners[3].prober.(*memoryProber)
	mp.procRoot, mp.cgroupRoot = filepath.Join(root, "proc"), filepath.Join(root, "cgroup")
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	// Two rounds, so that the error counters show they are cumulative.
	_, err := s.scrape(t.Context())
	require.NoError(t, err)
	actual, err := s.scrape(t.Context())
	require.NoError(t, err)

	expectedFile := filepath.Join("testdata", "scrape", "expected.yaml")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, expectedFile, actual))
	}
	expected, err := golden.ReadMetrics(expectedFile)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(expected, actual,
		pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreScopeVersion(),
		// Measured times differ from run to run.
		pmetrictest.IgnoreMetricValues("healthprobe.duration", "healthprobe.http.phase.duration"),
	))
}

func TestHangingTargetDelaysOnlyItself(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	fast := statusServer(t, http.StatusOK, "ok")

	hanging := httpProbe("hanging", hang.URL)
	hanging.Timeout = 2 * time.Second
	probes := []ProbeConfig{hanging}
	for _, name := range []string{"fast_a", "fast_b", "fast_c", "fast_d", "fast_e", "fast_f"} {
		probes = append(probes, httpProbe(name, fast.URL))
	}
	cfg := testConfig(probes...)
	cfg.Workers = 2
	cfg.Readiness = component.MustNewID("readiness")
	rep := &recordingReporter{}
	s := newTestScraper(t, cfg)
	host := extensionHost{extensions: map[component.ID]component.Component{cfg.Readiness: rep}}
	require.NoError(t, s.start(t.Context(), host))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.scrape(context.Background())
	}()
	// With one of two workers stuck, the other still runs all six fast probes, and each
	// reaches readiness while the hanging probe is still waiting: they report first.
	<-done
	results := rep.snapshot()
	require.Len(t, results, 7)
	for _, r := range results[:6] {
		assert.NotEqual(t, "hanging", r.Name, "a fast probe reported after the hanging one")
		assert.Equal(t, health.StatusHealthy, r.Status)
	}
	last := results[6]
	assert.Equal(t, "hanging", last.Name)
	assert.Equal(t, health.StatusUnhealthy, last.Status)
	assert.Equal(t, "timeout", last.ErrorType)
	assert.Equal(t, "timed out after 2s", last.Message)
}

func TestShutdownCutsRunningProbes(t *testing.T) {
	var cancelled atomic.Bool
	entered := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
		cancelled.Store(true)
	}))
	t.Cleanup(hang.Close)

	p := httpProbe("hanging", hang.URL)
	cfg := testConfig(p)
	cfg.ControllerConfig.CollectionInterval = time.Hour
	cfg.ControllerConfig.InitialDelay = 0
	cfg.ControllerConfig.Timeout = 50 * time.Minute
	sink := &consumertest.MetricsSink{}
	rcv, err := NewFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, rcv.Shutdown(ctx))
	require.NoError(t, ctx.Err(), "shutdown did not wait for the probe's 50 minute timeout")
	require.Eventually(t, cancelled.Load, 5*time.Second, 10*time.Millisecond, "the server saw the request cancelled")
	// A run cut short by shutdown is no result: nothing was emitted for it.
	for _, md := range sink.AllMetrics() {
		assert.Zero(t, md.DataPointCount())
	}
	// A second shutdown is harmless.
	require.NoError(t, rcv.Shutdown(context.Background()))
}

func TestReceiverEmitsThroughController(t *testing.T) {
	srv := statusServer(t, http.StatusOK, "ok")
	cfg := testConfig(httpProbe("api", srv.URL))
	cfg.ControllerConfig.CollectionInterval = 100 * time.Millisecond
	cfg.ControllerConfig.Timeout = 90 * time.Millisecond
	cfg.ControllerConfig.InitialDelay = 0
	sink := &consumertest.MetricsSink{}
	rcv, err := NewFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= 2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, rcv.Shutdown(context.Background()))

	md := sink.AllMetrics()[0]
	names := map[string]bool{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		names[ms.At(i).Name()] = true
	}
	for _, want := range []string{"healthprobe.up", "healthprobe.status", "healthprobe.duration", "healthprobe.http.status_code", "healthprobe.http.phase.duration"} {
		assert.True(t, names[want], "missing %s in %v", want, names)
	}
}

func TestReadinessRegistration(t *testing.T) {
	cfg := testConfig(func() ProbeConfig {
		p := defaultProbeConfig()
		p.Name, p.Type, p.Critical = "memory", typeMemory, false
		p.DegradedUsedPercent, p.UnhealthyUsedPercent = 100, 100
		return p
	}())
	cfg.Readiness = component.MustNewID("readiness")
	rep := &recordingReporter{}
	s := newTestScraper(t, cfg)
	host := extensionHost{extensions: map[component.ID]component.Component{cfg.Readiness: rep}}
	require.NoError(t, s.start(t.Context(), host))
	assert.Equal(t, []health.ProbeInfo{{Name: "memory", Type: "memory", Critical: false}}, rep.registered)

	_, err := s.scrape(t.Context())
	require.NoError(t, err)
	results := rep.snapshot()
	require.Len(t, results, 1)
	r := results[0]
	assert.Equal(t, "memory", r.Name)
	assert.False(t, r.Critical)
	assert.Equal(t, health.StatusHealthy, r.Status)
	assert.Positive(t, r.Latency)
	assert.Contains(t, r.Message, "Memory usage OK")
	for _, k := range []string{"used_gb", "total_gb", "used_percent", "category"} {
		assert.Contains(t, r.Details, k)
	}
	assert.Equal(t, "system", r.Details["category"])
	require.NoError(t, s.shutdown(context.Background()))
	assert.True(t, rep.unregistered)
}

func TestReadinessExtensionMissingOrWrongType(t *testing.T) {
	p := defaultProbeConfig()
	p.Name, p.Type = "memory", typeMemory
	cfg := testConfig(p)
	cfg.Readiness = component.MustNewIDWithName("readiness", "probes")

	s := newTestScraper(t, cfg)
	err := s.start(t.Context(), extensionHost{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `readiness extension "readiness/probes" is not configured`)
	require.NoError(t, s.shutdown(context.Background()))

	s = newTestScraper(t, cfg)
	err = s.start(t.Context(), extensionHost{extensions: map[component.ID]component.Component{cfg.Readiness: nopComponent{}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cannot receive probe results`)
	require.NoError(t, s.shutdown(context.Background()))

	// Through the receiver, the error fails Start.
	rcv, err := NewFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.ErrorContains(t, rcv.Start(t.Context(), extensionHost{}), "is not configured")
	require.NoError(t, rcv.Shutdown(context.Background()))
}

type nopComponent struct{}

func (nopComponent) Start(context.Context, component.Host) error { return nil }
func (nopComponent) Shutdown(context.Context) error              { return nil }

func TestWorkersBoundConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		inFlight.Add(-1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	var probes []ProbeConfig
	for i := range 12 {
		probes = append(probes, httpProbe(fmt.Sprintf("p%d", i), srv.URL))
	}
	cfg := testConfig(probes...)
	cfg.Workers = 3
	s := newTestScraper(t, cfg)
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	md, err := s.scrape(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int32(3), peak.Load(), "at most workers probes run at once, and all of them do")
	for _, r := range s.runners {
		assert.True(t, r.last.outcome.ok, r.last.message)
	}
	assert.Positive(t, md.DataPointCount())
}
