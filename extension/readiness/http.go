package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/procode-ai/otelcol-procode/internal/health"
)

// bodyReadTimeout bounds how long a request body the endpoints do not use is read.
const bodyReadTimeout = 5 * time.Second

// ServeHTTP answers the three endpoints. Paths match exactly; anything else is 404, and
// a method other than GET or HEAD on a known path is 405.
func (e *readinessExtension) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, report, options)
	switch r.URL.Path {
	case e.cfg.Paths.Livez:
		serve = e.serveLivez
	case e.cfg.Paths.Health:
		serve = e.serveHealth
	case e.cfg.Paths.Ready:
		serve = e.serveReady
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	// The endpoints take no body. One within max_request_body_size is read and
	// ignored; a larger one is refused (the server limits the read). A client that
	// announces a body and then sends it slowly or never would hold this handler, and
	// the collector's shutdown that waits for it, for as long as it likes: the read
	// has a deadline whatever read_timeout says.
	if r.ContentLength > 0 && e.cfg.ServerConfig.MaxRequestBodySize > 0 && r.ContentLength > e.cfg.ServerConfig.MaxRequestBodySize {
		http.Error(w, "request body too large: these endpoints take no body", http.StatusRequestEntityTooLarge)
		return
	}
	if r.ContentLength != 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(e.bodyTimeout))
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "request body too large: these endpoints take no body", http.StatusRequestEntityTooLarge)
				return
			}
			w.Header().Set("Connection", "close")
			http.Error(w, "request body not received in time: these endpoints take no body", http.StatusRequestTimeout)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	serve(w, e.state.report(e.queues(r.Context())), parseOptions(r))
}

type options struct {
	verbose bool
	exclude map[string]bool
}

func parseOptions(r *http.Request) options {
	q := r.URL.Query()
	o := options{exclude: map[string]bool{}}
	if q.Has("verbose") {
		v := strings.ToLower(q.Get("verbose"))
		o.verbose = v != "false" && v != "0"
	}
	for _, ex := range q["exclude"] {
		for _, name := range strings.Split(ex, ",") {
			if name = strings.TrimSpace(name); name != "" {
				o.exclude[name] = true
			}
		}
	}
	return o
}

func (e *readinessExtension) serveLivez(w http.ResponseWriter, rep report, o options) {
	code := http.StatusOK
	line := "[+]process ok"
	if rep.fatal != "" {
		code = http.StatusServiceUnavailable
		line = "[-]process failed: fatal error in " + rep.fatal
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	switch {
	case o.verbose && code == http.StatusOK:
		fmt.Fprintf(w, "%s\nlivez check passed\n", line)
	case o.verbose:
		fmt.Fprintf(w, "%s\nlivez check failed\n", line)
	case code == http.StatusOK:
		fmt.Fprint(w, "ok\n")
	default:
		fmt.Fprint(w, "failed\n")
	}
}

type healthBody struct {
	Status        health.Status             `json:"status"`
	Timestamp     string                    `json:"timestamp"`
	Version       string                    `json:"version"`
	UptimeSeconds int64                     `json:"uptime_seconds"`
	Checks        map[string]map[string]any `json:"checks"`
}

func (e *readinessExtension) serveHealth(w http.ResponseWriter, rep report, o options) {
	overall := health.StatusHealthy
	if rep.fatal != "" {
		overall = health.StatusUnhealthy
	}
	body := healthBody{
		Timestamp:     rep.now.UTC().Format(time.RFC3339),
		Version:       e.version,
		UptimeSeconds: int64(rep.now.Sub(e.created) / time.Second),
		Checks:        make(map[string]map[string]any, len(rep.health)),
	}
	var included []check
	for _, c := range rep.health {
		if o.exclude[c.name] {
			continue
		}
		included = append(included, c)
		overall = health.Worse(overall, c.effect)
		entry := make(map[string]any, len(c.fields)+3)
		for k, v := range c.fields {
			entry[k] = v
		}
		entry["status"] = c.status
		entry["latency_ms"] = latencyMS(c.latency)
		entry["message"] = c.message
		body.Checks[c.name] = entry
	}
	body.Status = overall

	code := http.StatusOK
	if overall == health.StatusUnhealthy {
		code = http.StatusServiceUnavailable
	}
	if o.verbose {
		writeVerbose(w, code, "health", included, func(c check) (bool, string) {
			switch c.status {
			case health.StatusHealthy:
				return true, "ok"
			case health.StatusDegraded:
				return true, "degraded: " + c.message
			default:
				if c.effect != health.StatusUnhealthy {
					return true, "failed (non-critical): " + c.message
				}
				return false, "failed: " + c.message
			}
		}, overall == health.StatusDegraded)
		return
	}
	writeJSON(w, code, body)
}

type readyEntry struct {
	Ready   bool   `json:"ready"`
	Message string `json:"message"`
}

type readyBody struct {
	Ready     bool                  `json:"ready"`
	Timestamp string                `json:"timestamp"`
	Checks    map[string]readyEntry `json:"checks"`
}

func (*readinessExtension) serveReady(w http.ResponseWriter, rep report, o options) {
	// Shutting down and fatal errors cannot be excluded: an instance on its way out
	// must leave the load balancer whatever the caller asked to ignore.
	ready := rep.fatal == "" && rep.phase != lifecycleStopping
	body := readyBody{
		Timestamp: rep.now.UTC().Format(time.RFC3339),
		Checks:    make(map[string]readyEntry, len(rep.ready)),
	}
	var included []check
	for _, c := range rep.ready {
		if o.exclude[c.name] && c.name != checkPipelines {
			continue
		}
		included = append(included, c)
		ready = ready && c.ready
		body.Checks[c.name] = readyEntry{Ready: c.ready, Message: c.message}
	}
	body.Ready = ready
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	if o.verbose {
		writeVerbose(w, code, "ready", included, func(c check) (bool, string) {
			if c.ready {
				return true, "ok"
			}
			return false, "failed: " + c.message
		}, false)
		return
	}
	writeJSON(w, code, body)
}

// writeVerbose answers in the Kubernetes plain-text style: one "[+]name ok" or
// "[-]name failed: reason" line per check, then a summary line.
func writeVerbose(w http.ResponseWriter, code int, what string, checks []check, line func(check) (bool, string), degraded bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	var b strings.Builder
	for _, c := range checks {
		ok, text := line(c)
		mark := "[+]"
		if !ok {
			mark = "[-]"
		}
		b.WriteString(mark + c.name + " " + text + "\n")
	}
	switch {
	case code != http.StatusOK:
		b.WriteString(what + " check failed\n")
	case degraded:
		b.WriteString(what + " check passed (degraded)\n")
	default:
		b.WriteString(what + " check passed\n")
	}
	_, _ = w.Write([]byte(b.String()))
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}
