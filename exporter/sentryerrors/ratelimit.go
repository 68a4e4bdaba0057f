package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// defaultRetryAfter is how long a 429 without Retry-After or X-Sentry-Rate-Limits holds
// error events (Sentry's SDKs use the same).
const defaultRetryAfter = 60 * time.Second

// holds remembers until when Sentry rate-limits the error category of one DSN. Error
// events are all this exporter sends, so only that category (or all) matters.
type holds struct {
	mu    sync.Mutex
	until time.Time
}

func (h *holds) heldFor(now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Before(h.until) {
		return h.until.Sub(now)
	}
	return 0
}

func (h *holds) hold(until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if until.After(h.until) {
		h.until = until
	}
}

// errorCategoryLimit returns how long X-Sentry-Rate-Limits holds the error category:
// "retry_after:categories:scope[:reason_code[:namespaces]]", quotas separated by commas,
// categories by semicolons; no categories means every category.
func errorCategoryLimit(header string) (time.Duration, bool) {
	var longest time.Duration
	found := false
	for _, quota := range strings.Split(header, ",") {
		parts := strings.Split(strings.TrimSpace(quota), ":")
		if len(parts) < 2 {
			continue
		}
		secs, err := strconv.ParseFloat(parts[0], 64)
		if err != nil || secs < 0 {
			continue
		}
		applies := parts[1] == ""
		for _, c := range strings.Split(parts[1], ";") {
			if c == "error" || c == "default" {
				applies = true
			}
		}
		if !applies {
			continue
		}
		found = true
		if d := time.Duration(secs * float64(time.Second)); d > longest {
			longest = d
		}
	}
	return longest, found
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(header string, now time.Time) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(header, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(header); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// throttleDelay is how long a 429 response holds error events.
func throttleDelay(h http.Header, now time.Time) time.Duration {
	if d, ok := errorCategoryLimit(h.Get("X-Sentry-Rate-Limits")); ok {
		return d
	}
	if d, ok := retryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	return defaultRetryAfter
}
