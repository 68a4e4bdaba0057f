package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

var defaultStatusRanges = []statusRange{{200, 399}}

// parseExpectedStatus reads expected_status: a list whose items are codes (200),
// ranges ("200-299") or classes ("2xx"). An empty list means 200-399.
func parseExpectedStatus(items []any) ([]statusRange, error) {
	if len(items) == 0 {
		return defaultStatusRanges, nil
	}
	ranges := make([]statusRange, 0, len(items))
	var errs []error
	for i, item := range items {
		r, err := parseStatusItem(item)
		if err != nil {
			errs = append(errs, fmt.Errorf("expected_status[%d] %v: %w", i, item, err))
			continue
		}
		ranges = append(ranges, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ranges, nil
}

const statusHelp = `use a code (200), a range ("200-299") or a class ("2xx"), between 100 and 599`

func parseStatusItem(item any) (statusRange, error) {
	var s string
	switch v := item.(type) {
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case uint64:
		s = strconv.FormatUint(v, 10)
	case string:
		s = strings.TrimSpace(v)
	default:
		return statusRange{}, fmt.Errorf("not a status code: %s", statusHelp)
	}
	if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") && s[0] >= '1' && s[0] <= '5' {
		base := int(s[0]-'0') * 100
		return statusRange{base, base + 99}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil {
		return statusRange{}, fmt.Errorf("not a status code: %s", statusHelp)
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
			return statusRange{}, fmt.Errorf("not a status range: %s", statusHelp)
		}
	}
	if a < 100 || b > 599 || a > b {
		return statusRange{}, fmt.Errorf("out of range: %s", statusHelp)
	}
	return statusRange{a, b}, nil
}

func statusExpected(ranges []statusRange, code int) bool {
	for _, r := range ranges {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// describeRanges renders ranges for messages, e.g. "200-299, 401".
func describeRanges(ranges []statusRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		if r.lo == r.hi {
			parts[i] = strconv.Itoa(r.lo)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.lo, r.hi)
		}
	}
	return strings.Join(parts, ", ")
}
