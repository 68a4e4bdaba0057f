package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// bodyCheck is a compiled BodyCheckConfig.
type bodyCheck struct {
	name     string
	contains []byte
	regex    *regexp.Regexp
	path     []pathStep
	want     []byte // equals, JSON-encoded, for json_path
}

func compileBodyCheck(c BodyCheckConfig) (bodyCheck, error) {
	bc := bodyCheck{name: c.Name}
	switch {
	case c.Contains != "":
		bc.contains = []byte(c.Contains)
	case c.Regex != "":
		re, err := regexp.Compile(c.Regex)
		if err != nil {
			return bc, err
		}
		bc.regex = re
	default:
		path, err := parseJSONPath(c.JSONPath)
		if err != nil {
			return bc, err
		}
		bc.path = path
		want, err := canonicalJSON(c.Equals)
		if err != nil {
			return bc, err
		}
		bc.want = want
	}
	return bc, nil
}

// check reports whether body passes, and when it does not, a short reason that never
// quotes the body.
func (bc *bodyCheck) check(body []byte, doc *jsonDoc) (bool, string) {
	switch {
	case bc.contains != nil:
		if bytes.Contains(body, bc.contains) {
			return true, ""
		}
		return false, "text not found"
	case bc.regex != nil:
		if bc.regex.Match(body) {
			return true, ""
		}
		return false, "regex did not match"
	default:
		v, err := doc.get(body)
		if err != nil {
			return false, "body is not JSON"
		}
		got, ok := lookupJSONPath(v, bc.path)
		if !ok {
			return false, "path not found"
		}
		gotJSON, err := canonicalJSON(got)
		if err != nil || !bytes.Equal(gotJSON, bc.want) {
			return false, "value differs"
		}
		return true, ""
	}
}

// jsonDoc decodes the body once for all json_path checks of a run.
type jsonDoc struct {
	decoded bool
	v       any
	err     error
}

func (d *jsonDoc) get(body []byte) (any, error) {
	if !d.decoded {
		d.decoded = true
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		d.err = dec.Decode(&d.v)
	}
	return d.v, d.err
}

// canonicalJSON encodes a scalar so that a YAML 200 equals a JSON 200 and "ok" equals
// "ok"; numbers compare by value.
func canonicalJSON(v any) ([]byte, error) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return nil, err
		}
		return json.Marshal(f)
	case int:
		return json.Marshal(float64(n))
	case int64:
		return json.Marshal(float64(n))
	case uint64:
		return json.Marshal(float64(n))
	case float32:
		return json.Marshal(float64(n))
	}
	return json.Marshal(v)
}

// pathStep is one step of a JSON path: an object key or an array index.
type pathStep struct {
	key   string
	index int
	isIdx bool
}

// parseJSONPath reads the subset of JSONPath that health checks need: a leading "$"
// (optional), then .key, ["key"] or [index] steps, e.g. $.data[0].id or status.
func parseJSONPath(s string) ([]pathStep, error) {
	rest := strings.TrimPrefix(strings.TrimSpace(s), "$")
	var steps []pathStep
	if rest != "" && rest[0] != '.' && rest[0] != '[' {
		rest = "." + rest
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			if key == "" {
				return nil, errors.New(`empty key: use $.key, $.list[0] or $["key with dots"]`)
			}
			steps = append(steps, pathStep{key: key})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, errors.New(`missing "]"`)
			}
			inner := rest[1:end]
			rest = rest[end+1:]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') && inner[len(inner)-1] == inner[0] {
				steps = append(steps, pathStep{key: inner[1 : len(inner)-1]})
				continue
			}
			i, err := strconv.Atoi(inner)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("[%s] is neither an array index nor a quoted key", inner)
			}
			steps = append(steps, pathStep{index: i, isIdx: true})
		default:
			return nil, fmt.Errorf("unexpected %q: use $.key, $.list[0] or $[\"key\"]", rest[0])
		}
	}
	if len(steps) == 0 {
		return nil, errors.New(`path selects nothing: use $.key, $.list[0] or $["key"]`)
	}
	return steps, nil
}

func lookupJSONPath(v any, path []pathStep) (any, bool) {
	for _, step := range path {
		if step.isIdx {
			list, ok := v.([]any)
			if !ok || step.index >= len(list) {
				return nil, false
			}
			v = list[step.index]
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[step.key]; !ok {
			return nil, false
		}
	}
	return v, true
}
