// Package allocbudget measures how many heap bytes a call allocates, so that fuzz
// tests can hold parsers of untrusted input to a budget proportional to the input:
// a parser that allocates far more than its input (an expanding alias, a quadratic
// copy) fails the property instead of exhausting the collector's memory.
package allocbudget // import "github.com/procode-ai/otelcol-procode/internal/allocbudget"

import (
	"fmt"
	"runtime"
)

// Bytes returns the heap bytes allocated while fn ran. It stops the world twice
// (runtime.ReadMemStats), so use it in tests, not on a hot path. Allocations by
// other goroutines in the same window are counted too; fuzz targets run one input at
// a time, so they only make the figure larger, never smaller.
func Bytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Check runs fn and returns an error when it allocated more than perInputByte bytes
// for each byte of input plus fixed.
func Check(inputLen int, perInputByte, fixed uint64, fn func()) error {
	got := Bytes(fn)
	budget := uint64(inputLen)*perInputByte + fixed
	if got > budget {
		return fmt.Errorf("allocated %d bytes for %d bytes of input, more than the budget of %d (%d per input byte + %d)",
			got, inputLen, budget, perInputByte, fixed)
	}
	return nil
}
