package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A module with one page of memory and two touching segments at 16 and 17.
var twoSegments = []byte("\x00asm\x01\x00\x00\x00" +
	"\x05\x03\x01\x00\x01" +
	"\x0b\x0d\x02\x00\x41\x10\x0b\x01\xaa\x00\x41\x11\x0b\x01\xbb")

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wasm"), filepath.Join(dir, "out.wasm")
	if err := os.WriteFile(in, twoSegments, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-o", out, in}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("\x00asm\x01\x00\x00\x00" +
		"\x05\x03\x01\x00\x01" +
		"\x0b\x08\x01\x00\x41\x10\x0b\x02\xaa\xbb")
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

// Bad input fails naming the file and the offset, and writes nothing.
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wasm"), filepath.Join(dir, "out.wasm")
	if err := os.WriteFile(in, twoSegments[:len(twoSegments)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	err := run([]string{"-o", out, in})
	if err == nil || !strings.Contains(err.Error(), in) || !strings.Contains(err.Error(), "offset 13") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("wrote %s anyway", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left files behind: %v", entries)
	}
	if err := run([]string{in}); err == nil {
		t.Fatal("ran without -o")
	}
}
