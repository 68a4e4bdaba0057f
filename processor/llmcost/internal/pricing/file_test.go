package pricing

import (
	"os"
	"path/filepath"
	"testing"
)

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readShared reads a file of ../shared/data/pricing beside the repository root (or a
// parent of it, for worktrees). The data is part of the project's checkout layout, so
// its absence fails the test rather than skipping it.
func readShared(t *testing.T, name string) []byte {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "..", "shared", "data", "pricing", name)
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("%s not found in ../shared/data/pricing of any parent directory", name)
		}
		dir = parent
	}
}
