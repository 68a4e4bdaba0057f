// Command pricegen builds the llm_cost processor's embedded price table from the
// genai-prices data file kept beside the repository (../shared/data/pricing). It keeps
// facts only: provider and model ids, match rules, prices per million tokens, tiers
// and the dates or times of day from which prices apply. Names, descriptions,
// comments and URLs are dropped.
//
//	go run ./internal/pricegen -out internal/pricing/table.json
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

const (
	sourceFile = "genai-prices-v2.json"
	sourceDir  = "shared/data/pricing"
	// sourceRef names the upstream file the snapshot was taken from.
	sourceRef = "pydantic/genai-prices prices/new_data/v2/data.json"
)

func main() {
	src := flag.String("source", "", "genai-prices v2 data file (default: ../shared/data/pricing/"+sourceFile+" from the repository root or a parent)")
	out := flag.String("out", "internal/pricing/table.json", "output file")
	version := flag.String("version", "", "pricing_version to record (default: the snapshot date in the data directory's README.md)")
	flag.Parse()
	if err := run(*src, *out, *version); err != nil {
		fmt.Fprintln(os.Stderr, "pricegen:", err)
		os.Exit(1)
	}
}

func run(src, out, version string) error {
	if src == "" {
		var err error
		if src, err = findSource("."); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if version == "" {
		if version, err = snapshotDate(filepath.Join(filepath.Dir(src), "README.md")); err != nil {
			return err
		}
	}
	table, err := generate(data, version)
	if err != nil {
		return err
	}
	return os.WriteFile(out, table, 0o644)
}

// findSource looks for shared/data/pricing beside the repository root, then beside
// each of its parents (a git worktree may sit deeper than the main checkout).
func findSource(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "..", sourceDir, sourceFile)
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found in ../%s from %s or any parent; pass -source", sourceFile, sourceDir, start)
		}
		dir = parent
	}
}

var readmeRow = regexp.MustCompile(`(?m)^\|\s*` + regexp.QuoteMeta(sourceFile) + `\s*\|[^|]*\|\s*(\d{4}-\d{2}-\d{2})\s*\|`)

// snapshotDate reads the snapshot date of the data file from the README table of the
// data directory.
func snapshotDate(readme string) (string, error) {
	b, err := os.ReadFile(readme)
	if err != nil {
		return "", fmt.Errorf("snapshot date: %w (or pass -version)", err)
	}
	m := readmeRow.FindSubmatch(b)
	if m == nil {
		return "", errors.New("snapshot date: no row for " + sourceFile + " with a YYYY-MM-DD date in " + readme + " (or pass -version)")
	}
	return string(m[1]), nil
}
