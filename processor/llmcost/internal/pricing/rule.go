package pricing // import "github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Rule is one match clause of the price table: exactly one of its fields is set.
// String clauses compare against the lower-cased model name, so their operands are
// lower-cased when the rule is compiled; regular expressions match case-insensitively.
type Rule struct {
	Equals     string `mapstructure:"equals" json:"equals,omitempty"`
	StartsWith string `mapstructure:"starts_with" json:"starts_with,omitempty"`
	EndsWith   string `mapstructure:"ends_with" json:"ends_with,omitempty"`
	Contains   string `mapstructure:"contains" json:"contains,omitempty"`
	Regex      string `mapstructure:"regex" json:"regex,omitempty"`
	Or         []Rule `mapstructure:"or" json:"or,omitempty"`
	And        []Rule `mapstructure:"and" json:"and,omitempty"`

	re *regexp.Regexp
	// notRe is the pattern of a leading negative lookahead, ^(?!X)rest: the rule
	// matches when notRe does not and re does. Go's regexp has no lookaround, and
	// genai-prices uses this one form (for example to keep "-tts" models out of a rule).
	notRe *regexp.Regexp
}

// UnmarshalJSON rejects unknown clause kinds instead of ignoring them, so that a
// table or price file written for a newer schema fails loudly.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("match rule: %w", err)
	}
	*r = Rule(p)
	return nil
}

// Compile checks that exactly one clause is set, lower-cases string operands and
// compiles regular expressions. It must run before Match.
func (r *Rule) Compile() error {
	set := 0
	for _, s := range []string{r.Equals, r.StartsWith, r.EndsWith, r.Contains, r.Regex} {
		if s != "" {
			set++
		}
	}
	if r.Or != nil {
		set++
	}
	if r.And != nil {
		set++
	}
	if set != 1 {
		return errors.New(`a match rule needs exactly one of "equals", "starts_with", "ends_with", "contains", "regex", "or", "and"`)
	}
	r.Equals = strings.ToLower(r.Equals)
	r.StartsWith = strings.ToLower(r.StartsWith)
	r.EndsWith = strings.ToLower(r.EndsWith)
	r.Contains = strings.ToLower(r.Contains)
	if r.Regex != "" {
		pos, neg, err := splitLookahead(r.Regex)
		if err != nil {
			return fmt.Errorf("regex %q: %w", r.Regex, err)
		}
		re, err := regexp.Compile("(?i)" + pos)
		if err != nil {
			return fmt.Errorf("regex %q: %w", r.Regex, err)
		}
		r.re = re
		if neg != "" {
			if r.notRe, err = regexp.Compile("(?i)" + neg); err != nil {
				return fmt.Errorf("regex %q: %w", r.Regex, err)
			}
		}
	}
	for _, list := range [][]Rule{r.Or, r.And} {
		if list != nil && len(list) == 0 {
			return errors.New(`"or" and "and" need at least one rule`)
		}
		for i := range list {
			if err := list[i].Compile(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Match reports whether the lower-cased name satisfies the rule.
func (r *Rule) Match(name string) bool {
	switch {
	case r.Equals != "":
		return name == r.Equals
	case r.StartsWith != "":
		return strings.HasPrefix(name, r.StartsWith)
	case r.EndsWith != "":
		return strings.HasSuffix(name, r.EndsWith)
	case r.Contains != "":
		return strings.Contains(name, r.Contains)
	case r.re != nil:
		return (r.notRe == nil || !r.notRe.MatchString(name)) && r.re.MatchString(name)
	case r.Or != nil:
		for i := range r.Or {
			if r.Or[i].Match(name) {
				return true
			}
		}
		return false
	case r.And != nil:
		for i := range r.And {
			if !r.And[i].Match(name) {
				return false
			}
		}
		return true
	}
	return false
}

// splitLookahead splits a regular expression that starts with a negative lookahead,
// ^(?!X)rest, into ^rest and ^(?:X). Other expressions are returned as they are (and
// any other lookaround fails to compile, naming the construct). Alternatives after the
// lookahead, ^(?!X)a|b, where the lookahead guards a only, are refused.
func splitLookahead(expr string) (pos, neg string, err error) {
	const open = "^(?!"
	if !strings.HasPrefix(expr, open) {
		return expr, "", nil
	}
	end := topLevel(expr, len(open), ')')
	if end < 0 {
		return "", "", errors.New("the negative lookahead (?! is not closed")
	}
	rest := expr[end+1:]
	if topLevel(rest, 0, '|') >= 0 {
		return "", "", errors.New("alternatives after a negative lookahead (^(?!X)a|b) are not supported")
	}
	return "^" + rest, "^(?:" + expr[len(open):end] + ")", nil
}

// topLevel returns the index of the first c in expr from i on that is outside the
// groups opened from i on, escapes and character classes (a ')' that closes a group
// opened before i is such a c), or -1.
func topLevel(expr string, i int, c byte) int {
	depth, inClass := 0, false
	for ; i < len(expr); i++ {
		switch ch := expr[i]; {
		case ch == '\\':
			i++ // the escaped character
		case inClass:
			if ch == ']' {
				inClass = false
			}
		case ch == '[':
			inClass = true
			// A ']' right after '[' or '[^' is a literal, not the end of the class.
			if i+1 < len(expr) && expr[i+1] == '^' {
				i++
			}
			if i+1 < len(expr) && expr[i+1] == ']' {
				i++
			}
		case depth == 0 && ch == c:
			return i
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		}
	}
	return -1
}
