package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/metadata"
	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// maxPriceFileSize bounds what a price file may hold; LiteLLM's full file is about 1 MiB.
const maxPriceFileSize = 32 << 20

// fileState is what the reloader knows about one price file.
type fileState struct {
	cfg     PriceFile
	index   int // in price_files: names the file in the component status, which /health shows
	modTime time.Time
	size    int64
	statted bool
	sum     [sha256.Size]byte
	models  []*pricing.Model // last good content; kept while the file is bad
	err     string           // current problem, "" when the file is good
}

// reloader watches price files by polling their size and modification time, and swaps
// in a new table when one changes. A file that cannot be read or parsed keeps its
// previous prices, is logged once per change, and puts the component in
// RecoverableError until every file is good again.
type reloader struct {
	interval time.Duration
	base     *pricing.Table
	inline   []*pricing.Model
	apply    func(*pricing.Table)
	logger   *zap.Logger
	loads    metric.Int64Counter
	okOpt    metric.AddOption
	errOpt   metric.AddOption

	mu       sync.Mutex // serialises check
	files    []*fileState
	host     component.Host
	degraded bool

	stop chan struct{}
	done chan struct{}
}

func newReloader(cfg *Config, base *pricing.Table, inline []*pricing.Model, apply func(*pricing.Table), logger *zap.Logger, tb *metadata.TelemetryBuilder) *reloader {
	r := &reloader{interval: cfg.ReloadInterval, base: base, inline: inline, apply: apply, logger: logger,
		loads:  tb.ProcessorLlmCostPriceFileLoads,
		okOpt:  metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "ok"))),
		errOpt: metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "error")))}
	for i, f := range cfg.PriceFiles {
		r.files = append(r.files, &fileState{cfg: f, index: i})
	}
	return r
}

func (r *reloader) start(ctx context.Context, host component.Host) error {
	r.host = host
	if len(r.files) == 0 {
		return nil
	}
	r.check(ctx)
	if r.interval > 0 {
		r.stop, r.done = make(chan struct{}), make(chan struct{})
		go r.loop(r.stop, r.done)
	}
	return nil
}

func (r *reloader) loop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.check(context.Background())
		}
	}
}

func (r *reloader) shutdown(ctx context.Context) error {
	if r.stop == nil {
		return nil
	}
	close(r.stop)
	r.stop = nil
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// check re-reads the files that changed and swaps in a new table if any did.
func (r *reloader) check(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, f := range r.files {
		if r.checkFile(ctx, f) {
			changed = true
		}
	}
	if changed {
		overrides := append([]*pricing.Model(nil), r.inline...)
		for _, f := range r.files {
			overrides = append(overrides, f.models...)
		}
		t, err := r.base.WithOverrides(overrides)
		if err != nil {
			// Each file's models were compiled when it was parsed; this cannot fail
			// unless the built-in table is broken. Keep the current table.
			r.logger.Error("price table rebuild failed; keeping the current prices", zap.String("error", safetext.Error(err)))
		} else {
			r.apply(t)
		}
	}
	r.reportStatus()
}

// checkFile reports whether f's prices changed.
func (r *reloader) checkFile(ctx context.Context, f *fileState) bool {
	info, err := os.Stat(f.cfg.Path)
	if err != nil {
		f.statted = false
		r.fail(ctx, f, fmt.Errorf("price_files[%d]: %w", f.index, errors.Unwrap(err)))
		return false
	}
	if f.statted && info.ModTime().Equal(f.modTime) && info.Size() == f.size {
		return false // unchanged since it was last read, good or bad
	}
	if info.Size() > maxPriceFileSize {
		r.fail(ctx, f, fmt.Errorf("price_files[%d] is %d bytes, more than the %d allowed", f.index, info.Size(), maxPriceFileSize))
		return false
	}
	b, err := os.ReadFile(f.cfg.Path)
	if err != nil {
		r.fail(ctx, f, fmt.Errorf("price_files[%d]: %w", f.index, errors.Unwrap(err)))
		return false
	}
	f.modTime, f.size, f.statted = info.ModTime(), info.Size(), true
	sum := sha256.Sum256(b)
	if sum == f.sum && f.err == "" {
		return false
	}
	prev := f.sum
	f.sum = sum
	models, err := pricing.ParseFile(b, f.cfg.Format)
	if err != nil {
		if prev == sum {
			return false // same bad content as before: already reported
		}
		r.fail(ctx, f, fmt.Errorf("price_files[%d]: %w", f.index, err))
		return false
	}
	f.models, f.err = models, ""
	r.loads.Add(ctx, 1, r.okOpt)
	r.logger.Info("price file loaded", zap.String("path", f.cfg.Path), zap.Int("models", len(models)))
	return true
}

// fail records f's problem, logging and counting it only when it differs from the one
// already recorded, so a bad file is reported once per change, not once per poll. The
// problem names the file by its index in price_files, not by its path: it becomes the
// component status, which the readiness extension's /health shows; the log line
// carries the path.
func (r *reloader) fail(ctx context.Context, f *fileState, err error) {
	msg := safetext.Error(err)
	if msg == f.err {
		return
	}
	f.err = msg
	r.loads.Add(ctx, 1, r.errOpt)
	kept := "the built-in prices apply"
	if f.models != nil {
		kept = "its previous prices are kept"
	}
	r.logger.Error("price file rejected; "+kept, zap.String("path", f.cfg.Path), zap.String("error", msg))
}

func (r *reloader) reportStatus() {
	if r.host == nil {
		return
	}
	var bad []string
	for _, f := range r.files {
		if f.err != "" {
			bad = append(bad, f.err)
		}
	}
	switch {
	case len(bad) > 0:
		r.degraded = true
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(errors.New(strings.Join(bad, "; "))))
	case r.degraded:
		r.degraded = false
		componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}
