package ruleset

import (
	"testing"
)

// Nothing the wasm links, directly or not, is one of the standard packages
// that cost it most for what the engine would use of them: fmt (with
// reflection and os), time (about 35 KB brotli; engine/civil.go does the
// date arithmetic), embed (34 KB; engine/geo's table is a generated string
// constant), encoding/hex (56 KB; KeyID.String is a loop), os and log. The
// messages are read and written by generated codecs (internal/mp), not
// msgpack/v5, which brought most of them in.
func TestWasmLinksNoCostlyStandardPackages(t *testing.T) {
	pkgs := wasmList(t, "-deps", "./wasm")
	if len(pkgs) < 10 {
		t.Fatalf("go list -deps ./wasm printed only %q", pkgs)
	}
	for _, pkg := range pkgs {
		switch pkg {
		case "time", "embed", "encoding/hex", "os", "log", "fmt", "encoding/json":
			t.Errorf("the wasm links %s", pkg)
		}
	}
}
