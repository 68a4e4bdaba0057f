// Package safetext turns error text from libraries into text that is safe to put in an
// HTTP body, a log line or a metric: URL credentials and query strings, bearer tokens
// and key=value secrets are removed, and the result is bounded in length.
package safetext // import "github.com/procode-ai/otelcol-procode/internal/safetext"

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest text Clean returns, in bytes.
const MaxLen = 256

var (
	// scheme://user:pass@host -> scheme://host ; the query and fragment of any URL are dropped.
	urlPattern = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)([^/\s"'@]*@)?([^\s"'?#]*)(\?[^\s"'#]*)?(#[^\s"']*)?`)
	// Authorization-style credentials: "Bearer abc", "Basic abc".
	authPattern = regexp.MustCompile(`(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}`)
	// key=value or key: value pairs whose key may name a secret (SecretKey decides).
	kvPattern = regexp.MustCompile(`(?i)\b([a-z0-9_.-]*(?:` + strings.Join(SecretFragments, "|") + `)[a-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)`)
)

// Filtered replaces every secret value that Clean removes.
const Filtered = "[Filtered]"

// Clean returns s without credentials, secrets or URL query strings, with runs of white
// space folded to one space, cut to MaxLen bytes on a rune boundary.
func Clean(s string) string {
	if s == "" {
		return s
	}
	s = strings.Join(strings.Fields(Redact(s)), " ")
	return Truncate(s, MaxLen)
}

// Redact removes what Clean removes (URL credentials and query strings, bearer tokens,
// key=value secrets) and leaves the rest of s as it is, whatever its length: for text
// that keeps its layout, such as a log line.
func Redact(s string) string {
	if s == "" || !strings.ContainsAny(s, ":=") && !containsFold(s, "bearer", "basic", "token") {
		return s // no URL, pair or credential can be in it
	}
	s = urlPattern.ReplaceAllStringFunc(s, func(u string) string {
		m := urlPattern.FindStringSubmatch(u)
		return m[1] + m[3]
	})
	s = authPattern.ReplaceAllString(s, "$1 "+Filtered)
	return kvPattern.ReplaceAllStringFunc(s, func(pair string) string {
		m := kvPattern.FindStringSubmatch(pair)
		if !SecretKey(m[1]) {
			return pair
		}
		return m[1] + m[2] + Filtered
	})
}

func containsFold(s string, words ...string) bool {
	lower := strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Error is Clean applied to err.Error(); a nil error gives "".
func Error(err error) string {
	if err == nil {
		return ""
	}
	return Clean(err.Error())
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
