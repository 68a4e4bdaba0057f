package safetext // import "github.com/procode-ai/otelcol-procode/internal/safetext"

import "strings"

// The deny list: names of keys (attributes, headers, query and form fields, key=value
// pairs in text) whose values are secrets. It is the one list of the project: Redact
// uses it for pairs in text, and the sentry_errors exporter for every key it writes.
var (
	// secretWords are word sequences. A key is split into words (at punctuation and
	// camelCase), so "X-Api-Key", "api_key" and "apiKey" all match ["api","key"], while
	// "gen_ai.usage.input_tokens" does not match ["token"].
	secretWords = [][]string{
		{"authorization"}, {"cookie"}, {"password"}, {"passwd"}, {"pwd"}, {"secret"},
		{"token"}, {"api", "key"}, {"apikey"}, {"access", "token"}, {"refresh", "token"},
		{"private", "key"}, {"privatekey"}, {"credentials"}, {"dsn"}, {"sentry", "key"},
		{"session", "id"}, {"sessionid"}, {"x", "auth", "token"},
	}
	// secretSuffixes also deny a word (or the key's words run together) that ends in
	// them, so that keys written as one word match ("clientsecret", "accesstoken",
	// "xapikey", "dbpassword", "dbpwd", "secretkey", "sentrydsn", "proxyauthorization"),
	// and the plural and numbered forms of all but token ("secrets", "cookies",
	// "password2"): "tokens" and "max_tokens" stay, the names of token counts
	// ("secretary" stays too).
	secretSuffixes = []string{"password", "passwd", "pwd", "secret", "secretkey", "privatekey", "cookie", "apikey", "token", "dsn", "authorization"}
)

// SecretFragments are lower-case fragments that every secret key contains: text without
// any of them holds no secret key=value pair.
var SecretFragments = []string{"auth", "cookie", "pass", "pwd", "secret", "token", "key", "credential", "dsn", "session"}

// SecretKey reports whether values under key are secrets (the deny list above).
func SecretKey(key string) bool {
	var buf [24]string
	words := splitWords(key, buf[:0])
	for _, seq := range secretWords {
		if containsSeq(words, seq) {
			return true
		}
	}
	for _, w := range words {
		if secretWord(w) {
			return true
		}
	}
	// The words run together, for names whose capitals do not split them ("XApiKey").
	var joined [64]byte
	j := joined[:0]
	for _, w := range words {
		j = append(j, w...)
	}
	return secretWord(string(j))
}

func secretWord(w string) bool {
	base := strings.TrimRight(w, "0123456789")
	for _, s := range secretSuffixes {
		if strings.HasSuffix(base, s) || s != "token" && strings.HasSuffix(base, s+"s") {
			return true
		}
	}
	return false
}

func containsSeq(words, seq []string) bool {
	for i := 0; i+len(seq) <= len(words); i++ {
		ok := true
		for j, w := range seq {
			if words[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// splitWords splits key into lower-case words at non-alphanumerics and at camelCase
// boundaries ("apiKey" -> api, key).
func splitWords(key string, out []string) []string {
	start := -1
	lowerNeeded := false
	flush := func(end int) {
		if start >= 0 && end > start {
			w := key[start:end]
			if lowerNeeded {
				w = strings.ToLower(w)
			}
			out = append(out, w)
		}
		start = -1
		lowerNeeded = false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		isUpper := c >= 'A' && c <= 'Z'
		isAlnum := isUpper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !isAlnum {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		} else if isUpper && key[i-1] >= 'a' && key[i-1] <= 'z' {
			flush(i)
			start = i
		}
		if isUpper {
			lowerNeeded = true
		}
	}
	flush(len(key))
	return out
}
