package healthprobe

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

func diskProbe(free, total uint64, err error) (*runner, *diskProber) {
	p := defaultProbeConfig()
	p.Name, p.Type, p.Category = "disk_root", typeDisk, "system"
	r := &runner{cfg: &p, probeTyp: metadata.AttributeProbeTypeDisk, timeout: 5e9}
	dp := newDiskProber(&p)
	dp.statfs = func(string) (uint64, uint64, error) { return free, total, err }
	r.prober = dp
	return r, dp
}

func TestDiskThresholds(t *testing.T) {
	const gb = 1 << 30
	tests := []struct {
		name    string
		free    uint64
		status  health.Status
		ok      bool
		message string
	}{
		{"plenty", 150 * gb, health.StatusHealthy, true, "Disk space OK (75.0% free)"},
		{"low", 30 * gb, health.StatusDegraded, true, "Disk space low (15.0% free, below 20%)"},
		{"critical", 10 * gb, health.StatusUnhealthy, false, "Disk space critical (5.0% free, below 10%)"},
		{"at_degraded_edge", 40 * gb, health.StatusHealthy, true, "Disk space OK (20.0% free)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := diskProbe(tt.free, 200*gb, nil)
			res := r.execute(t.Context())
			assert.Equal(t, tt.ok, res.outcome.ok)
			assert.Equal(t, tt.status, res.status)
			assert.Equal(t, tt.message, res.message)
			require.NotNil(t, res.outcome.disk)
			assert.Equal(t, tt.free, res.outcome.disk.free)
			d := r.result(res).Details
			assert.InDelta(t, float64(tt.free)/gb, d["free_gb"], 0.01)
			assert.InDelta(t, 200.0, d["total_gb"], 0.01)
			assert.InDelta(t, float64(tt.free)/(200*gb)*100, d["free_percent"], 0.01)
			if !tt.ok {
				assert.Equal(t, metadata.AttributeErrorTypeThreshold, res.outcome.errorType)
			}
		})
	}
}

func TestDiskConfigurableThresholds(t *testing.T) {
	r, _ := diskProbe(30<<30, 100<<30, nil)
	r.cfg.DegradedFreePercent, r.cfg.UnhealthyFreePercent = 50, 40
	res := r.execute(t.Context())
	assert.Equal(t, health.StatusUnhealthy, res.status)
	assert.Equal(t, "Disk space critical (30.0% free, below 40%)", res.message)
}

func TestDiskStatError(t *testing.T) {
	r, _ := diskProbe(0, 0, errors.New("no such file or directory"))
	res := r.execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeOther, res.outcome.errorType)
	assert.Contains(t, res.message, "statfs /: no such file or directory")
}

func TestDiskHungFilesystemCostsOnlyTimeouts(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	r, dp := diskProbe(0, 0, nil)
	r.timeout = 50 * time.Millisecond
	dp.statfs = func(string) (uint64, uint64, error) {
		calls.Add(1)
		<-release
		return 150 << 30, 200 << 30, nil
	}
	res := r.execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeTimeout, res.outcome.errorType)
	// The call is still blocked: the next run does not pile another one on top.
	res = r.execute(t.Context())
	assert.Equal(t, metadata.AttributeErrorTypeTimeout, res.outcome.errorType)
	assert.Equal(t, int32(1), calls.Load())
	close(release)
	require.Eventually(t, func() bool {
		res = r.execute(t.Context())
		return res.outcome.ok
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, health.StatusHealthy, res.status)
}

func TestDiskRealFilesystem(t *testing.T) {
	p := defaultProbeConfig()
	p.Name, p.Type, p.Path = "tmp", typeDisk, t.TempDir()
	p.DegradedFreePercent, p.UnhealthyFreePercent = 0, 0
	res := newTestRunner(t, p).execute(t.Context())
	require.True(t, res.outcome.ok, res.message)
	assert.Positive(t, res.outcome.disk.total)
	assert.LessOrEqual(t, res.outcome.disk.free, res.outcome.disk.total)
}

// fakeSystem writes /proc and cgroup files into a temp dir.
func fakeSystem(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	return root
}

