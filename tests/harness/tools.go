package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the suite runs under CI (CI=true), where a missing server or tool
// is a failure, never a skip.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// RequireCommand returns the path of command name. When it is missing the test fails
// under CI and is skipped elsewhere, naming the Debian package that provides it.
func RequireCommand(t testing.TB, name, aptPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found: install the " + aptPackage + " package (make test does it when run as root)"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
