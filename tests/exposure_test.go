package tests

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// TestDefaultListenersAreLoopbackOnly checks the default configuration twice. As
// written: the endpoints it resolves to with no environment variable set (from
// `otelcol-procode print-config`) are all on localhost. As run: the collector's
// listening sockets, read from /proc, are exactly the five endpoints it configures,
// all on a loopback address.
func TestDefaultListenersAreLoopbackOnly(t *testing.T) {
	cmd := exec.Command(harness.Binary(t), "print-config", "--format=json", "--config="+harness.DefaultConfig())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")} // no endpoint variables
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(out, &cfg))

	found := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				p := path + "::" + k
				if s, ok := child.(string); ok && (k == "endpoint" || strings.HasSuffix(p, "::prometheus::host")) {
					found[strings.TrimPrefix(p, "::")] = s
				}
				walk(p, child)
			}
		case []any:
			for i, child := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		}
	}
	walk("", cfg)
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("default endpoints: %v", found)
	for _, want := range []string{
		"receivers::otlp::protocols::grpc::endpoint", "receivers::otlp::protocols::http::endpoint",
		"exporters::prometheus::endpoint", "extensions::readiness::endpoint",
	} {
		assert.Contains(t, keys, want, "print-config no longer shows %s", want)
	}
	assert.True(t, len(keys) >= 5, "the telemetry endpoint's host is missing: %v", keys)
	for _, k := range keys {
		host := found[k]
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		assert.Contains(t, []string{"localhost", "127.0.0.1", "::1"}, host, "%s = %q listens beyond this machine by default", k, found[k])
	}

	// As run: only the configured ports, only on loopback.
	c := harness.Start(t, harness.Options{})
	socks, err := harness.ListeningSockets(c.PID())
	require.NoError(t, err)
	var ports []int
	for _, s := range socks {
		assert.True(t, s.Addr().IsLoopback(), "the collector listens on %s", s)
		ports = append(ports, int(s.Port()))
	}
	sort.Ints(ports)
	want := []int{c.Ports.OTLPGRPC, c.Ports.OTLPHTTP, c.Ports.Prometheus, c.Ports.Telemetry, c.Ports.Readiness}
	sort.Ints(want)
	assert.Equal(t, want, ports, "listening sockets: %v", socks)
	c.Stop(30 * time.Second)
}

// TestReadinessBodiesRevealNoConfiguration runs a configuration full of details an
// outsider should not learn from a health endpoint (probe URLs and ports, a database's
// host, user and name, a price file's path, a price source's host and port, the DNS
// server's address) with every one of those failing, and
// checks that /health and /ready, plain and verbose, name none of them.
func TestReadinessBodiesRevealNoConfiguration(t *testing.T) {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(agent.Close)
	hole := harness.NewBlackHole(t)
	prices := filepath.Join(t.TempDir(), "tenant-acme-private-prices.yaml")
	require.NoError(t, os.WriteFile(prices, []byte("prices: [oops"), 0o600))
	overlay := writeFile(t, "config.yaml", fmt.Sprintf(`
processors:
  llm_cost:
    price_files:
      - path: %s
      - url: http://tenant-acme-prices.invalid:8443/v2/data.json
receivers:
  health_probe:
    collection_interval: 500ms
    timeout: 300ms
    initial_delay: 0s
    probes:
      - name: billing_agent
        type: http
        critical: false
        endpoint: %s/internal/billing-v7/healthz?tenant=acme
      - name: ledger_db
        type: postgresql
        critical: false
        host: %s
        port: %s
        database: ledger_production
        user: ledger_reader
        password: not-used
        sslmode: disable
`, prices, agent.URL, strings.Split(hole.Addr(), ":")[0], strings.Split(hole.Addr(), ":")[1]))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}})
	harness.Eventually(t, 20*time.Second, func() string {
		_, h := getHealth(t, c)
		if h.Checks["billing_agent"]["error_type"] != "unexpected_status" || h.Checks["ledger_db"]["error_type"] != "timeout" ||
			h.Checks["pipeline:traces"]["status"] != "degraded" || !strings.Contains(fmt.Sprint(h.Checks), "price_files[1]") {
			return fmt.Sprintf("not every failure reported yet: %v", h.Checks)
		}
		return ""
	})
	agentHostPort := strings.TrimPrefix(agent.URL, "http://")
	configDetails := []string{agentHostPort, "billing-v7", "tenant", hole.Addr(), "ledger_production", "ledger_reader", "not-used",
		prices, "tenant-acme-private-prices", filepath.Dir(prices), "tenant-acme-prices", "8443", ":53"}
	for _, path := range []string{"/health", "/health?verbose", "/ready", "/ready?verbose"} {
		_, body, err := c.Get(c.ReadinessURL(path))
		require.NoError(t, err)
		for _, d := range configDetails {
			assert.NotContains(t, body, d, "%s reveals configuration", path)
		}
		if path == "/health" {
			assert.Contains(t, body, "price_files[0]", "the bad price file is named by its place in the configuration")
			t.Logf("/health: %s", body)
		}
	}
	c.Stop(30 * time.Second)
}

