// Package bench holds the end-to-end benchmarks: the built collector under load from
// the load generator, in three configurations side by side (see BENCHMARKS.md). They
// run only with -bench; `make bench` runs them with -benchtime 1x -count 3.
package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/procode-ai/otelcol-procode/internal/loadgen"
	"github.com/procode-ai/otelcol-procode/tests/harness"
)

type scenario struct {
	name    string
	configs []string
	sentry  bool
	// ours are the package path fragments whose CPU the profile attributes to the
	// feature under comparison.
	ours []string
}

func scenarios() []scenario {
	root := harness.RepoRoot()
	return []scenario{
		{name: "a_baseline", configs: []string{filepath.Join(root, "bench/configs/baseline.yaml")}},
		{name: "b_default", sentry: true, ours: []string{"otelcol-procode/processor/llmcost"},
			configs: []string{harness.DefaultConfig(), filepath.Join(root, "bench/configs/default-overlay.yaml")}},
		{name: "c_ottl_pricing", ours: []string{"transformprocessor", "pkg/ottl"},
			configs: []string{filepath.Join(root, "bench/configs/ottl.yaml"), filepath.Join(root, "bench/ottl-pricing.yaml")}},
	}
}

// Settings of a run; override with environment variables for longer or shorter runs.
var (
	runSeconds  = envInt("BENCH_SECONDS", 20)
	warmSeconds = envInt("BENCH_WARMUP_SECONDS", 5)
	conns       = envInt("BENCH_CONNS", 4)
	batchSpans  = envInt("BENCH_BATCH", 500)
	fixedRate   = envInt("BENCH_FIXED_RATE", 10000)
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkPipeline measures each scenario once per iteration (use -benchtime 1x and
// -count N, then benchstat): the collector runs pinned to CPU 1 and the load generator,
// a separate process, to CPU 0, so that neither steals the other's core.
//
// Reported per run: spans/s (as fast as the collector accepts, closed loop), refused
// requests, collector CPU seconds per million spans, peak RSS, /ready and /health
// latency under that load, and the share of collector CPU spent in the scenario's own
// feature (llm_cost in b, the OTTL transform in c) from a CPU profile.
func BenchmarkPipeline(b *testing.B) {
	loadgenBin := buildLoadgen(b)
	raisePriority(b)
	for _, sc := range scenarios() {
		b.Run(sc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runScenario(b, sc, loadgenBin)
			}
		})
	}
}

func buildLoadgen(b *testing.B) string {
	out := filepath.Join(b.TempDir(), "loadgen")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/loadgen")
	cmd.Dir = harness.RepoRoot()
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build loadgen: %v\n%s", err, msg)
	}
	return out
}

// pinned is the wrapper for the collector and the load generator: back to normal
// priority (raisePriority raised this process's, which children inherit), and on cpu.
func pinned(cpu string) []string {
	var w []string
	if prioritized {
		w = append(w, "nice", "-n", "10")
	}
	if os.Getenv("BENCH_NO_PIN") != "" {
		return w
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return w
	}
	return append(w, "taskset", "-c", cpu)
}

