package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
)

const shopJSON = "../../testdata/abi/shop.json"

const shopYAML = `# The shop of the JS tests, in YAML.
id: shop
version: "1"
signals:
  - id: history
    kind: history
    purpose: Suggest things like what you viewed.
    retention_days: 30
catalogue:
  - {id: sock, title: Wool socks, tags: [wool, socks]}
  - {id: mug, title: Mug, tags: [kitchen]}
  - {id: hat, title: Wool hat, tags: [wool, winter]}
  - {id: pan, title: Pan, tags: [kitchen, iron]}
slots:
  - id: home
    limit: 2
    exclude_seen: false
    fallback: [mug, pan]
  - id: related
    limit: 2
    exclude_seen: false
    fallback: [pan]
    candidates: {items: [mug, hat, pan]}
`

// TestBuildSignsWhatTheEngineLoads: YAML and JSON of one ruleset build to
// the same bytes, which verify with the site's key and hold the ruleset.
func TestBuildSignsWhatTheEngineLoads(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "shop.yaml")
	os.WriteFile(yamlPath, []byte(shopYAML), 0o644)

	fromJSON := filepath.Join(dir, "from-json.ewr")
	out, errOut, code := runCLI(t, "build", shopJSON, "--key", keyPath, "-o", fromJSON)
	if code != 0 {
		t.Fatalf("build json: code %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "built "+fromJSON+": ruleset shop@1, 4 items, 2 slots") {
		t.Errorf("build output: %q", out)
	}
	// Flags after the file, and the default output name.
	if _, errOut, code := runCLI(t, "build", "--key", keyPath, yamlPath); code != 0 {
		t.Fatalf("build yaml: code %d, stderr %q", code, errOut)
	}
	a, _ := os.ReadFile(fromJSON)
	b, err := os.ReadFile(filepath.Join(dir, "shop.ewr"))
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("the same ruleset in YAML and in JSON built different files")
	}
	pub, err := keyfile.ReadPublic(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.DecodeRuleset(a, pub)
	if err != nil {
		t.Fatal(err)
	}
	if rs.ID != "shop" || len(rs.Catalogue) != 4 || rs.Slots[1].Candidates.Items[1] != "hat" {
		t.Errorf("decoded %+v", rs)
	}
	// The file loads in edgewise.wasm, and decide runs on it.
	out, errOut, code = runCLI(t, "decide", "--wasm", wasmPath, "--ruleset", fromJSON, "--key", pubPath, "home")
	if code != 0 || !strings.Contains(out, "home (fallback)") {
		t.Fatalf("decide on the built file: code %d, out %q, err %q", code, out, errOut)
	}
}

func TestBuildRefusesAnInvalidRuleset(t *testing.T) {
	keyPath, _ := keygen(t, "site")
	dir := t.TempDir()
	for name, content := range map[string]string{
		"dangling.json": `{"id": "x", "version": "1", "catalogue": [{"id": "a", "title": "A", "tags": ["t"]}], "slots": [{"id": "s", "limit": 1, "fallback": ["ghost"]}]}`,
		"typo.json":     `{"id": "x", "version": "1", "catalogue": [{"id": "a", "title": "A", "tags": ["t"]}], "slots": [{"id": "s", "limit": 1, "fallback": ["a"], "colour": "red"}]}`,
		"typo.yaml":     strings.Replace(shopYAML, "fallback: [pan]", "fallback: [pan]\n    colour: red", 1),
		"syntax.yaml":   "id: [unclosed\n",
		"rules.txt":     shopYAML,
	} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(dir, name)
			os.WriteFile(src, []byte(content), 0o644)
			out := filepath.Join(dir, name+".ewr")
			_, errOut, code := runCLI(t, "build", src, "--key", keyPath, "-o", out)
			if code != 1 {
				t.Fatalf("code %d, want 1; stderr %q", code, errOut)
			}
			if !strings.Contains(errOut, name) {
				t.Errorf("stderr does not name the file: %q", errOut)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written")
			}
		})
	}
	// The messages say what is wrong, with positions for YAML.
	bad := filepath.Join(dir, "typo2.yaml")
	os.WriteFile(bad, []byte(strings.Replace(shopYAML, "fallback: [pan]", "fallback: [pan]\n    colour: red", 1)), 0o644)
	_, errOut, _ := runCLI(t, "build", bad, "--key", keyPath)
	if !strings.Contains(errOut, "typo2.yaml:23:5: error: unknown field \"colour\"") || !strings.Contains(errOut, "was not written") {
		t.Errorf("stderr: %s", errOut)
	}
	bad = filepath.Join(dir, "dangling2.json")
	os.WriteFile(bad, []byte(`{"id": "x", "version": "1", "catalogue": [{"id": "a", "title": "A", "tags": ["t"]}], "slots": [{"id": "s", "limit": 1, "fallback": ["ghost"]}]}`), 0o644)
	_, errOut, _ = runCLI(t, "build", bad, "--key", keyPath)
	if !strings.Contains(errOut, `"ghost"`) {
		t.Errorf("stderr does not name the missing item: %s", errOut)
	}
}

