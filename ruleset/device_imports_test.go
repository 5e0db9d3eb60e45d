package ruleset

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The engine's own device packages import none of the standard packages
// that cost the wasm most for what the engine would use of them: time
// (about 35 KB brotli; engine/civil.go does the date arithmetic), embed
// (34 KB; engine/geo's table is a generated string constant),
// encoding/hex (56 KB; KeyID.String is a loop), os, log and fmt. The packages listed are the device part but the ABI adapter
// (wasm, internal/abi, internal/wire), whose codecs are a separate matter.
func TestDevicePackagesAvoidCostlyImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	const module = "github.com/edgewise/edgewise/"
	device := []string{"engine", "engine/geo", "engine/textnorm", "internal/edverify", "internal/sha2"}
	args := []string{"list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`}
	for _, p := range device {
		args = append(args, "./"+p)
	}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	listed := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		listed++
		for _, imp := range strings.Fields(imports) {
			switch imp {
			case "time", "embed", "encoding/hex", "os", "log", "fmt":
				t.Errorf("%s imports %s", strings.TrimPrefix(pkg, module), imp)
			}
		}
	}
	if listed != len(device) {
		t.Fatalf("go list printed %d packages, want %d:\n%s", listed, len(device), out)
	}
}
