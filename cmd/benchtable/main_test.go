package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
BenchmarkPipeline/a_baseline-2   1   6.0 cpu-s/Mspan   0 refused   100000 spans/s
BenchmarkPipeline/a_baseline-2   1   7.0 cpu-s/Mspan   0 refused   120000 spans/s
BenchmarkPipeline/a_baseline-2   1   5.0 cpu-s/Mspan   0 refused   110000 spans/s
BenchmarkPipeline/b_default-2    1   10.0 cpu-s/Mspan  10 feature-cpu-%   0 refused   60000 spans/s
BenchmarkPipeline/b_default-2    1   12.0 cpu-s/Mspan  14 feature-cpu-%   0 refused   80000 spans/s
BenchmarkPipeline/b_default-2    1   11.0 cpu-s/Mspan  12 feature-cpu-%   0 refused   70000 spans/s
BenchmarkPipeline/c_ottl_pricing-2  1  30.0 cpu-s/Mspan  80 feature-cpu-%  0 refused  30000 spans/s
PASS
`

func TestTableHasMediansRangesAndRatios(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 3)
	assert.Equal(t, []float64{100000, 120000, 110000}, rs["a_baseline"]["spans/s"])

	var out bytes.Buffer
	write(&out, rs)
	got := out.String()
	assert.Contains(t, got, "| max sustained spans/s (closed loop, no refused data) | 110000 [100000 – 120000] | 70000 [60000 – 80000] | 30000 [30000 – 30000] |")
	assert.Contains(t, got, "(b) throughput / (a) throughput: 64%")
	assert.Contains(t, got, "llm_cost's share of (b)'s CPU: 12.0%")
	// OTTL: 30 * 0.80 = 24 µs per span; llm_cost: 11 * 0.12 = 1.32 µs.
	assert.Contains(t, got, "OTTL (c) 24.00 µs, llm_cost (b) 1.32 µs: OTTL costs 18.2x more")
	assert.NotContains(t, got, "/ready", "rows without values are left out")
}

func TestMedianOfEvenCount(t *testing.T) {
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
}

func TestBadValueIsAnError(t *testing.T) {
	_, err := parse(strings.NewReader("BenchmarkPipeline/a_baseline-2 1 x spans/s\n"))
	assert.ErrorContains(t, err, `value "x"`)
}
