package tests

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// discardTraceSink is an OTLP gRPC trace backend that accepts and drops everything.
type discardTraceSink struct {
	ptraceotlp.UnimplementedGRPCServer
}

func (*discardTraceSink) Export(context.Context, ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	return ptraceotlp.NewExportResponse(), nil
}

var (
	requiredEnv = regexp.MustCompile(`\$\{env:([A-Za-z0-9_]+)\}`)
	anyEnv      = regexp.MustCompile(`\$\{env:([A-Za-z0-9_]+)(:-[^}]*)?\}`)
)

// overlayScrapes runs the default configuration merged with each overlay of
// config/overlays/ (whose components, such as tail sampling, have telemetry of their
// own that dashboards show), sends it LLM, agent, HTTP and database spans, and returns
// its scrapes once no new series appear. Variables an overlay requires get a local
// backend for endpoints and "true" for insecure flags; directories (*_DIR) a temporary
// directory.
func overlayScrapes(t *testing.T) []harness.Families {
	t.Helper()
	overlays, err := filepath.Glob(filepath.Join(harness.RepoRoot(), "config", "overlays", "*.yaml"))
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, &discardTraceSink{})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)

	var out []harness.Families
	for _, overlay := range overlays {
		b, err := os.ReadFile(overlay)
		require.NoError(t, err)
		env := map[string]string{"TRACES_DECISION_WAIT": "1s", "SENTRY_TRACES_DECISION_WAIT": "1s"}
		if strings.Contains(string(b), "${sentry:") { // derived from SENTRY_DSN (config/overlays/sentry.yaml)
			env["SENTRY_DSN"] = "https://public@127.0.0.1:9/1"
		}
		// Directories an overlay keeps state in (LLM_SPEND_STORAGE_DIR of
		// llm-spend.yaml) go to a temporary directory, never their default under /var/lib.
		for _, m := range anyEnv.FindAllStringSubmatch(string(b), -1) {
			if strings.HasSuffix(m[1], "_DIR") {
				env[m[1]] = t.TempDir()
			}
		}
		for _, m := range requiredEnv.FindAllStringSubmatch(string(b), -1) {
			switch name := m[1]; {
			case strings.HasSuffix(name, "_ENDPOINT"):
				env[name] = l.Addr().String()
			case strings.Contains(name, "INSECURE"):
				env[name] = "true"
			case name == "SENTRY_DSN":
				env[name] = "https://public@127.0.0.1:9/1"
			default:
				t.Fatalf("%s requires ${env:%s}: give the consistency test a value for it", overlay, name)
			}
		}
		c := harness.Start(t, harness.Options{Configs: []string{harness.DefaultConfig(), overlay}, Env: env})
		tp := harness.TracerProvider(t, c, "procode-agent-framework")
		llmRound(t, tp.Tracer("ops-overlay"))
		httpDBRound(t, tp.Tracer("ops-overlay"))
		require.NoError(t, tp.ForceFlush(context.Background()))
		out = append(out, scrapeWhenStable(t, c)...)
	}
	return out
}

// scrapeWhenStable scrapes both endpoints of c every second until the set of series
// names has not changed for three scrapes in a row (at least 4 seconds), and returns
// the last scrapes.
func scrapeWhenStable(t *testing.T, c *harness.Collector) []harness.Families {
	t.Helper()
	var last string
	var fams []harness.Families
	stable := 0
	deadline := time.Now().Add(60 * time.Second)
	for stable < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		pipeline := harness.MustScrape(t, c.MetricsURL())
		own := harness.MustScrape(t, c.TelemetryURL())
		names := append(pipeline.Names(), own.Names()...)
		sort.Strings(names)
		key := strings.Join(names, " ")
		if key == last {
			stable++
		} else {
			stable, last = 0, key
		}
		fams = []harness.Families{pipeline, own}
	}
	require.Equal(t, 3, stable, "series kept changing for a minute")
	return fams
}
