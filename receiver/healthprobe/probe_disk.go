package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"

	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// diskObservation is what a disk run measured.
type diskObservation struct {
	free, total uint64
}

// diskProber checks the free space of the filesystem holding path.
type diskProber struct {
	cfg    *ProbeConfig
	statfs func(path string) (free, total uint64, err error)
	// blocked holds the answer channel of a statfs that outlived its run's timeout (a
	// hung network filesystem); no new call starts until it returns.
	blocked chan statfsResult
}

type statfsResult struct {
	free, total uint64
	err         error
}

func newDiskProber(cfg *ProbeConfig) *diskProber {
	return &diskProber{cfg: cfg, statfs: statFilesystem}
}

func (*diskProber) start(context.Context, component.Host) error { return nil }
func (*diskProber) shutdown(context.Context) error              { return nil }

// stat runs statfs within ctx. statfs cannot be cancelled, so it runs on its own
// goroutine: a call that hangs costs this probe a timeout per run, never a worker.
func (p *diskProber) stat(ctx context.Context) (uint64, uint64, error) {
	if p.blocked != nil {
		select {
		case <-p.blocked:
			p.blocked = nil
		default:
			return 0, 0, fmt.Errorf("statfs %s: the previous call has not returned yet: %w", p.cfg.Path, context.DeadlineExceeded)
		}
	}
	answer := make(chan statfsResult, 1)
	go func() {
		free, total, err := p.statfs(p.cfg.Path)
		answer <- statfsResult{free, total, err}
	}()
	select {
	case r := <-answer:
		return r.free, r.total, r.err
	case <-ctx.Done():
		p.blocked = answer
		return 0, 0, ctx.Err()
	}
}

func (p *diskProber) probe(ctx context.Context) outcome {
	free, total, err := p.stat(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return failedErr(err)
	}
	if err != nil {
		return failedErr(fmt.Errorf("statfs %s: %w", p.cfg.Path, err))
	}
	if total == 0 {
		return failed(metadata.AttributeErrorTypeOther, fmt.Sprintf("filesystem at %s reports size 0", p.cfg.Path))
	}
	percent := float64(free) / float64(total) * 100
	o := outcome{
		ok:   true,
		disk: &diskObservation{free: free, total: total},
		details: map[string]any{
			"path":         p.cfg.Path,
			"free_gb":      round2(float64(free) / gib),
			"total_gb":     round2(float64(total) / gib),
			"free_percent": round2(percent),
		},
	}
	switch {
	case percent < p.cfg.UnhealthyFreePercent:
		o.ok = false
		o.errorType = metadata.AttributeErrorTypeThreshold
		o.message = fmt.Sprintf("Disk space critical (%.1f%% free, below %g%%)", percent, p.cfg.UnhealthyFreePercent)
	case percent < p.cfg.DegradedFreePercent:
		o.degraded = true
		o.message = fmt.Sprintf("Disk space low (%.1f%% free, below %g%%)", percent, p.cfg.DegradedFreePercent)
	default:
		o.message = fmt.Sprintf("Disk space OK (%.1f%% free)", percent)
	}
	return o
}