func runScenario(b *testing.B, sc scenario, loadgenBin string) {
	env := map[string]string{
		// Production settings, not the test harness's fast ones.
		"SPANMETRICS_FLUSH_INTERVAL":   "15s",
		"AGENT_METRICS_FLUSH_INTERVAL": "15s",
		"BATCH_TIMEOUT":                "1s",
		"PPROF_ENDPOINT":               fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b)),
		"LOG_LEVEL":                    "warn",
	}
	if v := os.Getenv("BENCH_COLLECTOR_GOMAXPROCS"); v != "" {
		env["GOMAXPROCS"] = v
	}
	if sc.sentry {
		env["SENTRY_DSN"] = harness.NewSentryServer(b).DSN()
	}
	hasReadiness := sc.name != "a_baseline" && sc.name != "c_ottl_pricing"
	c := harness.Start(b, harness.Options{Configs: sc.configs, Env: env, Wrapper: pinned("1"), NoWait: true})
	if hasReadiness {
		c.WaitReady(time.Minute)
	} else {
		c.WaitLog("Everything is ready", time.Minute)
	}

	send := func(seconds int, rate float64) loadgen.Report {
		args := []string{"-endpoint", c.OTLPGRPCEndpoint(), "-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-duration", fmt.Sprintf("%ds", seconds),
			"-conns", strconv.Itoa(conns), "-batch", strconv.Itoa(batchSpans), "-quiet"}
		argv := append(pinned("0"), loadgenBin)
		cmd := exec.Command(argv[0], append(argv[1:], args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("loadgen: %v\n%s", err, stderr.String())
		}
		var rep loadgen.Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			b.Fatalf("loadgen report: %v\n%s", err, stdout.String())
		}
		return rep
	}

	send(warmSeconds, 0)

	// Saturation: the load generator sends as fast as the collector accepts.
	var ready, healthLat latencies
	stopPoll := make(chan struct{})
	var wg sync.WaitGroup
	if hasReadiness {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pollLatency(c, stopPoll, &ready, &healthLat)
		}()
	}
	var prof *profile.Profile
	var profErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(2 * time.Second)
		prof, profErr = cpuProfile(env["PPROF_ENDPOINT"], runSeconds-4)
	}()

	cpuBefore := cpuSeconds(b, c.Pid())
	t0 := time.Now()
	rep := send(runSeconds, 0)
	elapsed := time.Since(t0).Seconds()
	cpu := cpuSeconds(b, c.Pid()) - cpuBefore
	close(stopPoll)
	wg.Wait()
	if profErr != nil {
		b.Fatalf("cpu profile: %v", profErr)
	}
	if dir := os.Getenv("BENCH_PROFILE_DIR"); dir != "" {
		saveProfile(b, prof, filepath.Join(dir, sc.name+".pprof"))
	}

	b.ReportMetric(float64(rep.SpansSent)/elapsed, "spans/s")
	b.ReportMetric(float64(rep.Refused), "refused")
	b.ReportMetric(cpu/float64(rep.SpansSent)*1e6, "cpu-s/Mspan")
	b.ReportMetric(peakRSSMiB(b, c.Pid()), "peak-RSS-MiB")
	if hasReadiness {
		b.ReportMetric(ready.quantile(0.5), "ready-p50-ms")
		b.ReportMetric(ready.quantile(0.99), "ready-p99-ms")
		b.ReportMetric(healthLat.quantile(0.5), "health-p50-ms")
		b.ReportMetric(healthLat.quantile(0.99), "health-p99-ms")
	}
	if len(sc.ours) > 0 {
		b.ReportMetric(100*share(prof, sc.ours), "feature-cpu-%")
	}

	// A fixed rate below every scenario's saturation: the CPU cost of the same work,
	// and probe latency at a load the collector is sized for.
	var fixedReady, fixedHealth latencies
	stopPoll = make(chan struct{})
	if hasReadiness {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pollLatency(c, stopPoll, &fixedReady, &fixedHealth)
		}()
	}
	cpuBefore = cpuSeconds(b, c.Pid())
	fixed := send(runSeconds, float64(fixedRate))
	cpu = cpuSeconds(b, c.Pid()) - cpuBefore
	close(stopPoll)
	wg.Wait()
	b.ReportMetric(fixed.SpansPerSecond, "fixed-spans/s")
	b.ReportMetric(cpu/float64(fixed.SpansSent)*1e6, "fixed-cpu-s/Mspan")
	b.ReportMetric(float64(fixed.Refused), "fixed-refused")
	if hasReadiness {
		b.ReportMetric(fixedReady.quantile(0.5), "fixed-ready-p50-ms")
		b.ReportMetric(fixedReady.quantile(0.99), "fixed-ready-p99-ms")
		b.ReportMetric(fixedHealth.quantile(0.5), "fixed-health-p50-ms")
		b.ReportMetric(fixedHealth.quantile(0.99), "fixed-health-p99-ms")
	}
	b.ReportMetric(0, "ns/op") // the run's duration is fixed; ns/op says nothing
	c.Stop(60 * time.Second)
}

