package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// faultTestFiles hold the tests RELIABILITY.md must describe, each by name.
var faultTestFiles = []string{
	"sentry_faults_test.go", "healthprobe_faults_test.go", "overload_test.go", "backend_faults_test.go",
	"secrets_test.go", "exposure_test.go", "config_errors_test.go",
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Z]\w*)\(`)

// repoTests maps each Test and Fuzz function of the repository to the directory of its
// package, relative to the root.
func repoTests(t *testing.T) map[string][]string {
	t.Helper()
	root := harness.RepoRoot()
	found := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "_build" || d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
			found[m[1]] = append(found[m[1]], rel)
		}
		return nil
	})
	require.NoError(t, err)
	return found
}

// TestReliabilityDocMatchesTests keeps RELIABILITY.md and the Makefile honest: every test
// and fuzz target the document names exists, every fault test is described, and every
// fuzz target of the repository runs in make fuzz-short.
func TestReliabilityDocMatchesTests(t *testing.T) {
	root := harness.RepoRoot()
	doc, err := os.ReadFile(filepath.Join(root, "RELIABILITY.md"))
	require.NoError(t, err)
	tests := repoTests(t)

	named := regexp.MustCompile("`((?:Test|Fuzz)[A-Z]\\w*)`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, named)
	for _, m := range named {
		_, ok := tests[m[1]]
		assert.True(t, ok, "RELIABILITY.md names %s, which no test file defines", m[1])
	}

	for _, f := range faultTestFiles {
		b, err := os.ReadFile(filepath.Join(root, "tests", f))
		require.NoError(t, err)
		for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
			assert.True(t, strings.Contains(string(doc), "`"+m[1]+"`"), "RELIABILITY.md does not describe %s (tests/%s)", m[1], f)
		}
	}

	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	listed := map[string]string{}
	for _, m := range regexp.MustCompile(`\./([\w/]+):(Fuzz\w+)`).FindAllStringSubmatch(string(makefile), -1) {
		listed[m[2]] = m[1]
	}
	var fuzz []string
	for name, dirs := range tests {
		if strings.HasPrefix(name, "Fuzz") {
			fuzz = append(fuzz, name)
			for _, dir := range dirs {
				assert.Equal(t, dir, listed[name], "%s (%s) is not in the Makefile's FUZZ_TARGETS as ./%s:%s", name, dir, dir, name)
			}
			assert.True(t, strings.Contains(string(doc), "`"+name+"`"), "RELIABILITY.md does not describe %s", name)
		}
	}
	sort.Strings(fuzz)
	assert.Len(t, listed, len(fuzz), "FUZZ_TARGETS %v, fuzz functions %v", listed, fuzz)
}
