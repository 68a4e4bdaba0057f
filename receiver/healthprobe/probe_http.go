package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/procode-ai/otelcol-procode/internal/redirect"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// httpObservation is what an HTTP run measured, for its metrics.
type httpObservation struct {
	statusCode    int // 0 when no response arrived
	phases        [numPhases]time.Duration
	seen          [numPhases]bool
	hasCert       bool
	certRemaining time.Duration
	checks        []bodyCheckResult
}

type bodyCheckResult struct {
	name   string
	passed bool
}

const (
	phaseDNS = iota
	phaseConnect
	phaseTLS
	phaseTTFB
	phaseTotal
	numPhases
)

var phaseAttr = [numPhases]metadata.AttributeHTTPPhase{
	metadata.AttributeHTTPPhaseDNS,
	metadata.AttributeHTTPPhaseConnect,
	metadata.AttributeHTTPPhaseTLS,
	metadata.AttributeHTTPPhaseTtfb,
	metadata.AttributeHTTPPhaseTotal,
}

type httpProber struct {
	cfg       *ProbeConfig
	telemetry component.TelemetrySettings
	checks    []bodyCheck
	client    *http.Client
	now       func() time.Time
}

func newHTTPProber(cfg *ProbeConfig, telemetry component.TelemetrySettings) (*httpProber, error) {
	p := &httpProber{cfg: cfg, telemetry: telemetry, now: time.Now}
	for _, c := range cfg.BodyChecks {
		bc, err := compileBodyCheck(c)
		if err != nil {
			return nil, fmt.Errorf("body check %q: %w", c.Name, err)
		}
		p.checks = append(p.checks, bc)
	}
	return p, nil
}

func (p *httpProber) start(ctx context.Context, host component.Host) error {
	// No tracer or meter provider: a probe is not a request worth a span, and the probe
	// metrics already say how it went.
	set := p.telemetry
	set.TracerProvider = nil
	set.MeterProvider = nil
	client, err := p.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), set)
	if err != nil {
		return fmt.Errorf("probe %q: http client: %w", p.cfg.Name, err)
	}
	switch {
	case !p.cfg.FollowRedirects:
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	case len(p.cfg.ClientConfig.Headers) > 0 || p.cfg.ClientConfig.Auth.HasValue():
		// The configured headers and the authenticator's are set on every request by
		// the client's round trippers, redirects included, so Go's own stripping of
		// credentials on a redirect to another host does not apply to them.
		client.CheckRedirect = credentialsStayOnHost
	}
	p.client = client
	return nil
}

// credentialsStayOnHost follows redirects on the probed host only (and never from
// https to http); a redirect elsewhere fails the probe, saying where it pointed.
func credentialsStayOnHost(req *http.Request, via []*http.Request) error {
	if !redirect.SameHost(req, via) {
		return fmt.Errorf("redirect to %s://%s not followed: the probe's headers and credentials would go with it", req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= redirect.MaxHops {
		return fmt.Errorf("stopped after %d redirects", redirect.MaxHops)
	}
	return nil
}

func (p *httpProber) shutdown(context.Context) error {
	if p.client != nil {
		p.client.CloseIdleConnections()
	}
	return nil
}

func (p *httpProber) probe(ctx context.Context) outcome {
	obs := &httpObservation{}
	tr := &phaseTrace{}
	start := time.Now()
	tr.start = start
	var body io.Reader
	if p.cfg.Body != "" {
		body = strings.NewReader(p.cfg.Body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), p.cfg.Method, p.cfg.ClientConfig.Endpoint, body)
	if err != nil {
		return failedErr(err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		tr.fill(obs, time.Since(start))
		o := failedErr(err)
		o.http = obs
		return o
	}
	defer resp.Body.Close()

	var content []byte
	cut := false // the body is longer than max_body_bytes: the checks saw its start
	if len(p.checks) > 0 {
		content, err = io.ReadAll(io.LimitReader(resp.Body, p.cfg.MaxBodyBytes+1))
		if int64(len(content)) > p.cfg.MaxBodyBytes {
			content, cut = content[:p.cfg.MaxBodyBytes], true
		}
	} else {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, p.cfg.MaxBodyBytes))
	}
	total := time.Since(start)
	tr.fill(obs, total)
	obs.statusCode = resp.StatusCode
	if resp.TLS != nil {
		obs.hasCert, obs.certRemaining = earliestExpiry(resp.TLS, p.now())
	}
	o := outcome{http: obs, details: map[string]any{"status_code": resp.StatusCode}}
	if err != nil {
		f := failedErr(err)
		f.http, f.details = obs, o.details
		f.message = fmt.Sprintf("HTTP %d, reading the body failed: %s", resp.StatusCode, f.message)
		return f
	}
	if !statusExpected(p.cfg.statusRanges, resp.StatusCode) {
		errType := metadata.AttributeErrorTypeUnexpectedStatus
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired:
			errType = metadata.AttributeErrorTypeAuth
		}
		f := failed(errType, fmt.Sprintf("unexpected status %d (expected %s)", resp.StatusCode, describeRanges(p.cfg.statusRanges)))
		f.http, f.details = obs, o.details
		return f
	}
	var doc jsonDoc
	var failedCheck, reason string
	for i := range p.checks {
		ok, why := p.checks[i].check(content, &doc)
		obs.checks = append(obs.checks, bodyCheckResult{name: p.checks[i].name, passed: ok})
		if !ok && failedCheck == "" {
			failedCheck, reason = p.checks[i].name, why
		}
	}
	if failedCheck != "" {
		if cut {
			reason += fmt.Sprintf(" in the body's first %d bytes (max_body_bytes)", p.cfg.MaxBodyBytes)
		}
		f := failed(metadata.AttributeErrorTypeBodyMismatch, fmt.Sprintf("HTTP %d, body check %q failed: %s", resp.StatusCode, failedCheck, reason))
		f.http, f.details = obs, o.details
		f.details["failed_body_check"] = failedCheck
		return f
	}
	o.ok = true
	o.message = fmt.Sprintf("HTTP %d in %s", resp.StatusCode, round(total))
	if obs.hasCert {
		o.details["tls_cert_remaining_days"] = round2(obs.certRemaining.Hours() / 24)
	}
	return o
}

