package llmcost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadatatest"
)

// fullTableServer serves the full genai-prices data file of the repository, a little
// different at every request (trailing spaces), so that every fetch parses and swaps in
// a whole new table.
func fullTableServer(b *testing.B) *httptest.Server {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "third_party", "genai-prices", "data.json"))
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(data)
		for i := n.Add(1) % 64; i > 0; i-- {
			_, _ = w.Write([]byte(" "))
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

func fullTableProcessor(b *testing.B, url string) *llmCostProcessor {
	b.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.PriceFiles = []PriceFile{{URL: url, Format: "genai_prices"}}
	p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, signalSpans)
	if err != nil {
		b.Fatal(err)
	}
	p.reloader.manual = true
	if err := p.start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.shutdown(context.Background()) })
	return p
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFetchAndParseFullTable: one fetch of the full genai-prices file from a local
// server, parsed, validated and swapped in (the work of a URL source that changed).
// cpu-ms/op is the process's CPU time (user and system, all threads) per fetch.
func BenchmarkFetchAndParseFullTable(b *testing.B) {
	srv := fullTableServer(b)
	p := fullTableProcessor(b, srv.URL)
	s := p.reloader.sources[0]
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if !p.reloader.fetch(context.Background(), s) {
			b.Fatal("fetch failed: ", s.err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	if p.eng.table().ModelCount() < 1000 {
		b.Fatal("the full table was not swapped in")
	}
}

// BenchmarkProcessTracesDuringTableSwap times each ProcessTraces call of the 1,000-span
// benchmark batch while another goroutine fetches and swaps in the full table over and
// over (swapping), and without swaps (quiet). It reports the longest call and the 99th
// percentile: a swap must not stall the pipeline. (Each swap also starts a new
// resolution cache, so the first batch after it resolves its 50 models again.)
func BenchmarkProcessTracesDuringTableSwap(b *testing.B) {
	for _, swapping := range []bool{false, true} {
		name := "quiet"
		if swapping {
			name = "swapping"
		}
		b.Run(name, func(b *testing.B) {
			srv := fullTableServer(b)
			p := fullTableProcessor(b, srv.URL)
			batch := benchBatch(b)
			spans := batch.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
			lens := make([]int, spans.Len())
			for i := range lens {
				lens[i] = spans.At(i).Attributes().Len()
			}
			restore := func() {
				for i := range lens {
					n := 0
					spans.At(i).Attributes().RemoveIf(func(string, pcommon.Value) bool { n++; return n > lens[i] })
				}
			}
			var stop atomic.Bool
			var swaps atomic.Int64
			var wg sync.WaitGroup
			if swapping {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						if p.reloader.fetch(context.Background(), p.reloader.sources[0]) {
							swaps.Add(1)
						}
					}
				}()
			}
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				restore()
				b.StartTimer()
				start := time.Now()
				if _, err := p.processTraces(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			stop.Store(true)
			wg.Wait()
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)-1].Microseconds()), "max-us")
			b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds()), "p99-us")
			b.ReportMetric(float64(swaps.Load())/float64(b.N), "swaps/op")
		})
	}
}
