package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// SentryServer is a Sentry ingest endpoint for tests. It takes OTLP traces and logs on
// Sentry's OTLP paths (see serveOTLP), and speaks the envelope protocol:
// POST /api/<project>/envelope/ with an X-Sentry-Auth header naming the project's
// sentry_key, a body of an envelope header line and items, each an item header line
// (type, length) and a payload of exactly that length. It decodes every event item's
// JSON, records what it received, and answers 200, or what a test queued with Respond.
// A request that breaks the protocol is answered 400 and recorded in Violations.
type SentryServer struct {
	ProjectID string
	PublicKey string

	t   testing.TB
	srv *http.Server
	ln  net.Listener

	mu         sync.Mutex
	responses  []SentryResponse
	attempts   []SentryAttempt
	otlp       []SentryOTLP
	violations []string
	done       chan struct{}
}

// SentryOTLP is one OTLP export Sentry's OTLP ingestion received (traces or logs).
type SentryOTLP struct {
	Path     string
	Auth     string // the x-sentry-auth header
	TraceIDs []string
	Spans    int
	Logs     int
}

// SentryResponse is an answer queued with Respond.
type SentryResponse struct {
	Status     int
	RetryAfter string // Retry-After header
	RateLimits string // X-Sentry-Rate-Limits header
	Error      string // X-Sentry-Error header
}

// SentryAttempt is one valid envelope the server received and how it answered.
type SentryAttempt struct {
	Time     time.Time
	Status   int
	Auth     map[string]string
	Header   map[string]any // the envelope header
	Items    []SentryItem
	Received time.Time
}

// SentryItem is one item of an envelope.
type SentryItem struct {
	Type    string
	Header  map[string]any
	Payload []byte
	Event   map[string]any // the decoded JSON of an "event" item
}

// NewSentryServer starts a server on 127.0.0.1 for project "42" with a fixed public key;
// it stops at the end of the test.
func NewSentryServer(t testing.TB) *SentryServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sentry test server: %v", err)
	}
	s := &SentryServer{ProjectID: "42", PublicKey: "0123456789abcdef0123456789abcdef", t: t, ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *SentryServer) Close() {
	_ = s.srv.Close()
	<-s.done
}

// DSN is the DSN that points at this server.
func (s *SentryServer) DSN() string {
	return fmt.Sprintf("http://%s@%s/%s", s.PublicKey, s.ln.Addr(), s.ProjectID)
}

// Respond queues answers for the next requests, in order; afterwards the server answers 200.
func (s *SentryServer) Respond(rs ...SentryResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responses = append(s.responses, rs...)
}

// Attempts returns every valid envelope received, accepted or not.
func (s *SentryServer) Attempts() []SentryAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentryAttempt(nil), s.attempts...)
}

// Events returns the event JSON of every envelope answered 2xx, in arrival order.
func (s *SentryServer) Events() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, a := range s.attempts {
		if a.Status < 200 || a.Status > 299 {
			continue
		}
		for _, it := range a.Items {
			if it.Event != nil {
				out = append(out, it.Event)
			}
		}
	}
	return out
}

