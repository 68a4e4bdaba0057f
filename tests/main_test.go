// Package tests holds the end-to-end tests: each runs the built otelcol-procode binary
// (see package harness) and talks to it only over its network endpoints.
package tests

import (
	"fmt"
	"os"
	"testing"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

func TestMain(m *testing.M) {
	// Build (or find) the binary once before any test starts a collector, so that no
	// test's timeout pays for the build.
	if _, err := harness.BinaryPath(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
