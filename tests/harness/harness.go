// Package harness runs the built otelcol-procode binary for end-to-end tests: it finds
// (or builds) the binary once, starts it on free loopback ports with a given config,
// waits for /ready, scrapes its metric endpoints and stops it with SIGTERM.
package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// DefaultConfig is the path of the default configuration, config/otelcol.yaml.
func DefaultConfig() string {
	return filepath.Join(RepoRoot(), "config", "otelcol.yaml")
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the collector binary (see BinaryPath), failing the test
// when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := BinaryPath()
	if err != nil {
		t.Fatalf("collector binary: %v", err)
	}
	return p
}

// BinaryPath returns the path of the collector binary: $OTELCOL_BIN when set (make test
// sets it after building once), else _build/otelcol-procode after `make build`, which
// rebuilds only when a source changed. It builds at most once per test process.
func BinaryPath() (string, error) {
	binOnce.Do(func() {
		if p := os.Getenv("OTELCOL_BIN"); p != "" {
			binPath, binErr = filepath.Abs(p)
			if binErr == nil {
				_, binErr = os.Stat(binPath)
			}
			return
		}
		cmd := exec.Command("make", "-C", RepoRoot(), "build")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("make build: %w\n%s", err, out)
			return
		}
		binPath = filepath.Join(RepoRoot(), "_build", "otelcol-procode")
	})
	return binPath, binErr
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. It is chosen
// below the kernel's ephemeral range, so no connection's source port and no listener on
// port 0 can take it before the collector binds it, and this process never hands it out
// twice.
func FreePort(t testing.TB) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	low := ephemeralLow()
	const floor = 10000
	for range 1000 {
		if low-floor < 100 {
			break
		}
		p := floor + rand.IntN(low-floor)
		if portsGiven[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		_ = l.Close()
		portsGiven[p] = true
		return p
	}
	// No room below the ephemeral range: let the kernel choose.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr is "127.0.0.1:port" with a port from FreePort: an address where nothing
// listens, for a dependency that is down, or for a server the test starts later.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

var (
	portMu     sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's default when
// it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return 32768
}

// Ports are the loopback ports a collector started by Start listens on. The default
// config reads each from an environment variable, so Start sets them all.
type Ports struct {
	OTLPGRPC, OTLPHTTP, Prometheus, Telemetry, Readiness int
}

// Options configure one collector run.
type Options struct {
	// Configs are --config arguments (file paths or provider URIs, such as "yaml:...").
	// Empty means the default config, config/otelcol.yaml.
	Configs []string
	// Env is added to the collector's environment (after the port variables).
	Env map[string]string
	// Args are extra command-line arguments.
	Args []string
	// NoWait returns as soon as the process started, without waiting for /ready.
	NoWait bool
	// ReadyTimeout bounds the wait for /ready (default 60s).
	ReadyTimeout time.Duration
	// Wrapper is a command that runs the binary, such as ["taskset", "-c", "1"].
	Wrapper []string
}

// Collector is one running collector process.
type Collector struct {
	t     testing.TB
	cmd   *exec.Cmd
	Ports Ports
	logs  *syncBuffer
	done  chan struct{}
	err   error // set when done is closed
}

// Start runs the binary with opts on fresh loopback ports and waits until /ready answers
// 200. The process is stopped at the end of the test if the test did not stop it.
func Start(t testing.TB, opts Options) *Collector {
	t.Helper()
	// Another process may bind one of the chosen ports between FreePort and the
	// collector's start; the collector then exits with "address already in use". Start
	// again on fresh ports rather than fail the test for it.
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	for attempt := 1; ; attempt++ {
		c := start(t, opts)
		if opts.NoWait {
			return c
		}
		exited, last := c.pollReady(timeout)
		if exited && attempt < 3 && strings.Contains(c.Logs(), "address already in use") {
			t.Logf("collector could not bind a port (attempt %d), starting again on other ports", attempt)
			continue
		}
		c.failUnlessReady(exited, last, timeout)
		return c
	}
}

func start(t testing.TB, opts Options) *Collector {
	t.Helper()
	bin := Binary(t)
	ports := Ports{
		OTLPGRPC:   FreePort(t),
		OTLPHTTP:   FreePort(t),
		Prometheus: FreePort(t),
		Telemetry:  FreePort(t),
		Readiness:  FreePort(t),
	}
	configs := opts.Configs
	if len(configs) == 0 {
		configs = []string{DefaultConfig()}
	}
	args := make([]string, 0, len(configs)+len(opts.Args))
	for _, c := range configs {
		args = append(args, "--config="+c)
	}
	args = append(args, opts.Args...)

	if len(opts.Wrapper) > 0 {
		args = append(append(append([]string{}, opts.Wrapper[1:]...), bin), args...)
		bin = opts.Wrapper[0]
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("OTLP_GRPC_ENDPOINT=127.0.0.1:%d", ports.OTLPGRPC),
		fmt.Sprintf("OTLP_HTTP_ENDPOINT=127.0.0.1:%d", ports.OTLPHTTP),
		fmt.Sprintf("PROMETHEUS_ENDPOINT=127.0.0.1:%d", ports.Prometheus),
		"TELEMETRY_HOST=127.0.0.1",
		fmt.Sprintf("TELEMETRY_PORT=%d", ports.Telemetry),
		fmt.Sprintf("READINESS_ENDPOINT=127.0.0.1:%d", ports.Readiness),
		"SPANMETRICS_FLUSH_INTERVAL=1s",
		"AGENT_METRICS_FLUSH_INTERVAL=1s",
		"AGENT_RUN_COST_SETTLE=1s",
		"BATCH_TIMEOUT=200ms",
	)
	for k, v := range opts.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	c := &Collector{t: t, cmd: cmd, Ports: ports, logs: logs, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-c.done
			}
		}
		if t.Failed() {
			t.Logf("collector output:\n%s", c.Logs())
		}
	})
	return c
}

