// Package pgtest starts throwaway PostgreSQL servers for tests: initdb in a
// temporary directory, postgres listening only on a Unix socket inside it,
// stopped and removed when the test ends. Each server is its own, so tests
// never depend on a server left running by hand, nor on each other.
//
// The binaries come from Debian's postgresql package (/usr/lib/postgresql/
// VERSION/bin, the newest first) or $EDGEWISE_PG_BIN. PostgreSQL refuses to
// run as root, so as root the server runs as the postgres system user
// (setpriv). A missing binary or user fails the test with what to install;
// it never skips.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running PostgreSQL server.
type Server struct {
	// DSN connects as the superuser to the database "edgewise", over the
	// server's Unix socket (a postgres:// URL with host set to the socket's
	// directory).
	DSN string
	// Dir holds the cluster and the socket.
	Dir string

	bin   string
	data  string
	owner *user.User // nil when the test itself may run postgres
	cmd   *exec.Cmd

	durable bool

	mu        sync.Mutex
	databases int
}

// Start starts a server for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return startFor(t, false)
}

// Durable starts a server for t that syncs its writes to disk as a
// production server does (fsync and full-page writes on): for benchmarks,
// whose figures must include what durability costs.
func Durable(t testing.TB) *Server {
	t.Helper()
	return startFor(t, true)
}

func startFor(t testing.TB, durable bool) *Server {
	t.Helper()
	s, err := start(durable)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// New starts a server that the caller stops: for a package's TestMain, so
// that its tests share one server (each with a database of its own, see
// Database).
func New() (*Server, error) { return start(false) }

// Database creates a new, empty database for t and returns its DSN. It is
// dropped when t ends.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.databases++
	name := fmt.Sprintf("test_%d", s.databases)
	s.mu.Unlock()
	if out, err := s.command("psql", "-h", s.Dir, "-U", "postgres", "-d", "postgres", "-Atc", "CREATE DATABASE "+name).CombinedOutput(); err != nil {
		t.Fatalf("pgtest: creating database %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		s.command("psql", "-h", s.Dir, "-U", "postgres", "-d", "postgres", "-Atc", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").Run()
	})
	return "postgres://postgres@/" + name + "?host=" + s.Dir + "&sslmode=disable"
}

// Bin finds the directory of PostgreSQL's binaries.
func Bin() (string, error) {
	if dir := os.Getenv("EDGEWISE_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("EDGEWISE_PG_BIN=%s has no initdb", dir)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL binaries in /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql), or set EDGEWISE_PG_BIN to the folder holding initdb and postgres")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func start(durable bool) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, durable: durable}
	if os.Geteuid() == 0 {
		if s.owner, err = user.Lookup("postgres"); err != nil {
			return nil, errors.New("running as root, and there is no postgres user to run the server as: install Debian's postgresql package, which makes it")
		}
	}
	// Under /tmp, not t.TempDir: a Unix socket's path must stay short, and
	// the postgres user must be able to reach it.
	if s.Dir, err = os.MkdirTemp("", "edgewise-pg-"); err != nil {
		return nil, err
	}
	s.data = filepath.Join(s.Dir, "data")
	if err := s.chown(s.Dir); err != nil {
		s.remove()
		return nil, err
	}
	if out, err := s.command("initdb", "-D", s.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C").CombinedOutput(); err != nil {
		s.remove()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	s.cmd = s.postgres()
	var log strings.Builder
	s.cmd.Stdout, s.cmd.Stderr = &log, &log
	if err := s.cmd.Start(); err != nil {
		s.remove()
		return nil, fmt.Errorf("postgres: %v", err)
	}
	sock := filepath.Join(s.Dir, ".s.PGSQL.5432")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			if out, err := s.command("psql", "-h", s.Dir, "-U", "postgres", "-d", "postgres", "-Atc", "CREATE DATABASE edgewise").CombinedOutput(); err == nil {
				break
			} else if time.Now().After(deadline) {
				s.Stop()
				return nil, fmt.Errorf("creating the database: %v\n%s", err, out)
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("postgres did not listen within 30 s:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.DSN = "postgres://postgres@/edgewise?host=" + s.Dir + "&sslmode=disable"
	return s, nil
}

// postgres is the server's command: a socket only, and tuned for tests.
// fsync is off (an operating system crash is not what tests make), but
// commits still wait for the WAL to be written, so a server killed with
// SIGKILL keeps every commit it acknowledged, as a production one does.
func (s *Server) postgres() *exec.Cmd {
	sync := "off"
	if s.durable {
		sync = "on"
	}
	return s.command("postgres", "-D", s.data, "-k", s.Dir, "-c", "listen_addresses=",
		"-c", "fsync="+sync, "-c", "full_page_writes="+sync, "-c", "max_connections=100")
}

// command runs a PostgreSQL binary, as the postgres user when the test runs
// as root.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.owner != nil {
		cmd = exec.Command("setpriv", append([]string{"--reuid=" + s.owner.Uid, "--regid=" + s.owner.Gid, "--init-groups", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Dir = s.Dir
	return cmd
}

func (s *Server) chown(dir string) error {
	if s.owner == nil {
		return nil
	}
	uid, _ := strconv.Atoi(s.owner.Uid)
	gid, _ := strconv.Atoi(s.owner.Gid)
	return os.Chown(dir, uid, gid)
}

// Kill stops the server at once (SIGKILL to the postmaster's process,
// which setpriv execs into), as a crash would.
func (s *Server) Kill() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
	return nil
}

// Shutdown stops the server the way an operator's restart does (fast
// mode: open transactions roll back, sessions are ended), keeping its data
// for Restart.
func (s *Server) Shutdown() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	err := s.cmd.Wait()
	s.cmd = nil
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // setpriv reports the signal postgres exited on
	}
	return err
}

// Restart starts a stopped or killed server again on the same directory
// and socket.
func (s *Server) Restart(ctx context.Context) error {
	if s.cmd != nil {
		return errors.New("the server is running")
	}
	s.cmd = s.postgres()
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for {
		if out, err := s.command("pg_isready", "-h", s.Dir, "-U", "postgres", "-d", "edgewise").CombinedOutput(); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("postgres did not come back: %v\n%s", ctx.Err(), out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down (fast mode: open transactions roll back) and
// removes its directory.
func (s *Server) Stop() error {
	defer s.remove()
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	return nil
}

func (s *Server) remove() {
	if s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}
