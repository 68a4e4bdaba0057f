// Package redirect decides which HTTP redirects may carry a request's credentials.
package redirect // import "github.com/procode-ai/otelcol-procode/internal/redirect"

import "net/http"

// MaxHops is how many redirects a client follows at most, as Go's default does.
const MaxHops = 10

// SameHost reports whether req, a redirect of the requests in via, stays on the host of
// the first request and does not go from https to http. Headers a client sets itself
// (an API key, X-Sentry-Auth) go along with every redirect Go follows (it strips only
// its own sensitive headers on a redirect to another host), so a client that sets them
// follows only such redirects.
func SameHost(req *http.Request, via []*http.Request) bool {
	first := via[0].URL
	return req.URL.Host == first.Host && !(first.Scheme == "https" && req.URL.Scheme != "https")
}
