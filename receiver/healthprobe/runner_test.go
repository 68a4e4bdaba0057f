package healthprobe

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/procode-ai/otelcol-procode/internal/health"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

func TestStatusThresholds(t *testing.T) {
	pass := outcome{ok: true, message: "ok"}
	slowPass := outcome{ok: true, degraded: true, message: "low"}
	fail := outcome{errorType: metadata.AttributeErrorTypeTimeout, message: "timed out"}

	type step struct {
		o      outcome
		status health.Status
		msg    string
	}
	tests := []struct {
		name             string
		failure, success int
		steps            []step
	}{
		{"defaults_follow_each_run", 1, 1, []step{
			{pass, health.StatusHealthy, "ok"},
			{fail, health.StatusUnhealthy, "timed out"},
			{pass, health.StatusHealthy, "ok"},
			{slowPass, health.StatusDegraded, "low"},
		}},
		{"first_result_sets_status_directly", 3, 1, []step{
			{fail, health.StatusUnhealthy, "timed out"},
			{pass, health.StatusHealthy, "ok"},
		}},
		{"failure_threshold_holds_status", 3, 1, []step{
			{pass, health.StatusHealthy, "ok"},
			{fail, health.StatusHealthy, "failed 1 of 3 times allowed: timed out"},
			{fail, health.StatusHealthy, "failed 2 of 3 times allowed: timed out"},
			{fail, health.StatusUnhealthy, "timed out"},
			{fail, health.StatusUnhealthy, "timed out"},
		}},
		{"a_pass_resets_the_failure_count", 2, 1, []step{
			{pass, health.StatusHealthy, "ok"},
			{fail, health.StatusHealthy, "failed 1 of 2 times allowed: timed out"},
			{pass, health.StatusHealthy, "ok"},
			{fail, health.StatusHealthy, "failed 1 of 2 times allowed: timed out"},
		}},
		{"success_threshold_to_recover", 1, 3, []step{
			{fail, health.StatusUnhealthy, "timed out"},
			{pass, health.StatusUnhealthy, "recovering, 1 of 3 passes needed: ok"},
			{pass, health.StatusUnhealthy, "recovering, 2 of 3 passes needed: ok"},
			{pass, health.StatusHealthy, "ok"},
		}},
		{"a_failure_resets_recovery", 1, 2, []step{
			{fail, health.StatusUnhealthy, "timed out"},
			{pass, health.StatusUnhealthy, "recovering, 1 of 2 passes needed: ok"},
			{fail, health.StatusUnhealthy, "timed out"},
			{pass, health.StatusUnhealthy, "recovering, 1 of 2 passes needed: ok"},
			{slowPass, health.StatusDegraded, "low"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := defaultProbeConfig()
			p.FailureThreshold, p.SuccessThreshold = tt.failure, tt.success
			r := &runner{cfg: &p}
			for i, s := range tt.steps {
				status, msg := r.update(s.o, time.Millisecond)
				assert.Equal(t, s.status, status, "step %d", i)
				assert.Equal(t, s.msg, msg, "step %d", i)
			}
		})
	}
}

func TestDegradedLatency(t *testing.T) {
	p := defaultProbeConfig()
	p.DegradedLatency = 100 * time.Millisecond
	r := &runner{cfg: &p}
	status, msg := r.update(outcome{ok: true, message: "HTTP 200 in 150ms"}, 150*time.Millisecond)
	assert.Equal(t, health.StatusDegraded, status)
	assert.Equal(t, "HTTP 200 in 150ms; slower than degraded_latency 100ms", msg)
	status, _ = r.update(outcome{ok: true, message: "HTTP 200 in 50ms"}, 50*time.Millisecond)
	assert.Equal(t, health.StatusHealthy, status)
}

func TestErrorsCountedByType(t *testing.T) {
	p := defaultProbeConfig()
	r := &runner{cfg: &p}
	r.update(outcome{errorType: metadata.AttributeErrorTypeTimeout}, 0)
	r.update(outcome{errorType: metadata.AttributeErrorTypeTimeout}, 0)
	r.update(outcome{errorType: metadata.AttributeErrorTypeDNS}, 0)
	r.update(outcome{ok: true}, 0)
	assert.Equal(t, int64(2), r.errors[metadata.AttributeErrorTypeTimeout])
	assert.Equal(t, int64(1), r.errors[metadata.AttributeErrorTypeDNS])
	assert.Equal(t, int64(0), r.errors[metadata.AttributeErrorTypeOther])
}
