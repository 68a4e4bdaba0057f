package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families is a scrape: metric families by name.
type Families map[string]*dto.MetricFamily

// Scrape fetches a Prometheus text exposition and parses it.
func Scrape(url string) (Families, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	return fams, nil
}

// MustScrape is Scrape that fails the test on error.
func MustScrape(t testing.TB, url string) Families {
	t.Helper()
	f, err := Scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Names lists the metric family names, sorted.
func (f Families) Names() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Sum adds up the value of every series of family name whose labels include all of
// match. Counters and gauges give their value; histograms and summaries their count.
// found is false when no series matched.
func (f Families) Sum(name string, match map[string]string) (sum float64, found bool) {
	fam, ok := f[name]
	if !ok {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !labelsMatch(m, match) {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Summary != nil:
			sum += float64(m.Summary.GetSampleCount())
		}
	}
	return sum, found
}

// HistogramSum adds up the sample sums of the histogram series of name matching match.
func (f Families) HistogramSum(name string, match map[string]string) (sum float64, found bool) {
	fam, ok := f[name]
	if !ok {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if m.Histogram == nil || !labelsMatch(m, match) {
			continue
		}
		found = true
		sum += m.Histogram.GetSampleSum()
	}
	return sum, found
}

// Series renders every series of name as "name{labels} value" lines, for failure messages.
func (f Families) Series(name string) string {
	fam, ok := f[name]
	if !ok {
		return name + ": absent"
	}
	var b strings.Builder
	for _, m := range fam.GetMetric() {
		b.WriteString(name + "{")
		for i, l := range m.GetLabel() {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
		}
		b.WriteString("} ")
		v, _ := Families{name: &dto.MetricFamily{Metric: []*dto.Metric{m}, Type: fam.Type}}.Sum(name, nil)
		fmt.Fprintf(&b, "%g\n", v)
	}
	return b.String()
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	for k, want := range match {
		got, present := "", false
		for _, l := range m.GetLabel() {
			if l.GetName() == k {
				got, present = l.GetValue(), true
				break
			}
		}
		if !present || got != want {
			return false
		}
	}
	return true
}