// earliestExpiry returns the time left until the first certificate of the presented
// chain expires.
func earliestExpiry(state *tls.ConnectionState, now time.Time) (bool, time.Duration) {
	var earliest time.Time
	for _, cert := range state.PeerCertificates {
		if earliest.IsZero() || cert.NotAfter.Before(earliest) {
			earliest = cert.NotAfter
		}
	}
	if earliest.IsZero() {
		return false, 0
	}
	return true, earliest.Sub(now)
}

// phaseTrace adds up the time of each phase over every request of a run (redirects
// included, as blackbox_exporter does). Callbacks may come from other goroutines.
type phaseTrace struct {
	start time.Time

	mu           sync.Mutex
	dnsStart     time.Time
	connectStart map[string]time.Time
	tlsStart     time.Time
	firstByte    time.Time
	sums         [numPhases]time.Duration
	seen         [numPhases]bool
}

func (t *phaseTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) {
			t.mu.Lock()
			t.dnsStart = time.Now()
			t.mu.Unlock()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			t.mu.Lock()
			t.add(phaseDNS, t.dnsStart)
			t.mu.Unlock()
		},
		ConnectStart: func(_, addr string) {
			t.mu.Lock()
			if t.connectStart == nil {
				t.connectStart = map[string]time.Time{}
			}
			t.connectStart[addr] = time.Now()
			t.mu.Unlock()
		},
		ConnectDone: func(_, addr string, err error) {
			t.mu.Lock()
			if err == nil {
				t.add(phaseConnect, t.connectStart[addr])
			}
			t.mu.Unlock()
		},
		TLSHandshakeStart: func() {
			t.mu.Lock()
			t.tlsStart = time.Now()
			t.mu.Unlock()
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			t.mu.Lock()
			t.add(phaseTLS, t.tlsStart)
			t.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			t.mu.Lock()
			t.firstByte = time.Now()
			t.mu.Unlock()
		},
	}
}

func (t *phaseTrace) add(phase int, since time.Time) {
	if since.IsZero() {
		return
	}
	t.sums[phase] += time.Since(since)
	t.seen[phase] = true
}

// fill copies the phases into obs; ttfb counts from the start of the run to the first
// byte of the last response, like curl's time_starttransfer.
func (t *phaseTrace) fill(obs *httpObservation, total time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	obs.phases, obs.seen = t.sums, t.seen
	if !t.firstByte.IsZero() {
		obs.phases[phaseTTFB] = t.firstByte.Sub(t.start)
		obs.seen[phaseTTFB] = true
	}
	obs.phases[phaseTotal] = total
	obs.seen[phaseTotal] = true
}
