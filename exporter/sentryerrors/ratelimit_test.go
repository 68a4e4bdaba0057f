package sentryerrors

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
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

func TestFingerprintLimiter(t *testing.T) {
	l := newFingerprintLimiter(FingerprintLimitConfig{MaxEvents: 2, Window: time.Minute})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.True(t, l.allow("x", t0))
	assert.True(t, l.allow("x", t0.Add(time.Second)))
	assert.False(t, l.allow("x", t0.Add(2*time.Second)), "the third in one window")
	assert.True(t, l.allow("y", t0.Add(2*time.Second)), "another group has its own count")
	assert.True(t, l.allow("x", t0.Add(time.Minute)), "a new window")

	// A storm of new groups neither grows the limiter past maxGroups nor resets the
	// group it is holding back (clearing every group once let 50 events of a group
	// limited to 10 through).
	now := t0.Add(time.Minute + time.Second)
	assert.True(t, l.allow("x", now))
	assert.False(t, l.allow("x", now))
	for i := 0; i < 3*maxGroups; i++ {
		require.True(t, l.allow(fmt.Sprintf("junk-%d", i), now))
		if i%1000 == 0 {
			require.False(t, l.allow("x", now), "after %d new groups", i)
		}
	}
	assert.False(t, l.allow("x", now))
	assert.LessOrEqual(t, len(l.groups), maxGroups)
	assert.Len(t, l.order, maxGroups)
	assert.Nil(t, newFingerprintLimiter(FingerprintLimitConfig{}), "no limit configured")
}

// TestFingerprintLimitThroughTheExporter: the second event of a group past its limit is
// not sent and is counted as fingerprint_limit.
func TestFingerprintLimitThroughTheExporter(t *testing.T) {
	srv := harness.NewSentryServer(t)
	te := startTraces(t, srv.DSN(), func(c *Config) { c.FingerprintLimit = FingerprintLimitConfig{MaxEvents: 1, Window: time.Hour} })
	for i := 0; i < 3; i++ {
		td := toolErrorTrace(t)
		// another span id each time: another event of the same group
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(4).SetSpanID([8]byte{9, 9, 9, 9, 9, 9, 9, byte(i)})
		require.NoError(t, te.traces.ConsumeTraces(context.Background(), td))
	}
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_dropped", "reason", "fingerprint_limit") == 2 },
		"fingerprint_limit drops not counted")
	eventually(t, 5*time.Second, func() bool { return te.counter(t, "events_sent", "", "") == 1 }, "the first event is not sent")
	assert.Len(t, srv.Attempts(), 1)
}