// TestRequestSizesAreLimited: the readiness endpoints refuse bodies above 1 KiB (413)
// and headers above 16 KiB (431); the OTLP receiver refuses an HTTP body above its
// 20 MiB limit, a gRPC message above 4 MiB (ResourceExhausted) and HTTP headers above
// Go's 1 MiB, and keeps serving.
func TestRequestSizesAreLimited(t *testing.T) {
	c := harness.Start(t, harness.Options{})
	do := func(method, url string, body io.Reader, header string) (int, error) {
		req, err := http.NewRequest(method, url, body)
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("X-Padding", header)
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	code, err := do(http.MethodGet, c.ReadinessURL("/ready"), strings.NewReader(strings.Repeat("a", 2048)), "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, "readiness: 2 KiB body")
	code, err = do(http.MethodGet, c.ReadinessURL("/ready"), nil, strings.Repeat("h", 32<<10))
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, code, "readiness: 32 KiB header")

	// OTLP/HTTP: a valid request just under the 20 MiB default is taken, one just above
	// is refused.
	otlpHTTP := "http://" + c.OTLPHTTPEndpoint() + "/v1/traces"
	request := func(size int) io.Reader {
		td := ptrace.NewTraces()
		span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName("big")
		span.Attributes().PutStr("blob", strings.Repeat("b", size))
		b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(t, err)
		return bytes.NewReader(b)
	}
	code, err = do(http.MethodPost, otlpHTTP, request(19<<20), "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "OTLP/HTTP: 19 MiB request")
	code, err = do(http.MethodPost, otlpHTTP, request(21<<20), "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code, "OTLP/HTTP: 21 MiB request (the receiver answers 400 with \"request body too large\")")
	code, err = do(http.MethodPost, otlpHTTP, request(1), strings.Repeat("h", 2<<20))
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, code, "OTLP/HTTP: 2 MiB header")
	own := harness.MustScrape(t, c.TelemetryURL())
	accepted, _ := own.Sum("otelcol_receiver_accepted_spans", map[string]string{"receiver": "otlp", "transport": "http"})
	assert.Equal(t, 1.0, accepted, "only the 19 MiB request got through")

	// gRPC: a span with a 5 MiB attribute, from the SDK's exporter.
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	require.NoError(t, err)
	err = exp.ExportSpans(context.Background(), tracetest.SpanStubs{{Name: "huge",
		Attributes: []attribute.KeyValue{attribute.String("blob", strings.Repeat("b", 5<<20))}}}.Snapshots())
	require.Error(t, err, "a 5 MiB gRPC message must be refused")
	assert.Equal(t, codes.ResourceExhausted, status.Code(unwrapStatus(err)), "%v", err)
	require.NoError(t, exp.Shutdown(context.Background()))

	// Still serving.
	code, _, err = c.Get(c.ReadinessURL("/ready"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	tp2 := harness.TracerProvider(t, c, "e2e-after")
	_, small := tp2.Tracer("e2e").Start(context.Background(), "small")
	small.End()
	require.NoError(t, tp2.ForceFlush(context.Background()))
	c.Stop(30 * time.Second)
}

// unwrapStatus finds the gRPC status error inside the SDK's wrapping.
func unwrapStatus(err error) error {
	for e := err; e != nil; {
		if _, ok := status.FromError(e); ok {
			return e
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return err
}

// testCA is a certificate authority made for one test, and a server certificate for
// 127.0.0.1 signed by it.
type testCA struct {
	pool              *x509.CertPool
	certFile, keyFile string
	otherPool         *x509.CertPool // a CA that did not sign the server certificate
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otelcol-procode test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	srvKey := newKey()
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	require.NoError(t, err)

	dir := t.TempDir()
	ca := testCA{pool: x509.NewCertPool(), certFile: filepath.Join(dir, "server.crt"), keyFile: filepath.Join(dir, "server.key")}
	require.NoError(t, os.WriteFile(ca.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o600))
	require.NoError(t, os.WriteFile(ca.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	ca.pool.AddCert(caCert)

	otherKey := newKey()
	otherDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &otherKey.PublicKey, otherKey)
	require.NoError(t, err)
	other, err := x509.ParseCertificate(otherDER)
	require.NoError(t, err)
	ca.otherPool = x509.NewCertPool()
	ca.otherPool.AddCert(other)
	return ca
}

// TestTLSForOTLPAndReadiness turns on TLS for both OTLP protocols and the readiness
// endpoints with a certificate made by the test. The OpenTelemetry SDK, trusting the
// test's CA, sends a span over each protocol and both become span metrics; /ready
// answers over HTTPS; a client that does not trust the CA, and a plain-text client,
// are refused.
func TestTLSForOTLPAndReadiness(t *testing.T) {
	ca := newTestCA(t)
	tlsBlock := fmt.Sprintf("{cert_file: %s, key_file: %s}", ca.certFile, ca.keyFile)
	overlay := writeFile(t, "tls.yaml", fmt.Sprintf(`
extensions:
  readiness:
    tls: %[1]s
receivers:
  otlp:
    protocols:
      grpc:
        tls: %[1]s
      http:
        tls: %[1]s
`, tlsBlock))
	c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}, NoWait: true})

	trusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}}}
	readyURL := fmt.Sprintf("https://127.0.0.1:%d/ready", c.Ports.Readiness)
	harness.Eventually(t, 60*time.Second, func() string {
		resp, err := trusting.Get(readyURL)
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Sprintf("/ready %d", resp.StatusCode)
		}
		return ""
	})

	// Untrusted and plain-text clients are refused.
	untrusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.otherPool, MinVersion: tls.VersionTLS12}}}
	_, err := untrusting.Get(readyURL)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	code, _, err := c.Get(c.ReadinessURL("/ready")) // http://
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code, "plain HTTP to the HTTPS port")

	ctx := context.Background()
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()),
		otlptracegrpc.WithTLSCredentials(credentials.NewClientTLSFromCert(ca.pool, "")))
	require.NoError(t, err)
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(c.OTLPHTTPEndpoint()),
		otlptracehttp.WithTLSClientConfig(&tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}))
	require.NoError(t, err)
	for name, exp := range map[string]sdktrace.SpanExporter{"grpc": grpcExp, "http": httpExp} {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(harness.AppResource("e2e-tls")))
		_, span := tp.Tracer("e2e").Start(ctx, "over "+name)
		span.End()
		require.NoError(t, tp.ForceFlush(ctx), name)
		require.NoError(t, tp.Shutdown(ctx), name)
	}
	harness.Eventually(t, 30*time.Second, func() string {
		fams, err := harness.Scrape(c.MetricsURL())
		if err != nil {
			return err.Error()
		}
		for _, name := range []string{"over grpc", "over http"} {
			if v, _ := fams.Sum("traces_span_metrics_calls_total", map[string]string{"service_name": "e2e-tls", "span_name": name}); v != 1 {
				return fmt.Sprintf("%s: %v calls", name, v)
			}
		}
		return ""
	})

	// An SDK that does not trust the certificate gets nothing through.
	badExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(c.OTLPGRPCEndpoint()),
		otlptracegrpc.WithTLSCredentials(credentials.NewClientTLSFromCert(ca.otherPool, "")),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}), otlptracegrpc.WithTimeout(5*time.Second))
	require.NoError(t, err)
	err = badExp.ExportSpans(ctx, tracetest.SpanStubs{{Name: "untrusted"}}.Snapshots())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	_ = badExp.Shutdown(ctx)
	c.Stop(30 * time.Second)
}
