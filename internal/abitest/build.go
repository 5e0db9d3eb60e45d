package abitest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgewise/edgewise/internal/build/wasmseg"
)

// EnsureWasm returns the path of dist/edgewise.wasm under repoRoot, building
// it first when it is missing or older than any Go source it is built from:
// a stale artifact would test yesterday's code. It builds it as the Makefile
// does, linking and then merging data segments (internal/build/wasmseg), so
// tests run the file that ships. Test binaries of several packages may call
// it at once, so the build lands by an atomic rename.
func EnsureWasm(repoRoot string) (string, error) {
	wasmPath, err := filepath.Abs(filepath.Join(repoRoot, "dist", "edgewise.wasm"))
	if err != nil {
		return "", err
	}
	if info, err := os.Stat(wasmPath); err == nil {
		newest, err := newestSource(repoRoot)
		if err != nil {
			return "", err
		}
		if info.ModTime().After(newest) {
			return wasmPath, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(wasmPath), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(wasmPath), ".edgewise-*.wasm")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", tmp.Name(), "./wasm")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", err
	}
	linked, err := os.ReadFile(tmp.Name())
	if err != nil {
		return "", err
	}
	merged, err := wasmseg.Merge(linked)
	if err != nil {
		return "", fmt.Errorf("merge data segments: %w", err)
	}
	if err := os.WriteFile(tmp.Name(), merged, 0o644); err != nil {
		return "", err
	}
	return wasmPath, os.Rename(tmp.Name(), wasmPath)
}

// builtIntoWasm reports whether a file under engine, internal or wasm is part
// of the module: Go sources, and the data the engine embeds.
func builtIntoWasm(path string) bool {
	if strings.Contains(filepath.ToSlash(path), "/testdata/") {
		return false
	}
	if strings.HasSuffix(path, ".go") {
		return !strings.HasSuffix(path, "_test.go")
	}
	return strings.HasSuffix(path, ".tsv")
}

// notInWasm are the directories under engine, internal and wasm whose
// packages the wasm does not link (host-side tools), so editing them does
// not rebuild it. The Makefile's GO_SOURCES leaves out the same.
// internal/build is not linked either but stays out of this list: its
// segment merger shapes the artifact, so editing it rebuilds the wasm.
var notInWasm = map[string]bool{"internal/sim": true, "internal/feedbuild": true, "internal/feedsrc": true}

func newestSource(repoRoot string) (time.Time, error) {
	var newest time.Time
	consider := func(path string) error {
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		return nil
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := consider(filepath.Join(repoRoot, f)); err != nil {
			return newest, err
		}
	}
	for _, dir := range []string{"engine", "internal", "wasm"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && notInWasm[filepath.ToSlash(strings.TrimPrefix(path, repoRoot+string(filepath.Separator)))] {
				return fs.SkipDir
			}
			if err != nil || d.IsDir() || !builtIntoWasm(path) {
				return err
			}
			return consider(path)
		})
		if err != nil {
			return newest, err
		}
	}
	return newest, nil
}
