package geo

import (
	"bytes"
	"os"
	"testing"

	"github.com/edgewise/edgewise/internal/build/bin2go"
)

// TestRegionsBinIsGenerated: regions_bin.go is what go generate makes of
// regions.bin now, so the table the engine ships is the checked-in file.
func TestRegionsBinIsGenerated(t *testing.T) {
	data, err := os.ReadFile("regions.bin")
	if err != nil {
		t.Fatal(err)
	}
	if regionsBin != string(data) {
		t.Fatalf("regionsBin (%d bytes) is not regions.bin (%d bytes): run go generate ./engine/geo", len(regionsBin), len(data))
	}
	want, err := bin2go.Source("geo", "regionsBin", "regions.bin", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("regions_bin.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("regions_bin.go is not what bin2go makes of regions.bin: run go generate ./engine/geo")
	}
}
