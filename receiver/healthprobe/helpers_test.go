package healthprobe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"

	"github.com/procode-ai/otelcol-procode/internal/health"
)

// newTestRunner validates p the way the receiver does and starts its prober.
func newTestRunner(t *testing.T, p ProbeConfig) *runner {
	t.Helper()
	errs := p.validate(time.Minute, 5*time.Second)
	require.Empty(t, errs)
	p, err := resolveProbe(p)
	require.NoError(t, err)
	r, err := newRunner(&p, 5*time.Second, componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	require.NoError(t, r.prober.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.prober.shutdown(context.Background())) })
	return r
}

func httpProbe(name, endpoint string) ProbeConfig {
	p := defaultProbeConfig()
	p.Name, p.Type = name, typeHTTP
	p.ClientConfig.Endpoint = endpoint
	return p
}

// selfSignedCert makes a certificate for 127.0.0.1 that expires at notAfter.
func selfSignedCert(t *testing.T, notAfter time.Time) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "healthprobe test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return cert, certPEM
}

// recordingReporter is a health.Reporter that keeps what it was told.
type recordingReporter struct {
	mu           sync.Mutex
	registered   []health.ProbeInfo
	results      []health.ProbeResult
	unregistered bool
	registerErr  error
}

func (r *recordingReporter) RegisterProbes(_ component.ID, probes []health.ProbeInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registerErr != nil {
		return r.registerErr
	}
	r.registered = append(r.registered, probes...)
	return nil
}

func (r *recordingReporter) ReportProbe(_ component.ID, res health.ProbeResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

func (r *recordingReporter) UnregisterProbes(component.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unregistered = true
}

func (r *recordingReporter) Start(context.Context, component.Host) error { return nil }
func (r *recordingReporter) Shutdown(context.Context) error              { return nil }

func (r *recordingReporter) snapshot() []health.ProbeResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]health.ProbeResult(nil), r.results...)
}

// extensionHost is a component.Host with the given extensions.
type extensionHost struct {
	extensions map[component.ID]component.Component
}

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h.extensions }

func unmarshalInto(m map[string]any, cfg component.Config) error {
	return confmap.NewFromStringMap(m).Unmarshal(cfg)
}
