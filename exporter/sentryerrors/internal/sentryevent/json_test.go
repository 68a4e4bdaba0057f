package sentryevent

import (
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTimeFormat: event and breadcrumb timestamps are written as time.RFC3339Nano
// writes them, for UTC times and others, whole seconds and every fraction length.
func TestTimeFormat(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	zone := time.FixedZone("X", 5*3600+1800)
	times := []time.Time{time.Unix(0, 0).UTC(), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 1, 12, 0, 0, 5, zone), time.Date(2026, 6, 1, 12, 0, 0, 5, time.Local)}
	for i := 0; i < 2000; i++ {
		ts := time.Unix(rng.Int63n(1<<34), rng.Int63n(1e9)).UTC()
		switch i % 4 {
		case 0:
			ts = ts.Truncate(time.Second)
		case 1:
			ts = ts.Truncate(time.Millisecond)
		}
		times = append(times, ts)
	}
	for _, ts := range times {
		require.Equal(t, ts.Format(time.RFC3339Nano), string(appendRFC3339Nano([]byte("x"), ts)[1:]), "%v", ts)
	}
}
