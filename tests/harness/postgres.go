package harness // import "github.com/procode-ai/otelcol-procode/tests/harness"

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// PostgreSQL is a throwaway PostgreSQL cluster on a free loopback port, made with
// initdb and run with pg_ctl from the system's PostgreSQL packages.
type PostgreSQL struct {
	t    testing.TB
	bin  string
	dir  string              // data directory
	cred *syscall.Credential // run as postgres when we are root

	// Port is the server's port on 127.0.0.1; User and Password its superuser's login.
	Port     int
	User     string
	Password string
}

// StartPostgreSQL starts a cluster whose superuser "probe" logs in with a password
// (scram-sha-256) and stops and removes it when the test ends. Without PostgreSQL
// installed the test skips, except under CI=true, where it fails.
func StartPostgreSQL(t testing.TB) *PostgreSQL {
	t.Helper()
	bin := findPostgresBin()
	if bin == "" {
		msg := "PostgreSQL server binaries not found (initdb, pg_ctl in /usr/lib/postgresql/*/bin or PATH): install the postgresql package (make test-deps does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root, err := os.MkdirTemp("", "healthprobe-pg-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(root, 0o755)) //nolint:gosec // the postgres user must reach the data directory
	s := &PostgreSQL{t: t, bin: bin, dir: filepath.Join(root, "data"), User: "probe", Password: "pr0be-Secret"}
	t.Cleanup(func() {
		s.Stop()
		_ = os.RemoveAll(root)
	})

	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs the postgres system user (postgresql package)")
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	require.NoError(t, os.Mkdir(s.dir, 0o700))
	pwfile := filepath.Join(root, "pwfile")
	require.NoError(t, os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600))
	if s.cred != nil {
		require.NoError(t, os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)))
		require.NoError(t, os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid)))
		require.NoError(t, os.Chown(root, int(s.cred.Uid), int(s.cred.Gid)))
	}
	s.run("initdb", "-D", s.dir, "-U", s.User, "--pwfile="+pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync")
	s.Port = FreePort(t)
	s.Start()
	return s
}

func findPostgresBin() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1])
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func (s *PostgreSQL) run(name string, args ...string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = filepath.Dir(s.dir)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	require.NoError(s.t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
}

// Start runs the server on s.Port, listening on 127.0.0.1 only, and waits for it.
func (s *PostgreSQL) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", s.Port, filepath.Dir(s.dir))
	s.run("pg_ctl", "-D", s.dir, "-o", opts, "-l", filepath.Join(filepath.Dir(s.dir), "server.log"), "-w", "-t", "60", "start")
}

// Stop shuts the server down at once (fast mode); safe when it is not running.
func (s *PostgreSQL) Stop() {
	if _, err := os.Stat(filepath.Join(s.dir, "postmaster.pid")); err != nil {
		return
	}
	cmd := exec.Command(filepath.Join(s.bin, "pg_ctl"), "-D", s.dir, "-m", "fast", "-w", "-t", "60", "stop")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Logf("pg_ctl stop: %v\n%s", err, out)
	}
}

// WaitStopped waits until the server no longer accepts connections.
func (s *PostgreSQL) WaitStopped() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("PostgreSQL still accepts connections after stop")
}
