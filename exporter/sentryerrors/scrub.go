package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// filtered replaces every scrubbed value, the marker Sentry's own scrubbers use.
const filtered = "[Filtered]"

// scrubRule names why a value was removed; the values are the metric's rule attribute.
type scrubRule int

const (
	ruleDenyKey scrubRule = iota
	ruleCustomKey
	ruleBearerToken
	ruleCardNumber
	ruleSecretPair
	ruleURLCredentials
	ruleCustomPattern
	ruleGenAIContent
	numRules
)

var ruleNames = [numRules]string{
	ruleDenyKey:        "deny_key",
	ruleCustomKey:      "custom_key",
	ruleBearerToken:    "bearer_token",
	ruleCardNumber:     "card_number",
	ruleSecretPair:     "secret_pair",
	ruleURLCredentials: "url_credentials",
	ruleCustomPattern:  "custom_pattern",
	ruleGenAIContent:   "genai_content",
}

// scrubCounts counts the values one mapping pass removed, by rule.
type scrubCounts [numRules]int64

// denyWords are the default deny list as word sequences. A key is split into words
// (at punctuation and camelCase), so "X-Api-Key", "api_key" and "apiKey" all match
// ["api","key"], while "gen_ai.usage.input_tokens" does not match ["token"].
var denyWords = [][]string{
	{"authorization"}, {"cookie"}, {"password"}, {"passwd"}, {"pwd"}, {"secret"},
	{"token"}, {"api", "key"}, {"apikey"}, {"access", "token"}, {"refresh", "token"},
	{"private", "key"}, {"privatekey"}, {"credentials"}, {"dsn"}, {"sentry", "key"},
	{"session", "id"}, {"sessionid"}, {"x", "auth", "token"},
}

var (
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9\-._~+/]{6,}=*`)
	cardPattern   = regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`)
	// scheme://user:password@host; the password runs to the last @ before the path
	urlCredPattern = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)([^/\s]+)(@)`)
	// scheme://token@host: a user name alone, filtered when it looks generated
	urlUserPattern = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://)([^/\s:@]+)(@)`)
)

// scrubber removes secrets from keys and values. It is safe for concurrent use.
type scrubber struct {
	extraKeys *foldSet // lower case; nil when none are configured
	patterns  []*regexp.Regexp

	// keys caches keyRule: attribute and header names repeat from span to span.
	keys     sync.Map // string -> keyVerdict
	keysSize atomic.Int32
}

type keyVerdict struct {
	rule  scrubRule
	deny  bool
	plain bool // text scrubbing leaves the key as it is
}

// maxCachedKeys bounds the key cache; names beyond it are checked every time.
const maxCachedKeys = 4096

// maxCachedKeyLen is the longest key the cache takes.
const maxCachedKeyLen = 64

func newScrubber(cfg ScrubConfig) *scrubber {
	s := &scrubber{}
	var extra []string
	for _, k := range cfg.ExtraKeys {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		s.extraKeys = newFoldSet(extra)
	}
	for _, p := range cfg.ExtraPatterns {
		s.patterns = append(s.patterns, regexp.MustCompile(p)) // validated in Config.Validate
	}
	return s
}

// keyRule reports whether values under key must be filtered, and by which rule.
func (s *scrubber) keyRule(key string) (scrubRule, bool) {
	v := s.verdict(key)
	return v.rule, v.deny
}

// verdict is what the scrubber makes of a key, cached.
func (s *scrubber) verdict(key string) keyVerdict {
	if v, ok := s.keys.Load(key); ok {
		return v.(keyVerdict)
	}
	var v keyVerdict
	v.rule, v.deny = s.checkKey(key)
	var none scrubCounts
	v.plain = s.text(key, &none) == key
	// Keys are attribute and header names, and the words before '=' in text: only
	// name-sized ones are cached, each its own copy (a cut of a long text would keep
	// all of it alive).
	if len(key) <= maxCachedKeyLen && s.keysSize.Load() < maxCachedKeys {
		if _, loaded := s.keys.LoadOrStore(strings.Clone(key), v); !loaded {
			s.keysSize.Add(1)
		}
	}
	return v
}

// keyName is a key as an event shows it: scrubbed like any text, since a name can hold
// a secret too ("note password=x"); most names are plain, which their verdict says.
func (s *scrubber) keyName(key string, v keyVerdict, c *scrubCounts) string {
	if v.plain {
		return key
	}
	return s.text(key, c)
}

