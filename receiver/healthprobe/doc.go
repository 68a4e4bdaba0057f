//go:generate mdatagen metadata.yaml

// Package healthprobe implements the health_probe receiver: it probes dependencies
// (HTTP, TCP, PostgreSQL, disk, memory) on an interval, emits one set of probe metrics per
// run and reports each result to the readiness extension.
package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"
