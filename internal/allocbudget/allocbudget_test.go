package allocbudget

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

var sink []byte

func TestCheck(t *testing.T) {
	if err := Check(10, 1, 64, func() {}); err != nil {
		t.Fatalf("a call that allocates nothing is within any budget: %v", err)
	}
	err := Check(10, 1, 64, func() { sink = make([]byte, 1<<20) })
	if err == nil || !strings.Contains(err.Error(), "more than the budget of 74") {
		t.Fatalf("1 MiB for 10 bytes of input must exceed 10*1+64: %v", err)
	}
	if got := Bytes(func() { sink = make([]byte, 4096) }); got < 4096 {
		t.Fatalf("Bytes = %d, want at least 4096", got)
	}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
