package pricing

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseGenAIPrices: the full genai-prices data file of the repository
// (1,694 models) converted, parsed, validated and indexed into a table, as a
// genai_prices source is on every change.
func BenchmarkParseGenAIPrices(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(repoRoot(b), "third_party", "genai-prices", "data.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseGenAIPrices(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