type latencies struct {
	mu sync.Mutex
	ms []float64
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ms = append(l.ms, float64(d)/float64(time.Millisecond))
	l.mu.Unlock()
}

func (l *latencies) quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ms) == 0 {
		return 0
	}
	s := append([]float64(nil), l.ms...)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1))]
}

func pollLatency(c *harness.Collector, stop <-chan struct{}, ready, health *latencies) {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, p := range []struct {
			path string
			into *latencies
		}{{"/ready", ready}, {"/health", health}} {
			t := time.Now()
			resp, err := client.Get(c.ReadinessURL(p.path))
			if err != nil {
				continue
			}
			_, _ = bytes.NewBuffer(nil).ReadFrom(resp.Body)
			resp.Body.Close()
			p.into.add(time.Since(t))
		}
	}
}

// cpuSeconds is the user plus system CPU time of process pid so far.
func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces; fields after it start past ")".
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ is 100 on Linux
}

func peakRSSMiB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

func cpuProfile(endpoint string, seconds int) (*profile.Profile, error) {
	if seconds < 1 {
		seconds = 1
	}
	client := &http.Client{Timeout: time.Duration(seconds+20) * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", endpoint, seconds))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pprof: status %d", resp.StatusCode)
	}
	return profile.Parse(resp.Body)
}

// share is the fraction of CPU samples with a frame in any of the given packages.
func share(p *profile.Profile, pkgs []string) float64 {
	if p == nil {
		return 0
	}
	var total, ours int64
	for _, s := range p.Sample {
		v := s.Value[len(s.Value)-1]
		total += v
	inSample:
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function == nil {
					continue
				}
				for _, pkg := range pkgs {
					if strings.Contains(line.Function.Name, pkg) {
						ours += v
						break inSample
					}
				}
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(ours) / float64(total)
}

// saveProfile writes the saturation CPU profile for `go tool pprof` (BENCH_PROFILE_DIR).
func saveProfile(b *testing.B, p *profile.Profile, path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := p.Write(f); err != nil {
		b.Fatal(err)
	}
}

// raisePriority gives this process (it only polls /ready and /health) precedence over
// the load generator and the collector, so that the latencies measured are the
// collector's and not the time the poller waited for a CPU on a machine both of them
// keep busy. It needs root (CAP_SYS_NICE); without it the run says so and goes on.
var prioritized bool

func raisePriority(b *testing.B) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		b.Logf("poller priority unchanged: %v", err)
		return
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// On Linux, PRIO_PROCESS with a thread id sets that thread's nice value;
		// threads started later inherit it.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, -10); err != nil {
			b.Logf("poller priority unchanged (needs root): %v", err)
			return
		}
	}
	prioritized = true
}

// BenchmarkSentryErrors is sentry_errors alone in the built collector: every trace of
// the load fails (loadgen -error-ratio 1), each error goes to a local Sentry test server
// in its own envelope, at a fixed rate the collector keeps up with. Reported: error
// events delivered per second, the collector's CPU per delivered event (receiving,
// mapping, encoding and the HTTP request each), and the share of that CPU in the
// exporter's mapping and encoding (from a CPU profile).
func BenchmarkSentryErrors(b *testing.B) {
	loadgenBin := buildLoadgen(b)
	raisePriority(b)
	for i := 0; i < b.N; i++ {
		runSentryErrors(b, loadgenBin)
	}
}