func (s *scrubber) checkKey(key string) (scrubRule, bool) {
	if isDenyKey(key) {
		return ruleDenyKey, true
	}
	if s.extraKeys != nil {
		lk := strings.ToLower(key)
		for _, k := range s.extraKeys.words {
			if strings.Contains(lk, k) {
				return ruleCustomKey, true
			}
		}
	}
	return 0, false
}

// isDenyKey matches key's words against denyWords without allocating for short keys.
func isDenyKey(key string) bool {
	var buf [24]string
	words := splitWords(key, buf[:0])
	for _, dw := range denyWords {
		if containsSeq(words, dw) {
			return true
		}
	}
	for _, w := range words {
		if deniedWord(w) {
			return true
		}
	}
	// The words run together, for names whose capitals do not split them ("XApiKey").
	var joined [64]byte
	j := joined[:0]
	for _, w := range words {
		j = append(j, w...)
	}
	return deniedWord(string(j))
}

// denySuffixes also deny a word that ends in them, so that keys written as one word
// match ("clientsecret", "accesstoken", "xapikey", "dbpassword"), and the plural and
// numbered forms of all but token ("secrets", "cookies", "password2"): "tokens" and
// "token_count" stay, the names of token counts ("secretary" stays too).
var denySuffixes = []string{"password", "passwd", "secret", "cookie", "apikey", "token"}

