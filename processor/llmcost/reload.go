package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/procode-ai/otelcol-procode/internal/redirect"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// maxPriceFileSize bounds what a price file or a fetched price source may hold;
// LiteLLM's full file is about 1 MiB, genai-prices' about 0.5 MiB.
const maxPriceFileSize = 32 << 20

// firstRetry is the wait before fetching a failed URL source again; it doubles up to
// the source's interval.
const firstRetry = 15 * time.Second

// source is what the reloader knows about one price_files entry.
type source struct {
	cfg      PriceFile
	index    int    // in price_files: names the source in statuses and metrics
	name     string // "price_files[N]"
	display  string // the path, or the URL without credentials or query: for logs and provenance
	isURL    bool
	interval time.Duration

	// files
	modTime time.Time
	size    int64
	statted bool

	// URLs
	client        *http.Client
	etag, lastMod string // validators of the content held, for conditional requests
	storeKey      string
	retry         time.Duration

	sum     [sha256.Size]byte // of the content last read (good or bad)
	content pricing.Parsed    // last good content; kept while the source is bad
	version string            // llm_cost.pricing_version of content.Table
	dated   time.Time         // the content's date: a file's modification, a URL's Last-Modified or first fetch

	err          string // current problem, "" when the source is good
	failingSince time.Time
}

func (s *source) good() bool { return s.content.Table != nil || s.content.Models != nil }

// reloader keeps the price sources of one llm_cost component current: it polls files
// by size and modification time, fetches URLs every interval with conditional requests,
// keeps the last good content of every source, and swaps in a new table when one
// changes. A source that cannot be read, fetched or parsed keeps its previous prices,
// is logged once per change of state, counted, and puts the component in
// RecoverableError until every source is good again.
type reloader struct {
	id         component.ID
	telemetry  component.TelemetrySettings
	interval   time.Duration
	builtin    *pricing.Table
	inline     []*pricing.Model
	apply      func(*pricing.Table)
	logger     *zap.Logger
	storageID  *component.ID
	staleAfter time.Duration
	now        func() time.Time

	loads                                                metric.Int64Counter
	fetches                                              metric.Int64Counter
	okOpt, errOpt, updatedOpt, notModifiedOpt, failedOpt metric.AddOption

	mu       sync.Mutex // guards the sources' state, the host and degraded
	sources  []*source
	host     component.Host
	degraded bool
	store    storage.Client

	cancel context.CancelFunc
	wg     sync.WaitGroup

	// manual (tests only): start fetches each URL once and starts no loops; the test
	// drives checkFiles and fetch.
	manual bool
}

