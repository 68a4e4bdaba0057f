package healthprobe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// BenchmarkScrape200HTTP runs rounds of 200 HTTP probes against one local server (in
// this process) with the default 16 workers. Besides time and allocations per round it
// reports the CPU time of the whole process per round (server included, so an upper
// bound for the receiver) and what that is as a share of one core at a 10s interval.
func BenchmarkScrape200HTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"healthy"}`))
	}))
	defer srv.Close()
	probes := make([]ProbeConfig, 200)
	for i := range probes {
		probes[i] = httpProbe(fmt.Sprintf("target_%d", i), fmt.Sprintf("%s/t/%d", srv.URL, i))
	}
	cfg := testConfig(probes...)
	cfg.ControllerConfig.CollectionInterval = 10 * time.Second
	require.NoError(b, cfg.Validate())
	s, err := newProbeScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(b, err)
	require.NoError(b, s.start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(b, s.shutdown(context.Background())) }()

	b.ReportAllocs()
	cpu0 := processCPU()
	rounds := 0
	for b.Loop() {
		md, err := s.scrape(context.Background())
		if err != nil || md.DataPointCount() == 0 {
			b.Fatalf("round failed: %v", err)
		}
		rounds++
	}
	perRound := processCPU() - cpu0
	if rounds > 0 {
		perRound /= time.Duration(rounds)
	}
	b.ReportMetric(float64(perRound.Nanoseconds()), "cpu-ns/round")
	b.ReportMetric(perRound.Seconds()/10*100, "%core@10s")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