func deniedWord(w string) bool {
	base := strings.TrimRight(w, "0123456789")
	for _, s := range denySuffixes {
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
// boundaries ("apiKey" -> api, key; "HTTPHeader" -> httpheader is fine for our list).
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

// text returns s without bearer tokens, card numbers, key=value secrets, URL
// passwords and custom pattern matches, counting each replacement in c.
func (s *scrubber) text(str string, c *scrubCounts) string {
	if str == "" {
		return str
	}
	var hasSep, hasURL, digitRun13, hasSpace bool
	run := 0 // digits in a row, spaces and dashes between them allowed (grouped card numbers)
	for i := 0; i < len(str); i++ {
		cl := byteClass[str[i]]
		switch {
		case cl == 0: // most bytes
			run = 0
		case cl&clsDigit != 0:
			run++
			if run >= 13 {
				digitRun13 = true
			}
		default:
			hasSpace = hasSpace || cl&clsSpace != 0
			if cl&clsKeepRun == 0 {
				run = 0
			}
			if cl&clsSep != 0 {
				hasSep = true
				if str[i] == ':' && i+2 < len(str) && str[i+1] == '/' && str[i+2] == '/' {
					hasURL = true
				}
			}
		}
	}
	if hasSpace && credentialSchemes.in(str) {
		str = replaceCount(bearerPattern, str, func(m []string) (string, bool) {
			// "token" is also a plain English word: filter only what looks like a credential.
			if strings.EqualFold(m[1], "token") && !looksLikeCredential(m[0][len(m[1])+len(m[2]):]) {
				return "", false
			}
			return m[1] + m[2] + filtered, true
		}, ruleBearerToken, c)
	}
	if digitRun13 {
		str = cardPattern.ReplaceAllStringFunc(str, func(m string) string {
			if !luhn(m) {
				return m
			}
			c[ruleCardNumber]++
			return filtered
		})
	}
	if hasURL && strings.IndexByte(str, '@') >= 0 {
		str = replaceCount(urlCredPattern, str, func(m []string) (string, bool) { return m[1] + filtered + m[3], true }, ruleURLCredentials, c)
		str = replaceCount(urlUserPattern, str, func(m []string) (string, bool) {
			return m[1] + filtered + m[3], looksLikeCredential(m[2])
		}, ruleURLCredentials, c)
	}
	if hasSep && (denyFragments.in(str) || (s.extraKeys != nil && s.extraKeys.in(str))) {
		str = s.pairs(str, c)
	}
	for _, p := range s.patterns {
		str = replaceCount(p, str, func([]string) (string, bool) { return filtered, true }, ruleCustomPattern, c)
	}
	return str
}

// credentialSchemes and denyFragments are cheap pre-checks: the regular expressions run
// only on text that contains one of them.
var (
	credentialSchemes = newFoldSet([]string{"bearer", "basic", "token"})
	denyFragments     = newFoldSet([]string{"auth", "cookie", "pass", "pwd", "secret", "token", "key", "credential", "dsn", "session"})
)

// The byte classes of text's pre-scan; 0 for every byte it passes over.
const (
	clsDigit   = 1 << iota
	clsSpace   // ' ', '\t', '\n'
	clsKeepRun // ' ' and '-' do not end a run of digits
	clsSep     // '=' and ':'
)

var byteClass = func() (t [256]uint8) {
	for b := '0'; b <= '9'; b++ {
		t[b] = clsDigit
	}
	t[' '] = clsSpace | clsKeepRun
	t['\t'], t['\n'] = clsSpace, clsSpace
	t['-'] = clsKeepRun
	t['='], t[':'] = clsSep, clsSep
	return t
}()

// foldSet is a list of lower-case ASCII words to look for in text, ignoring case.
type foldSet struct {
	first [256]bool // the words' first bytes, both cases
	words []string
}

func newFoldSet(words []string) *foldSet {
	f := &foldSet{words: words}
	for _, w := range words {
		f.first[w[0]] = true
		if w[0] >= 'a' && w[0] <= 'z' {
			f.first[w[0]-'a'+'A'] = true
		}
	}
	return f
}

// in reports whether s contains any of the words, ignoring case.
func (f *foldSet) in(s string) bool {
	words := f.words
	for i := 0; i < len(s); i++ {
		if !f.first[s[i]] {
			continue
		}
		c := lowerByte(s[i])
		for _, w := range words {
			if c != w[0] || len(s)-i < len(w) {
				continue
			}
			j := 1
			for ; j < len(w); j++ {
				if lowerByte(s[i+j]) != w[j] {
					break
				}
			}
			if j == len(w) {
				return true
			}
		}
	}
	return false
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// pairs filters the value of every key=value, key: value or "key": "value" pair whose
// key is denied. A hand-written scanner: this runs on most texts, and a regular
// expression with submatches costs several times more.
func (s *scrubber) pairs(str string, c *scrubCounts) string {
	var b []byte // nil until the first replacement
	last := 0
	for i := 0; i < len(str); i++ {
		if str[i] != '=' && str[i] != ':' {
			continue
		}
		// The key: the word right before the separator, maybe quoted, maybe spaced.
		k := i
		for k > 0 && (str[k-1] == ' ' || str[k-1] == '\t') {
			k--
		}
		if k > 0 && (str[k-1] == '"' || str[k-1] == '\'') {
			k--
			if k > 0 && str[k-1] == '\\' { // JSON inside a string: {\"password\":\"x\"}
				k--
			}
		}
		keyEnd := k
		for k > 0 && isKeyByte(str[k-1]) {
			k--
		}
		if k == keyEnd {
			continue
		}
		if _, deny := s.keyRule(str[k:keyEnd]); !deny {
			continue
		}
		// The value: after the separator and spaces, quoted or up to a delimiter.
		v := i + 1
		for v < len(str) && (str[v] == ' ' || str[v] == '\t') {
			v++
		}
		if v >= len(str) {
			continue
		}
		var valStart, valEnd int
		escaped := str[v] == '\\' && v+1 < len(str) && str[v+1] == '"'
		if escaped {
			v++
		}
		switch key := str[k:keyEnd]; {
		case str[v] == '"' || str[v] == '\'':
			end := closingQuote(str[v+1:], str[v], escaped)
			if end < 0 {
				continue
			}
			valStart, valEnd = v+1, v+1+end // the quotes stay
		case strings.EqualFold(key, "cookie") || strings.EqualFold(key, "set-cookie"):
			// A cookie header holds several pairs: all of them, to the end of the line.
			valStart, valEnd = v, len(str)
			if nl := strings.IndexByte(str[v:], '\n'); nl >= 0 {
				valEnd = v + nl
			}
		default:
			valStart = v
			valEnd = v
			for valEnd < len(str) && !isValueEnd(str[valEnd]) {
				valEnd++
			}
		}
		if escaped && valEnd > valStart && str[valEnd-1] == '\\' {
			valEnd-- // the backslash of the closing \" stays
		}
		val := str[valStart:valEnd]
		if val == "" || val == filtered || strings.EqualFold(val, "bearer") || strings.EqualFold(val, "basic") {
			continue // empty, already filtered, or the scheme of a credential the bearer rule filtered
		}
		if b == nil {
			b = make([]byte, 0, len(str))
		}
		b = append(b, str[last:valStart]...)
		b = append(b, filtered...)
		last = valEnd
		i = valEnd
		c[ruleSecretPair]++
	}
	if b == nil {
		return str
	}
	b = append(b, str[last:]...)
	return string(b)
}

// closingQuote is the index in s of the quote q that closes a quoted value: one not
// escaped by a backslash, or, for a value inside a JSON string (escaped), the quote of
// the next \" that is not itself escaped (\\\").
func closingQuote(s string, q byte, escaped bool) int {
	for i := 0; i < len(s); i++ {
		if s[i] != q {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			bs++
		}
		if escaped && bs%4 == 1 || !escaped && bs%2 == 0 {
			return i
		}
	}
	return -1
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', '&', ')', '}', ']', '"', '\'':
		return true
	}
	return false
}