func newReloader(id component.ID, set component.TelemetrySettings, cfg *Config, builtin *pricing.Table, inline []*pricing.Model,
	apply func(*pricing.Table), tb *metadata.TelemetryBuilder,
) (*reloader, error) {
	opt := func(k, v string) metric.AddOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String(k, v)))
	}
	r := &reloader{id: id, telemetry: set, interval: cfg.ReloadInterval, builtin: builtin, inline: inline, apply: apply,
		logger: set.Logger, storageID: cfg.Storage, staleAfter: cfg.StaleAfter, now: time.Now,
		loads: tb.ProcessorLlmCostPriceFileLoads, fetches: tb.ProcessorLlmCostPriceFetches,
		okOpt: opt("result", "ok"), errOpt: opt("result", "error"),
		updatedOpt: opt("outcome", "updated"), notModifiedOpt: opt("outcome", "not_modified"), failedOpt: opt("outcome", "failed")}
	for i, f := range cfg.PriceFiles {
		s := &source{cfg: f, index: i, name: fmt.Sprintf("price_files[%d]", i), display: f.Path}
		if f.URL != "" {
			// Validated trimmed (an environment variable may end in a newline): fetched so.
			s.cfg.URL = strings.TrimSpace(f.URL)
			u, err := url.Parse(s.cfg.URL)
			if err != nil {
				return nil, fmt.Errorf("%s: url: %s", s.name, safetext.Error(errors.Unwrap(err)))
			}
			s.isURL, s.display, s.interval = true, redactURL(u), f.ReloadInterval
			if s.interval == 0 {
				s.interval = defaultURLReloadInterval
			}
			key := sha256.Sum256([]byte(s.cfg.URL))
			s.storeKey = "price_source_" + hex.EncodeToString(key[:8])
		}
		r.sources = append(r.sources, s)
	}
	if err := tb.RegisterProcessorLlmCostPriceTableAgeCallback(r.observeAge); err != nil {
		return nil, err
	}
	if err := tb.RegisterProcessorLlmCostPriceTableStaleAfterCallback(func(_ context.Context, o metric.Float64Observer) error {
		o.Observe(r.staleAfter.Seconds())
		return nil
	}); err != nil {
		return nil, err
	}
	if err := tb.RegisterProcessorLlmCostPriceSourceFailingDurationCallback(r.observeFailing); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reloader) start(ctx context.Context, host component.Host) error {
	r.mu.Lock()
	r.host = host
	r.mu.Unlock()
	if len(r.sources) == 0 {
		return nil
	}
	if err := r.openStorage(ctx, host); err != nil {
		return err
	}
	for _, s := range r.sources {
		if !s.isURL {
			continue
		}
		client, err := r.newClient(ctx, host, s.cfg.ClientConfig)
		if err != nil {
			return fmt.Errorf("llm_cost %s: HTTP client: %w", s.name, err)
		}
		s.client = client
		r.loadStored(ctx, s)
	}
	r.checkFiles(ctx)
	if r.manual {
		for _, s := range r.sources {
			if s.isURL {
				r.fetch(ctx, s)
			}
		}
		return nil
	}

	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	if r.interval > 0 && r.hasFiles() {
		r.wg.Add(1)
		go r.fileLoop(runCtx)
	}
	for _, s := range r.sources {
		if s.isURL {
			r.wg.Add(1)
			go r.urlLoop(runCtx, s)
		}
	}
	return nil
}

// newClient makes a URL source's HTTP client from its settings.
func (r *reloader) newClient(ctx context.Context, host component.Host, cc confighttp.ClientConfig) (*http.Client, error) {
	if cc.Timeout == 0 {
		cc.Timeout = defaultFetchTimeout
	}
	// No tracer or meter provider: their spans would carry the full URL, query tokens
	// included; the component's own metrics say how fetches go.
	set := r.telemetry
	set.TracerProvider, set.MeterProvider = nil, nil
	client, err := cc.ToClient(ctx, host.GetExtensions(), set)
	if err != nil {
		return nil, err
	}
	if len(cc.Headers) > 0 || cc.Auth.HasValue() {
		// The configured headers and the authenticator's are set on every request by
		// the client's round trippers, redirects included.
		client.CheckRedirect = credentialsStayOnHost
	}
	return client, nil
}

// credentialsStayOnHost follows redirects on the source's host only (and never from
// https to http): a redirect elsewhere fails the fetch, naming where it pointed.
func credentialsStayOnHost(req *http.Request, via []*http.Request) error {
	if !redirect.SameHost(req, via) {
		return fmt.Errorf("redirect to %s://%s not followed: the source's headers would go with it", req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= redirect.MaxHops {
		return fmt.Errorf("stopped after %d redirects", redirect.MaxHops)
	}
	return nil
}

func (r *reloader) hasFiles() bool {
	for _, s := range r.sources {
		if !s.isURL {
			return true
		}
	}
	return false
}

func (r *reloader) fileLoop(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.checkFiles(ctx)
		}
	}
}