func runSentryErrors(b *testing.B, loadgenBin string) {
	srv := newEnvelopeSink(b)
	env := map[string]string{
		"SENTRY_DSN":     srv.dsn,
		"PPROF_ENDPOINT": fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b)),
	}
	if v := os.Getenv("BENCH_COLLECTOR_GOMAXPROCS"); v != "" {
		env["GOMAXPROCS"] = v
	}
	c := harness.Start(b, harness.Options{Configs: []string{filepath.Join(harness.RepoRoot(), "bench/configs/sentry-errors.yaml")},
		Env: env, Wrapper: pinned("1"), NoWait: true})
	c.WaitLog("Everything is ready", time.Minute)
	rate := envInt("BENCH_ERROR_SPAN_RATE", 10000)
	send := func(seconds int) {
		args := []string{"-endpoint", c.OTLPGRPCEndpoint(), "-rate", strconv.Itoa(rate), "-duration", fmt.Sprintf("%ds", seconds),
			"-conns", "2", "-batch", strconv.Itoa(batchSpans), "-error-ratio", "1", "-quiet"}
		argv := append(pinned("0"), loadgenBin)
		cmd := exec.Command(argv[0], append(argv[1:], args...)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("loadgen: %v\n%s", err, msg)
		}
	}
	delivered := func() int { return int(srv.events.Load()) }
	send(warmSeconds)
	time.Sleep(time.Second)

	var prof *profile.Profile
	var profErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(2 * time.Second)
		prof, profErr = cpuProfile(env["PPROF_ENDPOINT"], runSeconds-4)
	}()
	before, cpuBefore := delivered(), cpuSeconds(b, c.Pid())
	t0 := time.Now()
	send(runSeconds)
	// The queue drains within a second at this rate; wait for it, up to 10 s.
	for last, deadline := -1, time.Now().Add(10*time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		n := delivered()
		if n == last {
			break
		}
		last = n
	}
	events := delivered() - before
	cpu := cpuSeconds(b, c.Pid()) - cpuBefore
	elapsed := time.Since(t0).Seconds()
	wg.Wait()
	if profErr != nil {
		b.Fatalf("cpu profile: %v", profErr)
	}
	if events == 0 {
		b.Fatal("no error event reached the Sentry test server")
	}
	if v := srv.violation.Load(); v != nil {
		b.Fatalf("protocol violation: %v", *v)
	}
	b.ReportMetric(float64(events)/elapsed, "events/s")
	b.ReportMetric(cpu/float64(events)*1e6, "cpu-µs/event")
	b.ReportMetric(100*share(prof, []string{"exporter/sentryerrors.(*mapper)", "exporter/sentryerrors.encodePayload"}), "map-encode-cpu-%")
	b.ReportMetric(0, "ns/op")
	c.Stop(60 * time.Second)
}

// envelopeSink stands in for Sentry in BenchmarkSentryErrors: it answers 200 to envelope
// posts and counts them, and checks the protocol (path, X-Sentry-Auth key, envelope and
// item headers, event JSON; harness.ParseEnvelope) on every 50th, so that the benchmark's
// own process spends little CPU beside the collector's.
type envelopeSink struct {
	dsn       string
	events    atomic.Int64
	violation atomic.Pointer[string]
}

func newEnvelopeSink(b *testing.B) *envelopeSink {
	const key, project = "0123456789abcdef0123456789abcdef", "42"
	s := &envelopeSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		n := s.events.Add(1)
		bad := func(msg string) {
			s.violation.CompareAndSwap(nil, &msg)
			w.WriteHeader(http.StatusBadRequest)
		}
		switch {
		case err != nil:
			bad("reading the body: " + err.Error())
		case r.Method != http.MethodPost || r.URL.Path != "/api/"+project+"/envelope/":
			bad(r.Method + " " + r.URL.Path)
		case !strings.Contains(r.Header.Get("X-Sentry-Auth"), "sentry_key="+key):
			bad("X-Sentry-Auth without the DSN's key")
		case n%50 == 1:
			if _, items, err := harness.ParseEnvelope(body); err != nil {
				bad(err.Error())
			} else if len(items) != 1 || items[0].Event == nil {
				bad("an envelope without exactly one event item")
			}
		}
	}))
	b.Cleanup(srv.Close)
	s.dsn = "http://" + key + "@" + strings.TrimPrefix(srv.URL, "http://") + "/" + project
	return s
}