func TestBuildErrors(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	for name, args := range map[string][]string{
		"no key":          {"build", shopJSON},
		"no file":         {"build", "--key", keyPath},
		"two files":       {"build", shopJSON, shopJSON, "--key", keyPath},
		"public key":      {"build", shopJSON, "--key", pubPath, "-o", filepath.Join(t.TempDir(), "x.ewr")},
		"missing key":     {"build", shopJSON, "--key", "/nonexistent.key"},
		"missing ruleset": {"build", "/nonexistent.json", "--key", keyPath},
	} {
		_, errOut, code := runCLI(t, args...)
		if code != 1 || !strings.HasPrefix(errOut, "edgewise: ") {
			t.Errorf("%s: code %d, stderr %q; want 1 and an edgewise: message", name, code, errOut)
		}
	}
}

// build --catalogue writes the page's catalogue from the same ruleset it
// signs, so the page's titles and attributes are the engine's; a refused
// build writes neither file.
func TestBuildWritesThePageCatalogue(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	dir := t.TempDir()
	ewr, cat := filepath.Join(dir, "shop.ewr"), filepath.Join(dir, "catalogue.json")
	if _, errOut, code := runCLI(t, "build", shopJSON, "--key", keyPath, "-o", ewr, "--catalogue", cat); code != 0 {
		t.Fatalf("build: code %d, stderr %q", code, errOut)
	}
	data, err := os.ReadFile(cat)
	if err != nil {
		t.Fatal(err)
	}
	var got PageCatalogue
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	signed, _ := os.ReadFile(ewr)
	pub, _ := keyfile.ReadPublic(pubPath)
	rs, err := engine.DecodeRuleset(signed, pub)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ruleset != rs.ID || got.Version != rs.Version || len(got.Items) != len(rs.Catalogue) {
		t.Fatalf("catalogue %+v for ruleset %s@%s with %d items", got, rs.ID, rs.Version, len(rs.Catalogue))
	}
	for i, it := range rs.Catalogue {
		g := got.Items[i]
		if g.ID != it.ID || g.Title != it.Title || !slices.Equal(g.Tags, it.Tags) || g.Campaign != it.Campaign || !maps.Equal(g.Attributes, it.Attributes) {
			t.Errorf("item %d: page %+v, signed %+v", i, g, it)
		}
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"id": "x", "version": "1", "catalogue": [{"id": "a", "title": "A", "tags": ["t"]}], "slots": [{"id": "s", "limit": 1, "fallback": ["ghost"]}]}`), 0o644)
	badCat := filepath.Join(dir, "bad-catalogue.json")
	if _, _, code := runCLI(t, "build", bad, "--key", keyPath, "--catalogue", badCat); code != 1 {
		t.Fatalf("a refused build: code %d", code)
	}
	if _, err := os.Stat(badCat); err == nil {
		t.Error("a refused build wrote the page catalogue")
	}
}
