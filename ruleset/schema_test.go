package ruleset

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/invopop/jsonschema"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite schema/ruleset.schema.json and testdata/rulesets/bad/*.lint")

const schemaFile = "../schema/ruleset.schema.json"

func TestSchemaFileIsGenerated(t *testing.T) {
	want := Schema()
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go test ./ruleset -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what engine.Ruleset and schemaTags generate; run go test ./ruleset -update", schemaFile)
	}
}

func TestSchemaIsDeterministic(t *testing.T) {
	for range 5 {
		b, err := generateSchema()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, Schema()) {
			t.Fatal("two generations of the schema differ")
		}
	}
}

func TestSchemaHeader(t *testing.T) {
	var s struct {
		Schema      string                     `json:"$schema"`
		ID          string                     `json:"$id"`
		Title       string                     `json:"title"`
		Description string                     `json:"description"`
		Type        string                     `json:"type"`
		Properties  map[string]json.RawMessage `json:"properties"`
		Defs        map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" || s.ID != SchemaID || s.Title == "" || s.Description == "" || s.Type != "object" {
		t.Errorf("header: $schema %q, $id %q, title %q, type %q", s.Schema, s.ID, s.Title, s.Type)
	}
	for _, name := range []string{"id", "version", "signals", "catalogue", "slots", "rules", "caps", "cohorts", "reporting", "profile", "regions"} {
		if _, ok := s.Properties[name]; !ok {
			t.Errorf("no property %q at the top", name)
		}
	}
	if !strings.HasSuffix(string(Schema()), "}\n") || strings.Contains(string(Schema()), `\u003c`) {
		t.Error("schema should end in a newline and keep < unescaped")
	}
}

