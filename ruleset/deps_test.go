package ruleset

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The engine and the wasm module must not link this package or its YAML
// and JSON Schema libraries: they have no place in the bundle browsers
// download.
func TestWasmBundleHasNoToolDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	cmd := exec.Command(goTool, "list", "-e", "-deps", "./wasm", "./engine")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/edgewise/edgewise/ruleset",
			"github.com/goccy/go-yaml",
			"github.com/invopop/jsonschema",
			"github.com/santhosh-tekuri/jsonschema",
			"golang.org/x/text",
		} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("the wasm build depends on %s", pkg)
			}
		}
	}
}