// Violations lists the protocol errors of requests the server rejected with 400.
func (s *SentryServer) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// WaitEvents waits until at least n events were accepted and returns them all.
func (s *SentryServer) WaitEvents(t testing.TB, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := s.Events()
		if len(evs) >= n {
			return evs
		}
		if v := s.Violations(); len(v) > 0 {
			t.Fatalf("sentry test server: protocol violations: %v", v)
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentry test server: %d event(s) accepted within %s, want %d (attempts: %d)", len(evs), timeout, n, len(s.Attempts()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var envelopePath = regexp.MustCompile(`^/api/([^/]+)/envelope/$`)

// otlpPath is Sentry's OTLP ingestion for a project.
var otlpPath = regexp.MustCompile(`^/api/([^/]+)/integration/otlp/v1/(traces|logs)$`)

// OTLP returns every OTLP export received.
func (s *SentryServer) OTLP() []SentryOTLP {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentryOTLP(nil), s.otlp...)
}

// serveOTLP takes an OTLP/HTTP protobuf export (gzip or not) on Sentry's OTLP path,
// after checking the project and its x-sentry-auth header ("sentry sentry_key=KEY").
func (s *SentryServer) serveOTLP(w http.ResponseWriter, r *http.Request, m []string) {
	fail := func(msg string) {
		s.mu.Lock()
		s.violations = append(s.violations, msg)
		s.mu.Unlock()
		http.Error(w, msg, http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || m[1] != s.ProjectID {
		fail(fmt.Sprintf("OTLP %s %s: want POST to project %s", r.Method, r.URL.Path, s.ProjectID))
		return
	}
	auth := r.Header.Get("x-sentry-auth")
	if auth != "sentry sentry_key="+s.PublicKey {
		fail(fmt.Sprintf("OTLP x-sentry-auth %q does not name the project key", auth))
		return
	}
	var body io.Reader = io.LimitReader(r.Body, 20<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			fail("OTLP gzip body: " + err.Error())
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		fail(fmt.Sprintf("OTLP body: want protobuf (content type %q)", r.Header.Get("Content-Type")))
		return
	}
	rec := SentryOTLP{Path: r.URL.Path, Auth: auth}
	if m[2] == "traces" {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(raw); err != nil {
			fail("OTLP traces: " + err.Error())
			return
		}
		for _, rs := range req.Traces().ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					rec.Spans++
					rec.TraceIDs = append(rec.TraceIDs, sp.TraceID().String())
				}
			}
		}
		out, _ := ptraceotlp.NewExportResponse().MarshalProto()
		s.recordOTLP(rec)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
		return
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(raw); err != nil {
		fail("OTLP logs: " + err.Error())
		return
	}
	rec.Logs = req.Logs().LogRecordCount()
	out, _ := plogotlp.NewExportResponse().MarshalProto()
	s.recordOTLP(rec)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (s *SentryServer) recordOTLP(rec SentryOTLP) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.otlp = append(s.otlp, rec)
}

func (s *SentryServer) serve(w http.ResponseWriter, r *http.Request) {
	if m := otlpPath.FindStringSubmatch(r.URL.Path); m != nil {
		s.serveOTLP(w, r, m)
		return
	}
	a, err := s.decode(r)
	if err != nil {
		s.mu.Lock()
		s.violations = append(s.violations, err.Error())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": err.Error()})
		return
	}
	s.mu.Lock()
	resp := SentryResponse{Status: http.StatusOK}
	if len(s.responses) > 0 {
		resp = s.responses[0]
		s.responses = s.responses[1:]
	}
	a.Status = resp.Status
	a.Received = time.Now()
	s.attempts = append(s.attempts, a)
	s.mu.Unlock()

	if resp.RetryAfter != "" {
		w.Header().Set("Retry-After", resp.RetryAfter)
	}
	if resp.RateLimits != "" {
		w.Header().Set("X-Sentry-Rate-Limits", resp.RateLimits)
	}
	if resp.Error != "" {
		w.Header().Set("X-Sentry-Error", resp.Error)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.Status)
	if resp.Status >= 200 && resp.Status < 300 {
		id, _ := a.Header["event_id"].(string)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	} else {
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": http.StatusText(resp.Status)})
	}
}

// eventIDPattern is an event id as Relay takes it: 32 lower-case hex digits, or a UUID
// with hyphens (as Sentry's Rust SDK types write it).
var eventIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)

// normalEventID is id without hyphens.
func normalEventID(id string) string { return strings.ReplaceAll(id, "-", "") }

// decode validates a request against the envelope protocol.
func (s *SentryServer) decode(r *http.Request) (SentryAttempt, error) {
	var a SentryAttempt
	if r.Method != http.MethodPost {
		return a, fmt.Errorf("method %s, want POST", r.Method)
	}
	m := envelopePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return a, fmt.Errorf("path %q is not /api/<project>/envelope/", r.URL.Path)
	}
	if m[1] != s.ProjectID {
		return a, fmt.Errorf("project %q, want %q", m[1], s.ProjectID)
	}
	auth, err := parseSentryAuth(r.Header.Get("X-Sentry-Auth"))
	if err != nil {
		return a, err
	}
	if auth["sentry_key"] != s.PublicKey {
		return a, fmt.Errorf("X-Sentry-Auth sentry_key %q does not match the project key", auth["sentry_key"])
	}
	if auth["sentry_version"] != "7" {
		return a, fmt.Errorf("X-Sentry-Auth sentry_version %q, want 7", auth["sentry_version"])
	}
	a.Auth = auth
	var body io.Reader = io.LimitReader(r.Body, 20<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return a, fmt.Errorf("gzip body: %w", err)
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return a, fmt.Errorf("read body: %w", err)
	}
	a.Header, a.Items, err = ParseEnvelope(raw)
	if err != nil {
		return a, err
	}
	return a, nil
}

