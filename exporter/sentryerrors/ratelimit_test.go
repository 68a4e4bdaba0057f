package sentryerrors

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestThrottleDelay(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, retryAfter, limits string
		want                     time.Duration
	}{
		{"retry-after seconds", "7", "", 7 * time.Second},
		{"retry-after fraction", "0.25", "", 250 * time.Millisecond},
		{"retry-after date", now.Add(90 * time.Second).Format(http.TimeFormat), "", 90 * time.Second},
		{"retry-after date in the past", now.Add(-time.Hour).Format(http.TimeFormat), "", 0},
		{"rate limits win over retry-after", "30", "2:error:key", 2 * time.Second},
		{"longest quota of the error category", "", "5:error:key, 9:default;error:organization, 60:transaction:organization", 9 * time.Second},
		{"no category means all", "", "4::organization:quota_exceeded", 4 * time.Second},
		{"other categories only: retry-after applies", "3", "60:transaction;attachment:organization", 3 * time.Second},
		{"nothing usable: Sentry's default", "soon", "x:y", defaultRetryAfter},
		// Found by FuzzThrottleDelay: these overflowed time.Duration into a negative hold.
		{"huge retry-after is capped", "1e300", "", maxHold},
		{"infinite retry-after is capped", "+Inf", "", maxHold},
		{"NaN is no number of seconds", "NaN", "", defaultRetryAfter},
		{"huge quota is capped", "", "9e18:error:key", maxHold},
		{"NaN quota is skipped", "6", "NaN:error:key", 6 * time.Second},
		{"far-future date is capped", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat), "", maxHold},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			if tt.limits != "" {
				h.Set("X-Sentry-Rate-Limits", tt.limits)
			}
			assert.Equal(t, tt.want, throttleDelay(h, now))
		})
	}
}

// FuzzThrottleDelay: whatever Sentry (or a proxy in front of it) puts in Retry-After
// and X-Sentry-Rate-Limits, the hold is between 0 and maxHold, and parsing never panics.
func FuzzThrottleDelay(f *testing.F) {
	f.Add("60", "", int64(0))
	f.Add("", "60:error;default:key, 600:transaction:organization", int64(0))
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", "", int64(1445412000))
	f.Add("1e300", "9e18:error:organization:quota_exceeded:ns1;ns2", int64(-1))
	f.Add("NaN", "Inf::", int64(1<<62))
	f.Add("0x1p40", ",,::;;,:", int64(0))
	f.Fuzz(func(t *testing.T, retry, limits string, nowSec int64) {
		now := time.Unix(nowSec%(1<<34), 0)
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("X-Sentry-Rate-Limits", limits)
		if d := throttleDelay(h, now); d < 0 || d > maxHold {
			t.Fatalf("throttleDelay = %v, want within [0, %v]", d, maxHold)
		}
		if d, ok := errorCategoryLimit(limits); d < 0 || d > maxHold || (!ok && d != 0) {
			t.Fatalf("errorCategoryLimit = %v, %v", d, ok)
		}
		if d, ok := retryAfter(retry, now); d < 0 || d > maxHold || (!ok && d != 0) {
			t.Fatalf("retryAfter = %v, %v", d, ok)
		}
	})
}
