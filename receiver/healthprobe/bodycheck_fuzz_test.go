package healthprobe

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/procode-ai/otelcol-procode/internal/allocbudget"
)

// failureReasons are the only texts a failed body check may report: a reason never
// quotes the body, which may hold anything the probed service returns.
var failureReasons = map[string]bool{
	"text not found": true, "regex did not match": true, "body is not JSON": true,
	"path not found": true, "value differs": true,
}

// FuzzBodyCheck compiles a contains, regex or json_path check from an arbitrary
// pattern (as Validate would accept it) and runs it on an arbitrary body. Properties:
// no panic; a verdict agrees with bytes.Contains and regexp for those kinds; a failure
// reason is one of a fixed set; checking allocates a bounded multiple of the body's
// size (a deeply nested or huge JSON document cannot blow up the receiver).
func FuzzBodyCheck(f *testing.F) {
	f.Add(uint8(0), "healthy", "", []byte(`{"status":"healthy"}`))
	f.Add(uint8(1), `"name"\s*:\s*"[^"]+"`, "", []byte(`{"name": "Research Agent"}`))
	f.Add(uint8(2), "$.object", "list", []byte(`{"object":"list","data":[]}`))
	f.Add(uint8(2), "$.data[0].id", "gpt-4o", []byte(`{"data":[{"id":"gpt-4o"}]}`))
	f.Add(uint8(2), `$["a.b"][3]`, "1e2", []byte(`{"a.b":[0,0,0,100]}`))
	f.Add(uint8(2), "$.ok", "true", []byte(`{"ok":true}`))
	f.Add(uint8(2), "$.n", "12345678901234567890123", []byte(`{"n":12345678901234567890123}`))
	f.Add(uint8(2), "$[0]", "x", bytes.Repeat([]byte("["), 20000))
	f.Add(uint8(1), "(a+)+$", "", bytes.Repeat([]byte("a"), 5000))
	f.Add(uint8(2), "$.", "", []byte(`{}`))
	f.Add(uint8(2), "$[99999999999999999999]", "", []byte(`[]`))
	f.Fuzz(func(t *testing.T, kind uint8, pattern, equals string, body []byte) {
		cfg := BodyCheckConfig{Name: "check"}
		switch kind % 3 {
		case 0:
			cfg.Contains = pattern
		case 1:
			cfg.Regex = pattern
		default:
			cfg.JSONPath = pattern
			cfg.Equals = equalsValue(equals)
		}
		if (kind%3 == 0 && pattern == "") || (kind%3 == 1 && pattern == "") {
			return // Validate requires exactly one non-empty kind
		}
		bc, err := compileBodyCheck(cfg)
		if err != nil {
			return // Validate reports it at startup
		}
		var ok bool
		var reason string
		if err := allocbudget.Check(len(body), 256, 64<<10, func() {
			ok, reason = bc.check(body, &jsonDoc{})
		}); err != nil {
			t.Fatal(err)
		}
		if ok != (reason == "") || (!ok && !failureReasons[reason]) {
			t.Fatalf("verdict %v with reason %q", ok, reason)
		}
		switch kind % 3 {
		case 0:
			if ok != bytes.Contains(body, []byte(pattern)) {
				t.Fatalf("contains %q: %v, bytes.Contains disagrees", pattern, ok)
			}
		case 1:
			if ok != regexp.MustCompile(pattern).Match(body) {
				t.Fatalf("regex %q: %v, regexp disagrees", pattern, ok)
			}
		}
	})
}

// equalsValue reads equals as YAML would hand it over: a number, a boolean or text.
func equalsValue(s string) any {
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}