// urlLoop fetches s at once, then every interval; after a failure it tries again
// sooner (15s, doubling up to the interval).
func (r *reloader) urlLoop(ctx context.Context, s *source) {
	defer r.wg.Done()
	for {
		wait := s.interval
		if !r.fetch(ctx, s) {
			s.retry = nextRetry(s.retry, s.interval)
			wait = s.retry
		} else {
			s.retry = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// nextRetry is the wait before fetching a failed source again, given the wait after
// the previous failure (0 for none): firstRetry, doubling, never more than the interval.
// Capped, not only its use: doubling without end overflows after 31 failures, and a
// negative wait fetches at once, over and over.
func nextRetry(prev, interval time.Duration) time.Duration {
	if prev == 0 {
		return min(firstRetry, interval)
	}
	return min(2*prev, interval)
}

func (r *reloader) shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.store != nil {
		err := r.store.Close(ctx)
		r.store = nil
		return err
	}
	return nil
}

// checkFiles re-reads the files that changed and swaps in a new table if any did.
func (r *reloader) checkFiles(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range r.sources {
		if !s.isURL && r.checkFile(ctx, s) {
			changed = true
		}
	}
	if changed {
		r.rebuild()
	}
	r.reportStatus()
}

// check runs one round over every source now: files are re-read, URLs fetched.
func (r *reloader) check(ctx context.Context) {
	r.checkFiles(ctx)
	for _, s := range r.sources {
		if s.isURL {
			r.fetch(ctx, s)
		}
	}
}

// rebuild makes the table from the current content of every source: the first good
// genai_prices source replaces the built-in table; inline prices, then the entries of
// every other source in order, override it. r.mu is held.
func (r *reloader) rebuild() {
	base := r.builtin
	for _, s := range r.sources {
		if s.content.Table != nil {
			base = s.content.Table
			break
		}
	}
	overrides := append([]*pricing.Model(nil), r.inline...)
	for _, s := range r.sources {
		overrides = append(overrides, s.content.Models...)
	}
	t, err := base.WithOverrides(overrides)
	if err != nil {
		// Each source's entries were compiled when it was parsed; this cannot fail
		// unless a table is broken. Keep the current table.
		r.logger.Error("price table rebuild failed; keeping the current prices", zap.String("error", safetext.Error(err)))
		return
	}
	r.apply(t)
}

// checkFile reports whether the content of file source s changed.
func (r *reloader) checkFile(ctx context.Context, s *source) bool {
	info, err := os.Stat(s.cfg.Path)
	if err != nil {
		s.statted = false
		r.fail(ctx, s, errors.Unwrap(err))
		return false
	}
	if s.statted && info.ModTime().Equal(s.modTime) && info.Size() == s.size {
		return false // unchanged since it was last read, good or bad
	}
	if info.Size() > maxPriceFileSize {
		r.fail(ctx, s, fmt.Errorf("the file is %d bytes, more than the %d allowed", info.Size(), maxPriceFileSize))
		return false
	}
	b, err := os.ReadFile(s.cfg.Path)
	if err != nil {
		r.fail(ctx, s, errors.Unwrap(err))
		return false
	}
	s.modTime, s.size, s.statted = info.ModTime(), info.Size(), true
	sum := sha256.Sum256(b)
	if sum == s.sum && s.err == "" {
		return false
	}
	prev := s.sum
	s.sum = sum
	version := "file " + filepath.Base(s.cfg.Path) + " " + info.ModTime().UTC().Format(time.DateOnly)
	parsed, err := r.parse(b, s.cfg.Format, version)
	if err != nil {
		if prev == sum {
			return false // same bad content as before: already reported
		}
		r.fail(ctx, s, err)
		return false
	}
	r.recover(s)
	s.content, s.version, s.dated = parsed, version, info.ModTime()
	r.loads.Add(ctx, 1, r.okOpt)
	r.logger.Info("price file loaded", zap.String("path", s.cfg.Path), zap.String("format", parsed.Format),
		zap.Int("models", modelCount(parsed)))
	return true
}

// parse reads a source's content. A genai_prices table with fewer than half the models
// of the embedded one is refused: it would replace the whole table, and such a file is
// far more likely broken (a bad upstream commit, one provider's part) than current.
func (r *reloader) parse(b []byte, format, version string) (pricing.Parsed, error) {
	parsed, err := pricing.ParseSource(b, format, version)
	if err == nil && parsed.Table != nil && 2*parsed.Table.ModelCount() < r.builtin.ModelCount() {
		return parsed, fmt.Errorf("genai_prices format: %d models, fewer than half the %d of the embedded table: refused as incomplete (prices of your own go in format llm_cost)",
			parsed.Table.ModelCount(), r.builtin.ModelCount())
	}
	return parsed, err
}

func modelCount(p pricing.Parsed) int {
	if p.Table != nil {
		return p.Table.ModelCount()
	}
	return len(p.Models)
}

// fetch fetches URL source s once and reports whether it is good afterwards. The
// request is made without holding r.mu; its outcome is applied under it.
func (r *reloader) fetch(ctx context.Context, s *source) bool {
	r.mu.Lock()
	etag, lastMod := s.etag, s.lastMod
	if !s.good() {
		etag, lastMod = "", ""
	}
	r.mu.Unlock()

	body, res, err := r.get(ctx, s, etag, lastMod)

	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.reportStatus()
	if err != nil {
		r.fetches.Add(ctx, 1, r.failedOpt)
		r.fail(ctx, s, err)
		return false
	}
	// A 304, or the same content again, keeps the content's date: the age of the data
	// in use grows until upstream publishes something new.
	if res.StatusCode == http.StatusNotModified {
		r.fetches.Add(ctx, 1, r.notModifiedOpt)
		r.recover(s)
		return true
	}
	sum := sha256.Sum256(body)
	if sum == s.sum && s.good() && s.err == "" {
		// The same content without a 304 (a server without validators).
		r.fetches.Add(ctx, 1, r.notModifiedOpt)
		s.etag, s.lastMod = res.Header.Get("ETag"), res.Header.Get("Last-Modified")
		return true
	}
	dated := r.now()
	if lm, err := http.ParseTime(res.Header.Get("Last-Modified")); err == nil {
		dated = lm
	}
	version := provenance(s.display, res.Header.Get("ETag"), dated)
	parsed, err := r.parse(body, s.cfg.Format, version)
	if err != nil {
		r.fetches.Add(ctx, 1, r.failedOpt)
		r.fail(ctx, s, err)
		return false
	}
	r.fetches.Add(ctx, 1, r.updatedOpt)
	r.recover(s)
	s.sum, s.content, s.version, s.dated = sum, parsed, version, dated
	s.etag, s.lastMod = res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	r.logger.Info("price source fetched", zap.String("url", s.display), zap.String("format", parsed.Format),
		zap.Int("models", modelCount(parsed)), zap.String("pricing_version", version))
	r.save(ctx, s, body)
	r.rebuild()
	return true
}

// get sends the (conditional) request and reads the body, at most maxPriceFileSize bytes.
func (r *reloader) get(ctx context.Context, s *source, etag, lastMod string) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, http.NoBody)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastMod != "" {
		req.Header.Set("If-Modified-Since", lastMod)
	}
	res, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The url.Error repeats the URL, which may carry credentials: keep the cause.
			if ue.Timeout() {
				return nil, nil, fmt.Errorf("no answer within the timeout (%s)", s.client.Timeout)
			}
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("fetching: %w", err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotModified:
		if etag == "" && lastMod == "" {
			return nil, nil, errors.New("HTTP 304 Not Modified to an unconditional request")
		}
		return nil, res, nil
	case res.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return nil, nil, fmt.Errorf("HTTP %s", res.Status)
	case res.ContentLength > maxPriceFileSize:
		return nil, nil, fmt.Errorf("the response is %d bytes, more than the %d allowed", res.ContentLength, maxPriceFileSize)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxPriceFileSize+1))
	if err != nil {
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, fmt.Errorf("the whole response did not arrive within the timeout (%s)", s.client.Timeout)
		}
		return nil, nil, fmt.Errorf("reading the response: %w", err)
	}
	if len(body) > maxPriceFileSize {
		return nil, nil, fmt.Errorf("the response is larger than the %d bytes allowed", maxPriceFileSize)
	}
	return body, res, nil
}

