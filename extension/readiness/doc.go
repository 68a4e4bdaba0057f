//go:generate go tool mdatagen metadata.yaml

// Package readiness implements the readiness extension: /livez, /health and /ready
// endpoints for Kubernetes probes and load balancers, computed from the status of every
// pipeline component and from the dependency probe results that the health_probe
// receiver reports.
package readiness // import "github.com/procode-ai/otelcol-procode/extension/readiness"