func parseSentryAuth(h string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(h, "Sentry ")
	if !ok {
		return nil, fmt.Errorf("X-Sentry-Auth %q does not start with \"Sentry \"", h)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("X-Sentry-Auth: %q is not key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

// ParseEnvelope decodes a Sentry envelope: a JSON header line, then items of a JSON
// header line (with type and length) and a payload of length bytes followed by a newline.
// Event items must be JSON objects whose event_id matches the envelope header's.
func ParseEnvelope(raw []byte) (map[string]any, []SentryItem, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	line, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	var header map[string]any
	if err := json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &header); err != nil {
		return nil, nil, fmt.Errorf("envelope header is not a JSON object: %w", err)
	}
	id, _ := header["event_id"].(string)
	if id != "" && !eventIDPattern.MatchString(id) {
		return nil, nil, fmt.Errorf("envelope event_id %q is not 32 lower-case hex digits", id)
	}
	if id != "" {
		id = normalEventID(id)
		header["event_id"] = id
	}
	if sa, ok := header["sent_at"].(string); ok {
		if _, err := time.Parse(time.RFC3339Nano, sa); err != nil {
			return nil, nil, fmt.Errorf("envelope sent_at %q is not RFC 3339", sa)
		}
	}
	var items []SentryItem
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, err
		}
		var ih map[string]any
		if err := json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &ih); err != nil {
			return nil, nil, fmt.Errorf("item %d header is not a JSON object: %w", len(items), err)
		}
		typ, _ := ih["type"].(string)
		if typ == "" {
			return nil, nil, fmt.Errorf("item %d header has no type", len(items))
		}
		lf, ok := ih["length"].(float64)
		if !ok || lf < 0 || lf != float64(int(lf)) {
			return nil, nil, fmt.Errorf("item %d (%s) header has no valid length", len(items), typ)
		}
		payload := make([]byte, int(lf))
		if _, err := io.ReadFull(br, payload); err != nil {
			return nil, nil, fmt.Errorf("item %d (%s): payload shorter than length %d", len(items), typ, int(lf))
		}
		if b, err := br.ReadByte(); err == nil && b != '\n' {
			return nil, nil, fmt.Errorf("item %d (%s): payload longer than length %d", len(items), typ, int(lf))
		}
		it := SentryItem{Type: typ, Header: ih, Payload: payload}
		if typ == "event" {
			if err := json.Unmarshal(payload, &it.Event); err != nil {
				return nil, nil, fmt.Errorf("event item is not a JSON object: %w", err)
			}
			eid, _ := it.Event["event_id"].(string)
			if !eventIDPattern.MatchString(eid) {
				return nil, nil, fmt.Errorf("event event_id %q is not 32 lower-case hex digits", eid)
			}
			eid = normalEventID(eid)
			it.Event["event_id"] = eid
			if id != "" && eid != id {
				return nil, nil, fmt.Errorf("event event_id %s differs from the envelope header's %s", eid, id)
			}
		}
		items = append(items, it)
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if len(items) == 0 {
		return nil, nil, errors.New("envelope has no items")
	}
	return header, items, nil
}

// SentryRetryAfter formats seconds for SentryResponse.RetryAfter.
func SentryRetryAfter(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// SentryValues returns the list of an event's exception, threads or breadcrumbs, written
// as {"values": [...]} (or, as Relay also takes it, as a bare list); nil when absent.
func SentryValues(ev map[string]any, key string) []any {
	switch v := ev[key].(type) {
	case []any:
		return v
	case map[string]any:
		list, _ := v["values"].([]any)
		return list
	}
	return nil
}