// provenance is the pricing_version of a fetched table: the URL, the content's date
// (Last-Modified; else the day it was fetched) and its ETag.
func provenance(display, etag string, dated time.Time) string {
	v := display + " " + dated.UTC().Format(time.DateOnly)
	if etag != "" {
		v += " etag " + safetext.Truncate(etag, 80)
	}
	return v
}

// fail records s's problem. Each failure is counted by the caller; it is logged only
// when it differs from the one already recorded, so a bad source is reported once per
// change, not once per poll. The problem names the source by its index in price_files,
// not by its path or URL: it becomes the component status, which the readiness
// extension's /health shows; the log line carries the path or the redacted URL.
func (r *reloader) fail(ctx context.Context, s *source, err error) {
	msg := s.name + ": " + withoutAddresses(err)
	if msg == s.err {
		return
	}
	if s.err == "" {
		s.failingSince = r.now()
	}
	s.err = msg
	kept := "the built-in prices apply"
	if s.good() {
		kept = "its previous prices are kept"
	}
	if s.isURL {
		r.logger.Warn("price source failed; "+kept, zap.String("url", s.display), zap.String("error", s.name+": "+safetext.Error(err)))
		return
	}
	r.loads.Add(ctx, 1, r.errOpt)
	r.logger.Warn("price file rejected; "+kept, zap.String("path", s.cfg.Path), zap.String("error", msg))
}

