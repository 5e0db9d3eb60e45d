package ruleset

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// wasmList runs go list with args for GOOS=wasip1 GOARCH=wasm, as the wasm
// is built, from the repository root, and returns the packages it lists.
func wasmList(t *testing.T, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	cmd := exec.Command(goTool, append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

// The engine and the wasm module must not link this package or its YAML
// and JSON Schema libraries, nor the build-time checks (engine/buildtime
// and the sensitive-category lexicon, engine/lexicon): they have no place
// in the bundle browsers download.
func TestWasmBundleHasNoToolDependencies(t *testing.T) {
	out := wasmList(t, "-e", "-deps", "./wasm", "./engine")
	for _, pkg := range out {
		for _, banned := range []string{
			"github.com/edgewise/edgewise/ruleset",
			"github.com/edgewise/edgewise/engine/buildtime",
			"github.com/edgewise/edgewise/engine/lexicon",
			"github.com/goccy/go-yaml",
			"github.com/invopop/jsonschema",
			"github.com/santhosh-tekuri/jsonschema",
			"golang.org/x/text",
			// The reference codec runs on hosts; the wasm has generated ones.
			"github.com/vmihailenco/msgpack",
			"github.com/edgewise/edgewise/internal/refcodec",
			"github.com/edgewise/edgewise/internal/build",
			// sort.SliceStable links reflection's swapper: 6 KiB of brotli
			// for sorting a short list (engine/describe.go sorts by hand).
			"sort",
		} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("the wasm build depends on %s", pkg)
			}
		}
	}
}

// The wasm module's own packages are exactly the device part of the
// repository, so `go list -deps ./wasm` shows what runs on a visitor's
// device. A new package here is a decision: it ships to every browser.
func TestWasmLinksOnlyTheDevicePackages(t *testing.T) {
	out := wasmList(t, "-deps", "./wasm")
	const module = "github.com/edgewise/edgewise"
	var got []string
	for _, pkg := range out {
		if pkg == module || strings.HasPrefix(pkg, module+"/") {
			got = append(got, strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/"))
		}
	}
	slices.Sort(got)
	want := []string{"engine", "engine/geo", "engine/textnorm", "internal/abi", "internal/edverify", "internal/mp", "internal/quote", "internal/sha2", "internal/wire", "wasm"}
	if !slices.Equal(got, want) {
		t.Errorf("the wasm links %q, want exactly %q", got, want)
	}
}
