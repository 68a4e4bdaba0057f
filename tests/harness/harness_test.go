package harness

import (
	"fmt"
	"net"
	"testing"
)

// FreePort's ports lie below the kernel's ephemeral range (where no outgoing connection
// or port-0 listener can take them), are never handed out twice, and can be bound.
func TestFreePortOutsideEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	seen := map[int]bool{}
	for range 200 {
		p := FreePort(t)
		if p >= low || p < 1024 {
			t.Fatalf("port %d is not below the ephemeral range starting at %d", p, low)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
	for p := range seen {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d cannot be bound: %v", p, err)
		}
		_ = l.Close()
	}
}