func replaceCount(re *regexp.Regexp, str string, repl func([]string) (string, bool), rule scrubRule, c *scrubCounts) string {
	locs := re.FindAllStringSubmatchIndex(str, -1)
	if locs == nil {
		return str
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		groups := make([]string, len(l)/2)
		for g := range groups {
			if l[2*g] >= 0 {
				groups[g] = str[l[2*g]:l[2*g+1]]
			}
		}
		if groups[0] == filtered {
			continue
		}
		r, ok := repl(groups)
		if !ok {
			continue
		}
		b.WriteString(str[last:l[0]])
		b.WriteString(r)
		last = l[1]
		c[rule]++
	}
	if last == 0 && b.Len() == 0 {
		return str
	}
	b.WriteString(str[last:])
	return b.String()
}

// luhn reports whether the digits of s pass the Luhn checksum of card numbers.
func luhn(s string) bool {
	sum, n := 0, 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		ch := s[i]
		if ch < '0' || ch > '9' {
			continue
		}
		d := int(ch - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
		n++
	}
	return n >= 13 && n <= 19 && sum%10 == 0
}

// genAIContentKeys are attributes that carry prompts, completions, tool arguments and
// results (OTel GenAI conventions, their deprecated forms, OpenLLMetry, OpenInference,
// Vercel AI SDK). They are left out unless include_genai_content is set.
var genAIContentKeys = map[string]struct{}{
	"gen_ai.input.messages":      {},
	"gen_ai.output.messages":     {},
	"gen_ai.system_instructions": {},
	"gen_ai.prompt":              {},
	"gen_ai.completion":          {},
	"gen_ai.tool.call.arguments": {},
	"gen_ai.tool.call.result":    {},
	"gen_ai.tool.definitions":    {},
	"gen_ai.request.messages":    {},
	"gen_ai.response.messages":   {},
	"llm.prompts":                {},
	"llm.completions":            {},
	"input.value":                {},
	"output.value":               {},
	"ai.prompt":                  {},
	"ai.prompt.messages":         {},
	"ai.response.text":           {},
	"ai.response.object":         {},
	"ai.response.toolCalls":      {},
	"traceloop.entity.input":     {},
	"traceloop.entity.output":    {},
}

var genAIContentPrefixes = []string{
	"gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages", "llm.output_messages",
	"llm.prompts.", "llm.completions.", "ai.prompt.",
}

// genAIContentEvents are span event / log event names whose body and attributes are
// message content.
var genAIContentEvents = map[string]struct{}{
	"gen_ai.user.message":                       {},
	"gen_ai.system.message":                     {},
	"gen_ai.assistant.message":                  {},
	"gen_ai.tool.message":                       {},
	"gen_ai.choice":                             {},
	"gen_ai.content.prompt":                     {},
	"gen_ai.content.completion":                 {},
	"gen_ai.client.inference.operation.details": {},
}

func isGenAIContentKey(k string) bool {
	if _, ok := genAIContentKeys[k]; ok {
		return true
	}
	if !strings.HasPrefix(k, "gen_ai.") && !strings.HasPrefix(k, "llm.") && !strings.HasPrefix(k, "ai.") {
		return false
	}
	for _, p := range genAIContentPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string { return safetext.Truncate(s, n) }

// tagValue makes s a valid Sentry tag value: one line, at most 200 characters.
func tagValue(s string) string {
	if strings.ContainsAny(s, "\n\r\t") {
		s = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return ' '
			}
			return r
		}, s)
	}
	return truncate(strings.TrimSpace(s), 200)
}

// looksLikeCredential reports whether v has the digits or length of a generated secret.
func looksLikeCredential(v string) bool {
	if len(v) >= 20 {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] >= '0' && v[i] <= '9' {
			return len(v) >= 8
		}
	}
	return false
}
