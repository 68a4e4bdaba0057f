package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// defaultRetryAfter is how long a 429 without Retry-After or X-Sentry-Rate-Limits holds
// error events (Sentry's SDKs use the same).
const defaultRetryAfter = 60 * time.Second

// maxHold caps a hold. Sentry's longest limits (an exhausted quota) end within a day or
// are announced again on the next attempt; a larger figure is a broken header, and
// seconds beyond time.Duration's range would overflow into a negative hold that
// retries at once.
const maxHold = 24 * time.Hour

// holdSeconds reads a number of seconds as a hold within [0, maxHold].
func holdSeconds(s string) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(secs) || secs < 0 {
		return 0, false
	}
	if secs >= maxHold.Seconds() {
		return maxHold, true
	}
	return time.Duration(secs * float64(time.Second)), true
}

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
		d, ok := holdSeconds(parts[0])
		if !ok {
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
		longest = max(longest, d)
	}
	return longest, found
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(header string, now time.Time) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	if d, ok := holdSeconds(header); ok {
		return d, true
	}
	if t, err := http.ParseTime(header); err == nil {
		return min(max(t.Sub(now), 0), maxHold), true
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
