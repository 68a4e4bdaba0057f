package healthprobe

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

// pgServer is a throwaway PostgreSQL cluster on a free loopback port, made with initdb
// and run with pg_ctl from the system's PostgreSQL packages.
type pgServer struct {
	t        *testing.T
	bin      string
	dir      string // data directory
	port     int
	user     string
	password string
	cred     *syscall.Credential // run as postgres when we are root
}

// startPostgreSQL starts a cluster whose superuser is "probe" with a password (scram).
// Without PostgreSQL installed the test skips, except under CI=true, where it fails.
func startPostgreSQL(t *testing.T) *pgServer {
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
	s := &pgServer{t: t, bin: bin, dir: filepath.Join(root, "data"), user: "probe", password: "pr0be-Secret"}
	t.Cleanup(func() {
		s.stop()
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
	require.NoError(t, os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600))
	if s.cred != nil {
		require.NoError(t, os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)))
		require.NoError(t, os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid)))
		require.NoError(t, os.Chown(root, int(s.cred.Uid), int(s.cred.Gid)))
	}
	s.run("initdb", "-D", s.dir, "-U", s.user, "--pwfile="+pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync")
	s.port = freePort(t)
	s.start()
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

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *pgServer) run(name string, args ...string) {
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

// start runs the server on s.port, listening on 127.0.0.1 only, and waits for it.
func (s *pgServer) start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", s.port, filepath.Dir(s.dir))
	s.run("pg_ctl", "-D", s.dir, "-o", opts, "-l", filepath.Join(filepath.Dir(s.dir), "server.log"), "-w", "-t", "60", "start")
}

// stop shuts the server down at once (fast mode); safe when it is not running.
func (s *pgServer) stop() {
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

// waitStopped waits until the server no longer accepts connections.
func (s *pgServer) waitStopped() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("PostgreSQL still accepts connections after stop")
}
