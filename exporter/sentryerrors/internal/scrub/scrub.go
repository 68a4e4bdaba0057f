// Package scrub removes secrets from the keys and texts of an error event before it
// leaves the collector, and counts each removal by rule.
package scrub // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// Filtered replaces every scrubbed value, the marker Sentry's own scrubbers use.
const Filtered = "[Filtered]"

// Rule names why a value was removed; the values are the metric's rule attribute.
type Rule int

const (
	RuleDenyKey Rule = iota
	RuleCustomKey
	RuleBearerToken
	RuleCardNumber
	RuleSecretPair
	RuleURLCredentials
	RuleCustomPattern
	RuleGenAIContent
	NumRules
)

var RuleNames = [NumRules]string{
	RuleDenyKey:        "deny_key",
	RuleCustomKey:      "custom_key",
	RuleBearerToken:    "bearer_token",
	RuleCardNumber:     "card_number",
	RuleSecretPair:     "secret_pair",
	RuleURLCredentials: "url_credentials",
	RuleCustomPattern:  "custom_pattern",
	RuleGenAIContent:   "genai_content",
}

// Counts counts the values one mapping pass removed, by rule.
type Counts [NumRules]int64

var (
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9\-._~+/]{6,}=*`)
	cardPattern   = regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`)
	// scheme://user:password@host; the password runs to the last @ before the path
	urlCredPattern = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)([^/\s]+)(@)`)
	// scheme://token@host: a user name alone, Filtered when it looks generated
	urlUserPattern = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://)([^/\s:@]+)(@)`)
)

// Scrubber removes secrets from keys and values. It is safe for concurrent use.
type Scrubber struct {
	extraKeys *foldSet // lower case; nil when none are configured
	patterns  []*regexp.Regexp

	// keys caches Verdict: attribute and header names repeat from span to span.
	keys     sync.Map // string -> Verdict
	keysSize atomic.Int32
}

// Verdict is what the scrubber makes of a key.
type Verdict struct {
	Rule  Rule
	Deny  bool // values under the key are filtered, by Rule
	Plain bool // text scrubbing leaves the key's name as it is
}

// maxCachedKeys bounds the key cache; names beyond it are checked every time.
const maxCachedKeys = 4096

// maxCachedKeyLen is the longest key the cache takes.
const maxCachedKeyLen = 64

// New returns a scrubber with the built-in rules, the deny list (safetext.SecretKey),
// more keys that deny when a key contains one (ignoring case), and regular expressions
// whose matches are filtered (validated by the config).
func New(extraKeys, extraPatterns []string) *Scrubber {
	s := &Scrubber{}
	var extra []string
	for _, k := range extraKeys {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		s.extraKeys = newFoldSet(extra)
	}
	for _, p := range extraPatterns {
		s.patterns = append(s.patterns, regexp.MustCompile(p)) // validated in Config.Validate
	}
	return s
}

// keyRule reports whether values under key must be Filtered, and by which rule.
func (s *Scrubber) KeyRule(key string) (Rule, bool) {
	v := s.Verdict(key)
	return v.Rule, v.Deny
}

// verdict is what the Scrubber makes of a key, cached.
func (s *Scrubber) Verdict(key string) Verdict {
	if v, ok := s.keys.Load(key); ok {
		return v.(Verdict)
	}
	var v Verdict
	v.Rule, v.Deny = s.checkKey(key)
	var none Counts
	v.Plain = s.Text(key, &none) == key
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
func (s *Scrubber) KeyName(key string, v Verdict, c *Counts) string {
	if v.Plain {
		return key
	}
	return s.Text(key, c)
}

func (s *Scrubber) checkKey(key string) (Rule, bool) {
	if safetext.SecretKey(key) {
		return RuleDenyKey, true
	}
	if s.extraKeys != nil {
		lk := strings.ToLower(key)
		for _, k := range s.extraKeys.words {
			if strings.Contains(lk, k) {
				return RuleCustomKey, true
			}
		}
	}
	return 0, false
}

// text returns s without bearer tokens, card numbers, key=value secrets, URL
// passwords and custom pattern matches, counting each replacement in c.
func (s *Scrubber) Text(str string, c *Counts) string {
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
			return m[1] + m[2] + Filtered, true
		}, RuleBearerToken, c)
	}
	if digitRun13 {
		str = cardPattern.ReplaceAllStringFunc(str, func(m string) string {
			if !luhn(m) {
				return m
			}
			c[RuleCardNumber]++
			return Filtered
		})
	}
	if hasURL && strings.IndexByte(str, '@') >= 0 {
		str = replaceCount(urlCredPattern, str, func(m []string) (string, bool) { return m[1] + Filtered + m[3], true }, RuleURLCredentials, c)
		str = replaceCount(urlUserPattern, str, func(m []string) (string, bool) {
			return m[1] + Filtered + m[3], looksLikeCredential(m[2])
		}, RuleURLCredentials, c)
	}
	if hasSep && (denyFragments.in(str) || (s.extraKeys != nil && s.extraKeys.in(str))) {
		str = s.pairs(str, c)
	}
	for _, p := range s.patterns {
		str = replaceCount(p, str, func([]string) (string, bool) { return Filtered, true }, RuleCustomPattern, c)
	}
	return str
}

// credentialSchemes and denyFragments are cheap pre-checks: the regular expressions run
// only on text that contains one of them.
var (
	credentialSchemes = newFoldSet([]string{"bearer", "basic", "token"})
	denyFragments     = newFoldSet(safetext.SecretFragments)
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
//
// One scanner over the text: finding the key, its separator and its value are steps of
// one walk, kept together.
func (s *Scrubber) pairs(str string, c *Counts) string {
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
		if _, deny := s.KeyRule(str[k:keyEnd]); !deny {
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
		if val == "" || val == Filtered || strings.EqualFold(val, "bearer") || strings.EqualFold(val, "basic") {
			continue // empty, already Filtered, or the scheme of a credential the bearer rule Filtered
		}
		if b == nil {
			b = make([]byte, 0, len(str))
		}
		b = append(b, str[last:valStart]...)
		b = append(b, Filtered...)
		last = valEnd
		i = valEnd
		c[RuleSecretPair]++
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

func replaceCount(re *regexp.Regexp, str string, repl func([]string) (string, bool), rule Rule, c *Counts) string {
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
		if groups[0] == Filtered {
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
