package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file holds what the fault-injection tests need: a gate that takes a backend
// down and up again on the same address, a black hole that accepts connections and
// never answers, and readings of the collector process from /proc.

// PID is the collector's process id.
func (c *Collector) PID() int { return c.cmd.Process.Pid }

// Addr is the Sentry test server's host:port.
func (s *SentryServer) Addr() string { return s.ln.Addr().String() }

// Gate is a TCP proxy in front of a backend that a test can switch off (the address
// refuses connections and open connections are cut, as when the backend's host goes
// away) and on again (on the same address).
type Gate struct {
	t       testing.TB
	addr    string
	backend string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewGate listens on a free loopback port and forwards every connection to backend
// (host:port). It is up at first and closes at the end of the test.
func NewGate(t testing.TB, backend string) *Gate {
	t.Helper()
	g := &Gate{t: t, backend: backend, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gate: %v", err)
	}
	g.addr = ln.Addr().String()
	g.serve(ln)
	t.Cleanup(func() {
		g.Down()
		g.wg.Wait()
	})
	return g
}

// Addr is the gate's host:port.
func (g *Gate) Addr() string { return g.addr }

// Down closes the listener and every open connection: new connections are refused.
func (g *Gate) Down() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		_ = g.ln.Close()
		g.ln = nil
	}
	for c := range g.conns {
		_ = c.Close()
	}
}

// Up listens on the same address again.
func (g *Gate) Up() {
	g.t.Helper()
	var ln net.Listener
	var err error
	// The port was ours a moment ago; the kernel may hold it briefly.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", g.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		g.t.Fatalf("gate up on %s: %v", g.addr, err)
	}
	g.serve(ln)
}

func (g *Gate) serve(ln net.Listener) {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				g.forward(c)
			}()
		}
	}()
}

func (g *Gate) track(c net.Conn, add bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if add {
		if g.ln == nil {
			return false // went down meanwhile
		}
		g.conns[c] = struct{}{}
	} else {
		delete(g.conns, c)
	}
	return true
}

func (g *Gate) forward(c net.Conn) {
	defer c.Close()
	b, err := net.Dial("tcp", g.backend)
	if err != nil {
		return
	}
	defer b.Close()
	if !g.track(c, true) {
		return
	}
	defer g.track(c, false)
	if !g.track(b, true) {
		return
	}
	defer g.track(b, false)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
	<-done
}

// BlackHole accepts TCP connections and never answers: a hung service. It counts the
// connections its peers still hold open, so that a test can tell whether a client
// gives up on hung connections or leaks them.
type BlackHole struct {
	ln       net.Listener
	mu       sync.Mutex
	open     int
	accepted int
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// NewBlackHole listens on a free loopback port until the end of the test.
func NewBlackHole(t testing.TB) *BlackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("black hole: %v", err)
	}
	h := &BlackHole{ln: ln, conns: map[net.Conn]struct{}{}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.open++
			h.accepted++
			h.conns[c] = struct{}{}
			h.mu.Unlock()
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				// Read (and drop) whatever the peer sends until it closes.
				_, _ = io.Copy(io.Discard, c)
				h.mu.Lock()
				h.open--
				delete(h.conns, c)
				h.mu.Unlock()
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		h.mu.Lock()
		for c := range h.conns {
			_ = c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
	})
	return h
}

// Addr is the black hole's host:port.
func (h *BlackHole) Addr() string { return h.ln.Addr().String() }

// Open is the number of connections the peers have not closed yet; Accepted all
// connections so far.
func (h *BlackHole) Open() (open, accepted int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open, h.accepted
}

// OpenFDs counts the open file descriptors of process pid.
func OpenFDs(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

// RSS is the resident set size of process pid in bytes.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// ListeningSockets returns the local address of every TCP socket in LISTEN state that
// process pid holds, from /proc/<pid>/net/tcp and tcp6 matched to its file descriptors.
func ListeningSockets(pid int) ([]netip.AddrPort, error) {
	inodes := map[string]bool{}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var out []netip.AddrPort
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			ap, err := parseProcAddr(fields[1])
			if err != nil {
				_ = f.Close()
				return nil, err
			}
			out = append(out, ap)
		}
		_ = f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseProcAddr reads /proc/net/tcp's "0100007F:1F90" (the address as native-endian
// 32-bit words, the port big-endian hex).
func parseProcAddr(s string) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(raw); i += 4 { // each 32-bit word is little-endian on the hosts we run on
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q", s)
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

var goroutineTotal = regexp.MustCompile(`goroutine profile: total (\d+)`)

// Goroutines reads the goroutine count from a pprof extension's
// /debug/pprof/goroutine?debug=1 at pprofEndpoint (host:port).
func Goroutines(pprofEndpoint string) (int, error) {
	code, body, err := Get("http://" + pprofEndpoint + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	if code != 200 {
		return 0, fmt.Errorf("pprof goroutine profile: status %d", code)
	}
	m := goroutineTotal.FindStringSubmatch(body)
	if m == nil {
		return 0, errors.New("pprof goroutine profile: no total")
	}
	return strconv.Atoi(m[1])
}
