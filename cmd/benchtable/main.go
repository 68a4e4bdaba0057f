// Command benchtable turns the end-to-end benchmark output (BenchmarkPipeline, one
// line per run) into the Markdown table BENCHMARKS.md shows: per scenario and metric
// the median of the runs with their range, then the ratios the performance targets are
// stated in. benchstat gives no interval for fewer than six runs, and three runs of a
// whole collector are what a reproduction can afford.
//
//	go run ./cmd/benchtable _bench/e2e-bench.txt > _bench/e2e-table.md
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtable BENCH_OUTPUT")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	defer f.Close()
	runs, err := parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no BenchmarkPipeline lines in", os.Args[1])
		os.Exit(1)
	}
	write(os.Stdout, runs)
}

// runs maps scenario -> metric unit -> one value per run.
type runs map[string]map[string][]float64

func parse(r io.Reader) (runs, error) {
	out := runs{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "BenchmarkPipeline/") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "BenchmarkPipeline/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		if out[name] == nil {
			out[name] = map[string][]float64{}
		}
		// fields[1] is the iteration count; then value, unit pairs.
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", name, fields[i], err)
			}
			out[name][fields[i+1]] = append(out[name][fields[i+1]], v)
		}
	}
	return out, sc.Err()
}

// median is NaN for no values; callers print only what they have.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func spread(vs []float64) (lo, hi float64) {
	lo, hi = vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// rows are the metrics shown, in order, with how they are labelled.
var rows = []struct{ unit, label string }{
	{"spans/s", "max sustained spans/s (closed loop, no refused data)"},
	{"refused", "refused requests at that load"},
	{"cpu-s/Mspan", "collector CPU seconds per million spans, at saturation"},
	{"fixed-cpu-s/Mspan", "collector CPU seconds per million spans, at 10k spans/s"},
	{"peak-RSS-MiB", "peak RSS (MiB)"},
	{"feature-cpu-%", "share of collector CPU in the compared feature (pprof)"},
	{"ready-p50-ms", "/ready p50 (ms), at saturation"},
	{"ready-p99-ms", "/ready p99 (ms), at saturation"},
	{"health-p50-ms", "/health p50 (ms), at saturation"},
	{"health-p99-ms", "/health p99 (ms), at saturation"},
	{"fixed-ready-p50-ms", "/ready p50 (ms), at 10k spans/s"},
	{"fixed-ready-p99-ms", "/ready p99 (ms), at 10k spans/s"},
	{"fixed-health-p50-ms", "/health p50 (ms), at 10k spans/s"},
	{"fixed-health-p99-ms", "/health p99 (ms), at 10k spans/s"},
}

func write(w io.Writer, rs runs) {
	names := make([]string, 0, len(rs))
	for n := range rs {
		names = append(names, n)
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		n = max(n, len(rs[name]["spans/s"]))
	}
	fmt.Fprintf(w, "Median of %d runs per scenario, [lowest – highest] below it.\n\n", n)
	fmt.Fprintf(w, "| metric | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, r := range rows {
		cells := make([]string, len(names))
		any := false
		for i, name := range names {
			vs := rs[name][r.unit]
			if len(vs) == 0 {
				cells[i] = "–"
				continue
			}
			any = true
			lo, hi := spread(vs)
			cells[i] = fmt.Sprintf("%s [%s – %s]", num(median(vs)), num(lo), num(hi))
		}
		if any {
			fmt.Fprintf(w, "| %s | %s |\n", r.label, strings.Join(cells, " | "))
		}
	}

	a, b, c := rs["a_baseline"], rs["b_default"], rs["c_ottl_pricing"]
	if a == nil || b == nil {
		return
	}
	fmt.Fprintf(w, "\nRatios of the medians:\n\n")
	fmt.Fprintf(w, "- (b) throughput / (a) throughput: %.0f%% (target at least 90%%)\n",
		100*median(b["spans/s"])/median(a["spans/s"]))
	fmt.Fprintf(w, "- (b) CPU per span / (a) CPU per span: %.2fx at saturation", median(b["cpu-s/Mspan"])/median(a["cpu-s/Mspan"]))
	if len(a["fixed-cpu-s/Mspan"]) > 0 && len(b["fixed-cpu-s/Mspan"]) > 0 {
		fmt.Fprintf(w, ", %.2fx at 10k spans/s", median(b["fixed-cpu-s/Mspan"])/median(a["fixed-cpu-s/Mspan"]))
	}
	fmt.Fprintln(w)
	if len(b["feature-cpu-%"]) > 0 {
		fmt.Fprintf(w, "- llm_cost's share of (b)'s CPU: %.1f%% (target at most 5%%)\n", median(b["feature-cpu-%"]))
	}
	if c != nil && len(c["feature-cpu-%"]) > 0 && len(b["feature-cpu-%"]) > 0 {
		// Both scenarios price the same spans, so CPU per span of the feature is
		// proportional to CPU per priced span.
		ours := median(b["cpu-s/Mspan"]) * median(b["feature-cpu-%"]) / 100
		theirs := median(c["cpu-s/Mspan"]) * median(c["feature-cpu-%"]) / 100
		fmt.Fprintf(w, "- pricing CPU per span: OTTL (c) %.2f µs, llm_cost (b) %.2f µs: OTTL costs %.1fx more (target at least 5x)\n",
			theirs, ours, theirs/ours)
	}
}

// num prints v with precision that suits its size.
func num(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
