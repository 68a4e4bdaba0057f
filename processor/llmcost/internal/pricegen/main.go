// Command pricegen builds the llm_cost processor's embedded price table from the
// genai-prices data file kept in the repository (third_party/genai-prices/data.json,
// extracted from the @pydantic/genai-prices npm package by `make update-prices`). It
// keeps facts only: provider and model ids, match rules, fallbacks, prices per million
// tokens, tiers and the dates or times of day from which prices apply.
//
//	go run ./internal/pricegen -out internal/pricing/table.json [-diff old-table.json]
//
// With -diff it prints what changed for the mainstream providers against an older table.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/procode-ai/otelcol-procode/processor/llmcost/internal/pricing"
)

// DataDir is where the data file and its source record live, from the repository root.
const DataDir = "third_party/genai-prices"

// Source describes where the data file came from (third_party/genai-prices/source.json,
// written by `make update-prices`).
type Source struct {
	Package   string `json:"package"`
	Version   string `json:"version"`
	Published string `json:"published"` // RFC 3339, from the registry
	Integrity string `json:"integrity"`
}

func main() {
	dir := flag.String("data", "", "directory with data.json and source.json (default: "+DataDir+" of the repository)")
	out := flag.String("out", "internal/pricing/table.json", "output file")
	diff := flag.String("diff", "", "an older table to compare the new one with (prints changes for mainstream providers)")
	flag.Parse()
	if err := run(*dir, *out, *diff); err != nil {
		fmt.Fprintln(os.Stderr, "pricegen:", err)
		os.Exit(1)
	}
}

func run(dir, out, diff string) error {
	if dir == "" {
		root, err := RepoRoot(".")
		if err != nil {
			return err
		}
		dir = filepath.Join(root, DataDir)
	}
	table, err := Generate(dir)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, table, 0o644); err != nil {
		return err
	}
	if diff != "" {
		old, err := os.ReadFile(diff)
		if err != nil {
			return err
		}
		return PrintChanges(os.Stdout, old, table)
	}
	return nil
}

// Generate makes the table from the data directory.
func Generate(dir string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, "data.json"))
	if err != nil {
		return nil, err
	}
	src, err := ReadSource(dir)
	if err != nil {
		return nil, err
	}
	published, _ := time.Parse(time.RFC3339, src.Published)
	return pricing.GenerateTable(data, published.UTC().Format(time.DateOnly), src.Package+" "+src.Version)
}

// ReadSource reads and checks source.json.
func ReadSource(dir string) (Source, error) {
	var s Source
	b, err := os.ReadFile(filepath.Join(dir, "source.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("source.json: %w", err)
	}
	if _, err := time.Parse(time.RFC3339, s.Published); err != nil {
		return s, fmt.Errorf("source.json: published %q is not an RFC 3339 time", s.Published)
	}
	if s.Package == "" || s.Version == "" {
		return s, errors.New("source.json: package and version are required")
	}
	return s, nil
}

// RepoRoot finds the directory holding go.mod at or above start.
func RepoRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above %s", start)
		}
		dir = parent
	}
}
