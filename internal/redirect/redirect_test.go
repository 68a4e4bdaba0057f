package redirect

import (
	"net/http"
	"testing"
)

func TestSameHost(t *testing.T) {
	req := func(u string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"https://sentry.io/api/1/envelope/", "https://sentry.io/api/1/envelope/v2/", true},
		{"http://sentry.internal:9000/x", "https://sentry.internal:9000/x", true},
		{"https://sentry.io/x", "http://sentry.io/x", false},
		{"https://sentry.io/x", "https://evil.example/x", false},
		{"https://sentry.io:443/x", "https://sentry.io:8443/x", false},
	} {
		if got := SameHost(req(tc.to), []*http.Request{req(tc.from)}); got != tc.ok {
			t.Errorf("%s -> %s: %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
}