// WaitReady polls /ready until it answers 200, failing the test after timeout or if the
// process exits.
func (c *Collector) WaitReady(timeout time.Duration) {
	c.t.Helper()
	exited, last := c.pollReady(timeout)
	c.failUnlessReady(exited, last, timeout)
}

// pollReady polls /ready until it answers 200 (last is ""), the process exits (exited),
// or timeout passes (last is the latest answer).
func (c *Collector) pollReady(timeout time.Duration) (exited bool, last string) {
	deadline := time.Now().Add(timeout)
	last = "no answer yet"
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return true, last
		default:
		}
		code, body, err := c.Get(c.ReadinessURL("/ready"))
		if err == nil && code == http.StatusOK {
			return false, ""
		}
		last = fmt.Sprintf("code %d err %v body %s", code, err, body)
		time.Sleep(100 * time.Millisecond)
	}
	return false, last
}

func (c *Collector) failUnlessReady(exited bool, last string, timeout time.Duration) {
	c.t.Helper()
	switch {
	case exited:
		c.t.Fatalf("collector exited before it was ready (%v):\n%s", c.err, c.Logs())
	case last != "":
		c.t.Fatalf("collector not ready after %s (last: %s):\n%s", timeout, last, c.Logs())
	}
}

// WaitLog waits until the collector's output contains substr, failing the test after
// timeout or if the process exits. Use it for configurations without the readiness
// extension (wait for "Everything is ready").
func (c *Collector) WaitLog(substr string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c.ContainsLine(substr) {
			return
		}
		select {
		case <-c.done:
			c.t.Fatalf("collector exited before logging %q (%v):\n%s", substr, c.err, c.Logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.t.Fatalf("collector did not log %q within %s:\n%s", substr, timeout, c.Logs())
}

// ReadinessURL is the URL of path on the readiness extension.
func (c *Collector) ReadinessURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.Ports.Readiness, path)
}

// MetricsURL is the Prometheus exporter's /metrics URL.
func (c *Collector) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", c.Ports.Prometheus)
}

// TelemetryURL is the collector's own /metrics URL.
func (c *Collector) TelemetryURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", c.Ports.Telemetry)
}

// OTLPGRPCEndpoint is host:port of the OTLP gRPC receiver.
func (c *Collector) OTLPGRPCEndpoint() string {
	return fmt.Sprintf("127.0.0.1:%d", c.Ports.OTLPGRPC)
}

// OTLPHTTPEndpoint is host:port of the OTLP HTTP receiver.
func (c *Collector) OTLPHTTPEndpoint() string {
	return fmt.Sprintf("127.0.0.1:%d", c.Ports.OTLPHTTP)
}

// Get fetches url and returns its status code and body.
func (c *Collector) Get(url string) (int, string, error) {
	return Get(url)
}

// Get fetches url with a short timeout and returns its status code and body.
func Get(url string) (int, string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Logs returns everything the process wrote to stdout and stderr so far.
func (c *Collector) Logs() string {
	return c.logs.String()
}

// Signal sends sig to the process.
func (c *Collector) Signal(sig os.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Pid is the process id of the collector (of the wrapper command, which execs it, when
// Options.Wrapper is set).
func (c *Collector) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the process has exited.
func (c *Collector) Done() <-chan struct{} { return c.done }

// Stop sends SIGTERM and waits for the process to exit, failing the test unless it
// exits cleanly (status 0) within timeout.
func (c *Collector) Stop(timeout time.Duration) {
	c.t.Helper()
	c.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		c.t.Fatalf("collector did not exit within %s of SIGTERM:\n%s", timeout, c.Logs())
	}
	if c.err != nil {
		var exitErr *exec.ExitError
		if errors.As(c.err, &exitErr) {
			c.t.Fatalf("collector exited with %v:\n%s", exitErr, c.Logs())
		}
		c.t.Fatalf("collector wait: %v", c.err)
	}
}

// Eventually polls cond every interval until it returns "" (success) or timeout passes,
// then fails the test with the last reason cond gave.
func Eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var reason string
	for {
		if reason = cond(); reason == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met within %s: %s", timeout, reason)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ContainsLine reports whether any line of the logs contains substr.
func (c *Collector) ContainsLine(substr string) bool {
	return strings.Contains(c.Logs(), substr)
}
