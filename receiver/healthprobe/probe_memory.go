package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/component"

	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

const gib = 1 << 30

// memoryObservation is what a memory run measured.
type memoryObservation struct {
	used, limit uint64
	source      string
}

// memoryProber reads the host's memory use from /proc/meminfo, or the cgroup v2 usage
// and limit of the collector's own cgroup when it has a limit (a container).
type memoryProber struct {
	cfg *ProbeConfig
	// procRoot and cgroupRoot are "/proc" and "/sys/fs/cgroup"; tests point them at
	// files of their own.
	procRoot   string
	cgroupRoot string
}

func newMemoryProber(cfg *ProbeConfig) *memoryProber {
	return &memoryProber{cfg: cfg, procRoot: "/proc", cgroupRoot: "/sys/fs/cgroup"}
}

func (*memoryProber) start(context.Context, component.Host) error { return nil }
func (*memoryProber) shutdown(context.Context) error              { return nil }

var errNoCgroupLimit = errors.New("no cgroup v2 memory limit applies to this process")

func (p *memoryProber) probe(context.Context) outcome {
	var obs *memoryObservation
	var err error
	switch p.cfg.Source {
	case memorySourceHost:
		obs, err = p.host()
	case memorySourceCgroup:
		obs, err = p.cgroup()
	default:
		obs, err = p.cgroup()
		if err != nil {
			obs, err = p.host()
		}
	}
	if err != nil {
		return failedErr(err)
	}
	if obs.limit == 0 {
		return failed(metadata.AttributeErrorTypeOther, "memory total reads as 0")
	}
	percent := float64(obs.used) / float64(obs.limit) * 100
	o := outcome{
		ok:     true,
		memory: obs,
		details: map[string]any{
			"source":       obs.source,
			"used_gb":      round2(float64(obs.used) / gib),
			"total_gb":     round2(float64(obs.limit) / gib),
			"used_percent": round2(percent),
		},
	}
	switch {
	case percent > p.cfg.UnhealthyUsedPercent:
		o.ok = false
		o.errorType = metadata.AttributeErrorTypeThreshold
		o.message = fmt.Sprintf("Memory usage critical (%.1f%% used, above %g%%)", percent, p.cfg.UnhealthyUsedPercent)
	case percent > p.cfg.DegradedUsedPercent:
		o.degraded = true
		o.message = fmt.Sprintf("Memory usage high (%.1f%% used, above %g%%)", percent, p.cfg.DegradedUsedPercent)
	default:
		o.message = fmt.Sprintf("Memory usage OK (%.1f%% used)", percent)
	}
	return o
}

// host reads MemTotal and MemAvailable; used is what is not available.
func (p *memoryProber) host() (*memoryObservation, error) {
	b, err := os.ReadFile(filepath.Join(p.procRoot, "meminfo"))
	if err != nil {
		return nil, fmt.Errorf("read meminfo: %w", unwrapPath(err))
	}
	var total, avail uint64
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "MemTotal":
			total, haveTotal = v*1024, true
		case "MemAvailable":
			avail, haveAvail = v*1024, true
		}
	}
	if !haveTotal || !haveAvail {
		return nil, errors.New("meminfo lacks MemTotal or MemAvailable")
	}
	used := uint64(0)
	if total > avail {
		used = total - avail
	}
	return &memoryObservation{used: used, limit: total, source: memorySourceHost}, nil
}

// cgroup reads the limit and usage of this process's cgroup v2. Like the kubelet's
// working set, usage leaves out inactive file cache, which the kernel reclaims first.
func (p *memoryProber) cgroup() (*memoryObservation, error) {
	b, err := os.ReadFile(filepath.Join(p.procRoot, "self", "cgroup"))
	if err != nil {
		return nil, fmt.Errorf("read cgroup membership: %w", unwrapPath(err))
	}
	var rel string
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			rel, found = path, true
			break
		}
	}
	if !found {
		return nil, errors.New("this process is not in a cgroup v2 hierarchy")
	}
	dir := filepath.Join(p.cgroupRoot, filepath.Clean("/"+rel))
	maxText, err := os.ReadFile(filepath.Join(dir, "memory.max"))
	if err != nil {
		return nil, errNoCgroupLimit
	}
	s := strings.TrimSpace(string(maxText))
	if s == "max" {
		return nil, errNoCgroupLimit
	}
	limit, err := strconv.ParseUint(s, 10, 64)
	if err != nil || limit == 0 || limit >= math.MaxInt64/2 {
		return nil, errNoCgroupLimit
	}
	curText, err := os.ReadFile(filepath.Join(dir, "memory.current"))
	if err != nil {
		return nil, fmt.Errorf("read memory.current: %w", unwrapPath(err))
	}
	used, err := strconv.ParseUint(strings.TrimSpace(string(curText)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("memory.current is not a number")
	}
	if stat, err := os.ReadFile(filepath.Join(dir, "memory.stat")); err == nil {
		for _, line := range strings.Split(string(stat), "\n") {
			if v, ok := strings.CutPrefix(line, "inactive_file "); ok {
				if inactive, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil && inactive < used {
					used -= inactive
				}
				break
			}
		}
	}
	return &memoryObservation{used: used, limit: limit, source: memorySourceCgroup}, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func round2(v float64) float64 {
	return math.Round(v*100) / 100
}