// The tags hold commas and items.* keywords that invopop/jsonschema
// alone would lose; the schema must carry them whole.
func TestSchemaKeepsTagKeywords(t *testing.T) {
	s := string(Schema())
	for _, want := range []string{
		`"description": "Free-form details the page can render (price, image, link)."`,
		`"description": "The campaign the item belongs to, for caps and rules."`,
		`"description": "Local differential privacy budget per report (default 2, at most 4)."`,
		`"pattern": "^[A-Z]{2}-[A-Z0-9]{1,3}$"`,
		`"pattern": "^[0-9b-hjkmnp-z]{1,3}$"`,
		`"pattern": "^[A-Z]{2}$"`,
		`"description": "Shown in reasons: Because you viewed <title>."`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
	var doc map[string]any
	json.Unmarshal(Schema(), &doc)
	weather := dig(doc, "$defs", "Condition", "properties", "weather", "items", "enum")
	if !reflect.DeepEqual(weather, []any{"clear", "cloudy", "rain", "snow", "storm", "hot", "cold"}) {
		t.Errorf("Condition.weather items enum = %v", weather)
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestTagKeywords(t *testing.T) {
	kws, err := tagKeywords(`description=A\, b (c\, d).,pattern=^[A-Z]{1\,3}$,minimum=0,enum=a,enum=b,maxLength=5,required`)
	if err != nil {
		t.Fatal(err)
	}
	want := []keyword{{"description", "A, b (c, d)."}, {"pattern", "^[A-Z]{1,3}$"}, {"minimum", "0"}, {"enum", "a"}, {"enum", "b"}, {"maxLength", "5"}}
	if !reflect.DeepEqual(kws, want) {
		t.Errorf("got %q\nwant %q", kws, want)
	}
	for _, bad := range []string{`maximun=3`, `description=a, b`, `pattern=^a{1,3}$`} {
		if _, err := tagKeywords(bad); err == nil {
			t.Errorf("tag %q should be an error", bad)
		}
	}
	// Every entry of the table reads cleanly, and a bad one is caught.
	if err := checkTags(schemaTags); err != nil {
		t.Error(err)
	}
	for _, bad := range []map[string]string{
		{"Ruleset.ID": `description=an id, short`},
		{"Ruleset.ID": `maxLenght=3`},
		{"RulesetID": `maxLength=3`},
		{"Ruleset.Profile.HalfLifeDays": `minimum=0`},
	} {
		if err := checkTags(bad); err == nil {
			t.Errorf("checkTags(%q) should be an error", bad)
		}
	}
}

// The schema's keywords live in schemaTags, not in struct tags on the
// engine's types: those ship in edgewise.wasm's type metadata to every
// visitor. No type the ruleset reaches may carry one again, and every entry
// of the table must name a field it has.
func TestSchemaTagsMatchTheModel(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var visit func(reflect.Type)
	visit = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			if typ.Kind() == reflect.Map {
				visit(typ.Key())
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			for _, k := range schemaTagKeys {
				if _, ok := f.Tag.Lookup(k); ok {
					t.Errorf("%s.%s has a %s struct tag; move its keywords to schemaTags in schema_tags.go", typ.Name(), f.Name, k)
				}
			}
			visit(f.Type)
		}
	}
	visit(reflect.TypeFor[engine.Ruleset]())
	if len(seen) < 15 {
		t.Fatalf("reached only %d types from engine.Ruleset", len(seen))
	}

	if _, _, err := taggedModel(reflect.TypeFor[engine.Ruleset](), schemaTags); err != nil {
		t.Fatal(err)
	}
	// A stale entry (a typo, a renamed or removed field) is an error.
	stale := maps.Clone(schemaTags)
	stale["Slot.Limt"] = `minimum=1`
	stale["Feed.ID"] = `maxLength=3`
	if _, _, err := taggedModel(reflect.TypeFor[engine.Ruleset](), stale); err == nil || !strings.Contains(err.Error(), "Feed.ID, Slot.Limt") {
		t.Errorf("a table with stale entries: error %v", err)
	}
	// So is a jsonschema tag on a model type, wherever it is.
	type Inner struct {
		N int `json:"n" jsonschema:"minimum=1"`
	}
	type Outer struct {
		Inner []*Inner `json:"inner"`
	}
	if _, _, err := taggedModel(reflect.TypeFor[Outer](), nil); err == nil || !strings.Contains(err.Error(), "Inner.N has a jsonschema struct tag") {
		t.Errorf("a model with a jsonschema tag: error %v", err)
	}
}

// The keywords in the table come out of invopop/jsonschema exactly as the
// same tags on the types would: on strings, numbers, lists (where pattern
// and enum go to the entries), maps, pointers and embedded structs.
func TestSchemaTagsActLikeStructTags(t *testing.T) {
	reflectJSON := func(typ reflect.Type, namer func(reflect.Type) string) string {
		r := &jsonschema.Reflector{ExpandedStruct: true, BaseSchemaID: SchemaID, Namer: namer}
		b, err := json.MarshalIndent(r.ReflectFromType(typ), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tags := map[string]string{
		"Root.S":    `title=S,description=A string\, with a comma.,pattern=^[a-z]{1\,3}$,minLength=1,maxLength=3`,
		"Root.N":    `description=A number.,exclusiveMinimum=0,maximum=4`,
		"Root.L":    `minItems=1,maxItems=2,pattern=^[A-Z]$,enum=A,enum=B`,
		"Root.M":    `description=A map.`,
		"Root.P":    `description=A pointer.`,
		"Root.B":    `default=true`,
		"Root.R":    `required`,
		"Part.I":    `minimum=1,maximum=90`,
		"Part.Kind": `enum=x,enum=y`,
		"Base.W":    `format=date,description=A date.`,
	}
	want := func() string {
		type Base struct {
			W string `json:"w,omitempty" jsonschema:"format=date,description=A date."`
		}
		type Part struct {
			Base `json:",inline"`
			I    int    `json:"i" jsonschema:"minimum=1,maximum=90"`
			Kind string `json:"kind" jsonschema:"enum=x,enum=y"`
		}
		type Root struct {
			S string            `json:"s" jsonschema:"title=S,description=A string\\, with a comma.,pattern=^[a-z]{1\\,3}$,minLength=1,maxLength=3"`
			N float64           `json:"n,omitempty" jsonschema:"description=A number.,exclusiveMinimum=0,maximum=4"`
			L []string          `json:"l" jsonschema:"minItems=1,maxItems=2,pattern=^[A-Z]$,enum=A,enum=B"`
			M map[string][]Part `json:"m,omitempty" jsonschema:"description=A map."`
			P *Part             `json:"p,omitempty" jsonschema:"description=A pointer."`
			B *bool             `json:"b,omitempty" jsonschema:"default=true"`
			R int               `json:"r,omitempty" jsonschema:"required"`
			x int
		}
		return reflectJSON(reflect.TypeFor[Root](), nil)
	}()
	type Base struct {
		W string `json:"w,omitempty"`
	}
	type Part struct {
		Base `json:",inline"`
		I    int    `json:"i"`
		Kind string `json:"kind"`
	}
	type Root struct {
		S string            `json:"s"`
		N float64           `json:"n,omitempty"`
		L []string          `json:"l"`
		M map[string][]Part `json:"m,omitempty"`
		P *Part             `json:"p,omitempty"`
		B *bool             `json:"b,omitempty"`
		R int               `json:"r,omitempty"`
		x int
	}
	_ = Root{}.x
	model, names, err := taggedModel(reflect.TypeFor[Root](), tags)
	if err != nil {
		t.Fatal(err)
	}
	got := reflectJSON(model, func(t reflect.Type) string { return names[t] })
	if got != want {
		t.Errorf("from the table:\n%s\nfrom struct tags:\n%s", got, want)
	}
	for _, s := range []string{`"A string, with a comma."`, `"^[a-z]{1,3}$"`, `"#/$defs/Part"`, `"format": "date"`, `"default": true`} {
		if !strings.Contains(want, s) {
			t.Errorf("the struct-tag schema lacks %s:\n%s", s, want)
		}
	}
}

// Editors find the schema through the comment on a ruleset's first line.
// This package's rulesets all have it, and wherever it appears it must
// name the real file.
func TestEditorSchemaComments(t *testing.T) {
	re := regexp.MustCompile(`^# yaml-language-server: \$schema=(\S+)`)
	own, _ := filepath.Glob("testdata/*.yaml")
	bad, _ := filepath.Glob("../testdata/rulesets/bad/*.yaml")
	own = append(own, bad...)
	others, _ := filepath.Glob("../testdata/rulesets/*.yaml")
	if len(own) < 13 {
		t.Fatalf("found only %d rulesets", len(own))
	}
	want, _ := os.ReadFile(schemaFile)
	for i, f := range append(own, others...) {
		src, _ := os.ReadFile(f)
		m := re.FindSubmatch(src)
		if m == nil {
			if i < len(own) {
				t.Errorf("%s: first line is not a yaml-language-server $schema comment", f)
			}
			continue
		}
		got, err := os.ReadFile(filepath.Join(filepath.Dir(f), string(m[1])))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: $schema=%s does not name schema/ruleset.schema.json (%v)", f, m[1], err)
		}
	}
}

// The checked-in file, as an editor would load it, accepts full.yaml.
func TestCheckedInSchemaAcceptsFullRuleset(t *testing.T) {
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsv.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsv.NewCompiler()
	c.AssertFormat()
	c.AddResource("file.json", doc)
	sch, err := c.Compile("file.json")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile("testdata/full.yaml")
	d := parseDocument("full.yaml", src)
	if err := sch.Validate(d.toJSON(d.root)); err != nil {
		t.Fatal(err)
	}
}

const referenceFile = "../docs/rulesets.md"

// docs/rulesets.md is what Reference writes from the Go types and the
// example ruleset, so it cannot drift from either.
func TestReferenceFileIsGenerated(t *testing.T) {
	want, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(referenceFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(referenceFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(referenceFile)
	if err != nil {
		t.Fatalf("%v (run go test ./ruleset -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what the Go types generate; run go test ./ruleset -update", referenceFile)
	}
}

// Every field of every type is in the reference, with its type, and the
// policy's limits appear as ranges.
func TestReferenceCoversEveryField(t *testing.T) {
	ref, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	defs := map[string]*schemaNode{"The ruleset": &s}
	for n, d := range s.Defs {
		defs[n] = d
	}
	for title, d := range defs {
		i := bytes.Index(ref, []byte("## "+title+"\n"))
		if i < 0 {
			t.Errorf("no section for %s", title)
			continue
		}
		section := ref[i:]
		if j := bytes.Index(section[3:], []byte("\n## ")); j >= 0 {
			section = section[:j+3]
		}
		for name := range d.Properties {
			if !bytes.Contains(section, []byte("| `"+name+"` |")) {
				t.Errorf("%s: no row for %s", title, name)
			}
		}
	}
	for _, want := range []string{
		"| `epsilon` | number | no | 2 | more than 0, at most 4 |",
		"| `min_k` | integer | no | 50 | at least 10 |",
		"| `epoch_days` | integer | no | 7 days | 7 to 90 |",
		"| `retention_days` | integer | yes | — | 0 to 90 |",
	} {
		if !bytes.Contains(ref, []byte(want)) {
			t.Errorf("the reference lacks the row starting %q", want)
		}
	}
}