func memoryProbe(t *testing.T, source string, files map[string]string) *runner {
	t.Helper()
	root := fakeSystem(t, files)
	p := defaultProbeConfig()
	p.Name, p.Type, p.Source = "memory", typeMemory, source
	mp := newMemoryProber(&p)
	mp.procRoot, mp.cgroupRoot = filepath.Join(root, "proc"), filepath.Join(root, "cgroup")
	return &runner{cfg: &p, probeTyp: metadata.AttributeProbeTypeMemory, timeout: 5e9, prober: mp}
}

const meminfo = "MemTotal:       16777216 kB\nMemFree:         1000000 kB\nMemAvailable:    8388608 kB\n"

func TestMemoryHost(t *testing.T) {
	r := memoryProbe(t, memorySourceAuto, map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/\n"})
	res := r.execute(t.Context())
	require.True(t, res.outcome.ok, res.message)
	assert.Equal(t, "Memory usage OK (50.0% used)", res.message)
	assert.Equal(t, memorySourceHost, res.outcome.memory.source)
	d := r.result(res).Details
	assert.InDelta(t, 8.0, d["used_gb"], 0.001)
	assert.InDelta(t, 16.0, d["total_gb"], 0.001)
	assert.InDelta(t, 50.0, d["used_percent"], 0.001)
}

func TestMemoryCgroupLimit(t *testing.T) {
	files := map[string]string{
		"proc/meminfo":                            meminfo,
		"proc/self/cgroup":                        "0::/kubepods/pod1/ctr\n",
		"cgroup/kubepods/pod1/ctr/memory.max":     "1073741824\n",
		"cgroup/kubepods/pod1/ctr/memory.current": "1020054732\n",
		"cgroup/kubepods/pod1/ctr/memory.stat":    "anon 900000000\ninactive_file 100000000\nactive_file 5\n",
	}
	r := memoryProbe(t, memorySourceAuto, files)
	res := r.execute(t.Context())
	require.True(t, res.outcome.ok, res.message)
	assert.Equal(t, memorySourceCgroup, res.outcome.memory.source)
	assert.Equal(t, uint64(1020054732-100000000), res.outcome.memory.used)
	assert.Equal(t, uint64(1073741824), res.outcome.memory.limit)
	assert.Equal(t, health.StatusDegraded, res.status, "85.7%% used is above 80%%: %s", res.message)
	assert.Equal(t, "Memory usage high (85.7% used, above 80%)", res.message)

	// Forcing the host source ignores the cgroup.
	r = memoryProbe(t, memorySourceHost, files)
	res = r.execute(t.Context())
	assert.Equal(t, memorySourceHost, res.outcome.memory.source)
}

func TestMemoryUnhealthyAboveThreshold(t *testing.T) {
	files := map[string]string{
		"proc/self/cgroup":      "0::/\n",
		"cgroup/memory.max":     "1000\n",
		"cgroup/memory.current": "950\n",
	}
	r := memoryProbe(t, memorySourceCgroup, files)
	res := r.execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, metadata.AttributeErrorTypeThreshold, res.outcome.errorType)
	assert.Equal(t, health.StatusUnhealthy, res.status)
	assert.Equal(t, "Memory usage critical (95.0% used, above 90%)", res.message)
}

func TestMemoryCgroupWithoutLimit(t *testing.T) {
	files := map[string]string{
		"proc/meminfo":          meminfo,
		"proc/self/cgroup":      "0::/\n",
		"cgroup/memory.max":     "max\n",
		"cgroup/memory.current": "950\n",
	}
	// auto falls back to the host ...
	res := memoryProbe(t, memorySourceAuto, files).execute(t.Context())
	require.True(t, res.outcome.ok, res.message)
	assert.Equal(t, memorySourceHost, res.outcome.memory.source)
	// ... an explicit cgroup source says why it cannot answer.
	res = memoryProbe(t, memorySourceCgroup, files).execute(t.Context())
	assert.False(t, res.outcome.ok)
	assert.Equal(t, "no cgroup v2 memory limit applies to this process", res.message)
}

func TestMemoryRealHost(t *testing.T) {
	p := defaultProbeConfig()
	p.Name, p.Type = "memory", typeMemory
	p.DegradedUsedPercent, p.UnhealthyUsedPercent = 100, 100
	res := newTestRunner(t, p).execute(t.Context())
	require.True(t, res.outcome.ok, res.message)
	assert.Positive(t, res.outcome.memory.limit)
	assert.LessOrEqual(t, res.outcome.memory.used, res.outcome.memory.limit)
}