// withoutAddresses is err's text without the host names and network addresses that
// Go's network errors carry, for the component status, which /health shows: what failed
// stays (dial: connect: connection refused, dial: DNS lookup: no such host); the log
// line keeps them. It also keeps a DNS timeout, whose text names a new local port at
// every try, one state rather than a new one per fetch.
func withoutAddresses(err error) string {
	text := err.Error()
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &opErr):
		text = strings.Replace(text, opErr.Error(), opErr.Op+": "+withoutAddresses(opErr.Err), 1)
	case errors.As(err, &dnsErr):
		text = strings.Replace(text, dnsErr.Error(), "DNS lookup: "+dnsErr.Err, 1)
	case errors.As(err, &hostErr):
		text = strings.Replace(text, hostErr.Error(), "x509: the certificate is not valid for the server's host name", 1)
	}
	return safetext.Clean(text)
}

// recover clears s's problem, logging the change of state.
func (r *reloader) recover(s *source) {
	if s.err == "" {
		return
	}
	r.logger.Info("price source good again", zap.String("source", s.name), zap.String("was", s.err),
		zap.Duration("failed_for", r.now().Sub(s.failingSince).Round(time.Second)))
	s.err, s.failingSince = "", time.Time{}
}

func (r *reloader) reportStatus() {
	if r.host == nil {
		return
	}
	var bad []string
	for _, s := range r.sources {
		if s.err != "" {
			bad = append(bad, s.err)
		}
	}
	switch {
	case len(bad) > 0:
		r.degraded = true
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(errors.New(strings.Join(bad, "; "))))
	case r.degraded:
		r.degraded = false
		componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// observeAge reports the age of the price data in use: since its date for the
// built-in table, since its content's date for a genai_prices source (the file's
// modification; the URL's Last-Modified, else when that content was first fetched).
func (r *reloader) observeAge(_ context.Context, o metric.Float64Observer) error {
	r.mu.Lock()
	since := r.builtin.Date
	for _, s := range r.sources {
		if s.content.Table != nil {
			since = s.dated
			break
		}
	}
	r.mu.Unlock()
	if !since.IsZero() {
		o.Observe(r.now().Sub(since).Seconds())
	}
	return nil
}

func (r *reloader) observeFailing(_ context.Context, o metric.Float64Observer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for _, s := range r.sources {
		v := 0.0
		if s.err != "" {
			v = now.Sub(s.failingSince).Seconds()
		}
		o.Observe(v, metric.WithAttributeSet(attribute.NewSet(attribute.String("source", s.name))))
	}
	return nil
}

// Storage of the last good copy of URL sources.

type storedMeta struct {
	URL     string    `json:"url"` // redacted: to tell an entry whose URL changed
	Format  string    `json:"format"`
	ETag    string    `json:"etag,omitempty"`
	LastMod string    `json:"last_modified,omitempty"`
	Version string    `json:"pricing_version"`
	Dated   time.Time `json:"fetched"` // the content's date (source.dated); the key of the copies stored before it could be Last-Modified
}

func (r *reloader) openStorage(ctx context.Context, host component.Host) error {
	if r.storageID == nil {
		return nil
	}
	ext, ok := host.GetExtensions()[*r.storageID]
	if !ok {
		return fmt.Errorf("llm_cost storage: no extension %q in the service's extensions", r.storageID.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("llm_cost storage: extension %q is not a storage extension", r.storageID.String())
	}
	client, err := se.GetClient(ctx, component.KindProcessor, r.id, "price_sources")
	if err != nil {
		return fmt.Errorf("llm_cost storage %q: %w", r.storageID.String(), err)
	}
	r.store = client
	return nil
}

// loadStored starts s from the copy kept in storage, if any: a restart without network
// prices with it.
func (r *reloader) loadStored(ctx context.Context, s *source) {
	if r.store == nil {
		return
	}
	mb, err1 := r.store.Get(ctx, s.storeKey+"/meta")
	body, err2 := r.store.Get(ctx, s.storeKey+"/body")
	if err := errors.Join(err1, err2); err != nil {
		r.logger.Warn("reading the stored copy of a price source failed", zap.String("url", s.display), zap.String("error", safetext.Error(err)))
		return
	}
	if mb == nil || body == nil {
		return
	}
	var m storedMeta
	if err := json.Unmarshal(mb, &m); err != nil {
		r.logger.Warn("the stored copy of a price source is unusable; it will be fetched", zap.String("url", s.display), zap.String("error", safetext.Error(err)))
		return
	}
	if f := s.cfg.Format; m.URL != s.display || f != "" && f != pricing.FormatAuto && f != m.Format {
		return // stored for another URL or format: the configuration changed since
	}
	parsed, err := r.parse(body, m.Format, m.Version)
	if err != nil {
		r.logger.Warn("the stored copy of a price source is unusable; it will be fetched", zap.String("url", s.display), zap.String("error", safetext.Error(err)))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.content, s.version, s.dated = parsed, m.Version, m.Dated
	s.etag, s.lastMod, s.sum = m.ETag, m.LastMod, sha256.Sum256(body)
	r.logger.Info("price source loaded from its stored copy", zap.String("url", s.display), zap.String("pricing_version", m.Version),
		zap.Time("dated", m.Dated))
	r.rebuild()
}

// save keeps body as s's last good copy. r.mu is held.
func (r *reloader) save(ctx context.Context, s *source, body []byte) {
	if r.store == nil {
		return
	}
	mb, _ := json.Marshal(storedMeta{URL: s.display, Format: s.content.Format, ETag: s.etag, LastMod: s.lastMod, Version: s.version, Dated: s.dated})
	if err := r.store.Batch(ctx, storage.SetOperation(s.storeKey+"/body", body), storage.SetOperation(s.storeKey+"/meta", mb)); err != nil {
		r.logger.Warn("storing the copy of a price source failed; a restart without network will not have it",
			zap.String("url", s.display), zap.String("error", safetext.Error(err)))
	}
}
