// Command loadgen sends realistic LLM agent traces to an OTLP endpoint at a target rate,
// or as fast as the collector accepts them, and reports what it achieved.
//
//	go run ./cmd/loadgen -endpoint localhost:4317 -rate 5000 -duration 30s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/procode-ai/otelcol-procode/internal/loadgen"
)

func main() {
	cfg := loadgen.DefaultConfig()
	flag.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "OTLP endpoint: host:port for grpc, host:port or URL for http")
	flag.StringVar(&cfg.Protocol, "protocol", cfg.Protocol, "grpc or http")
	flag.Float64Var(&cfg.Rate, "rate", cfg.Rate, "target spans per second over all connections; 0 sends as fast as the collector accepts")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to send")
	flag.IntVar(&cfg.Batch, "batch", cfg.Batch, "spans per export request (whole traces, so slightly more)")
	flag.IntVar(&cfg.Conns, "conns", cfg.Conns, "concurrent connections")
	flag.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed of the generated traces")
	flag.Float64Var(&cfg.ErrorRatio, "error-ratio", cfg.ErrorRatio, "share of traces that fail with an exception")
	flag.IntVar(&cfg.Prebuilt, "prebuilt", cfg.Prebuilt, "distinct batches pre-built per connection")
	flag.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "timeout of one export call")
	out := flag.String("out", "", "write the report as JSON to this file")
	quiet := flag.Bool("quiet", false, "print only the final report")
	flag.Parse()
	cfg.Progress = !*quiet
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: -"+err.Error())
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(b))
	if *out != "" {
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
}
