package ruleset

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/vmihailenco/msgpack/v5"
)

func readFull(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// YAML -> engine.Ruleset -> msgpack -> engine.Ruleset loses nothing.
func TestRoundTripMsgpack(t *testing.T) {
	rs, diags := Parse("full.yaml", readFull(t))
	if len(diags) > 0 || rs == nil {
		t.Fatalf("full.yaml: %v", diags)
	}
	b, err := msgpack.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	var back engine.Ruleset
	if err := msgpack.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*rs, back) {
		t.Fatalf("msgpack round trip changed the ruleset:\n%+v\n%+v", *rs, back)
	}
}

// The value the schema sees (the document as JSON) decodes, with
// encoding/json, to exactly what Parse decoded: the schema checks what
// the engine gets.
func TestSchemaSeesWhatParseDecodes(t *testing.T) {
	for _, f := range []string{"testdata/full.yaml", "../examples/outdoor-shop.yaml"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, diags := Parse(f, src)
		if len(diags) > 0 {
			t.Fatalf("%s: %v", f, diags)
		}
		d := parseDocument(f, src)
		b, err := json.Marshal(d.toJSON(d.root))
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON engine.Ruleset
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fromJSON); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*rs, fromJSON) {
			t.Errorf("%s: Parse and the JSON form differ:\n%+v\n%+v", f, *rs, fromJSON)
		}
	}
}

// full.yaml sets every field of the model somewhere, so the round trip
// covers every field; a field added to the model must be added there.
func TestFullSetsEveryField(t *testing.T) {
	rs, _ := Parse("full.yaml", readFull(t))
	set := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !v.Field(i).IsZero() {
					set[v.Type().Name()+"."+f.Name] = true
				}
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(rs))
	seen := map[reflect.Type]bool{}
	var all func(t reflect.Type)
	all = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !set[typ.Name()+"."+f.Name] {
				t.Errorf("full.yaml never sets %s.%s", typ.Name(), f.Name)
			}
			all(f.Type)
		}
	}
	all(reflect.TypeFor[engine.Ruleset]())
}

// The valid rulesets in the repository lint without a single diagnostic,
// the editor comment on their first line included.
func TestValidRulesetsLintClean(t *testing.T) {
	files, _ := filepath.Glob("../testdata/rulesets/*.yaml")
	files = append(files, "testdata/full.yaml")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range Lint(f, src) {
			t.Errorf("%s", Format(d))
		}
	}
}

func parseMessages(t *testing.T, src string) (*engine.Ruleset, []string) {
	t.Helper()
	rs, diags := Parse("t.yaml", []byte(src))
	checkPositions(t, []byte(src), diags)
	var out []string
	for _, d := range diags {
		s := d.File + ":" + itoa(d.Line) + ":" + itoa(d.Column) + ": " + d.Message
		if d.Hint != "" {
			s += " | " + d.Hint
		}
		out = append(out, s)
	}
	return rs, out
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestParseCollectsEveryProblem(t *testing.T) {
	src := `id: shop
version: "1"
signals:
  - {id: h, kind: history, purpose: Recommend related gear in this shop., retention_days: thirty}
catalogue:
  - id: a
    title: A
    tagz: [x]
  - id: b
    title: B
    tags: x
slots:
  - {id: s, limit: 2.5, fallback: [a], exclude_seen: "true"}
`
	rs, got := parseMessages(t, src)
	want := []string{
		`t.yaml:4:91: retention_days must be a whole number, got the text "thirty"`,
		`t.yaml:8:5: unknown field "tagz" in catalogue item | did you mean "tags"?`,
		`t.yaml:11:11: tags must be a list, got the text "x" | write a list, even of one: [x]`,
		`t.yaml:13:20: limit must be a whole number, got the number 2.5`,
		`t.yaml:13:54: exclude_seen must be true or false, got the text "true"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rs == nil || rs.ID != "shop" || len(rs.Catalogue) != 2 || rs.Catalogue[1].ID != "b" || rs.Slots[0].ID != "s" {
		t.Errorf("the values that decoded should be kept: %+v", rs)
	}
}

func TestParseYAMLFeatures(t *testing.T) {
	src := "\ufeff# yaml-language-server: $schema=../../schema/ruleset.schema.json\r\n" +
		"id: shop\r\n" +
		"version: !!str 2\r\n" +
		"signals: []\r\n" +
		"base: &base\r\n" // an unknown field, reported, whose value is still anchored
	src += `  title: Shared
  tags: &tags [running, trail]
catalogue:
  - <<: *base
    id: a
  - <<: [*base]
    id: b
    tags: *tags
    title: Own title
slots:
  - id: s
    limit: 1
    fallback: ["a"]
`
	rs, got := parseMessages(t, src)
	if len(got) != 1 || !strings.Contains(got[0], `t.yaml:5:1: unknown field "base" in ruleset`) {
		t.Errorf("diagnostics: %q", got)
	}
	want := []engine.Item{
		{ID: "a", Title: "Shared", Tags: []string{"running", "trail"}},
		{ID: "b", Title: "Own title", Tags: []string{"running", "trail"}},
	}
	if rs == nil || rs.Version != "2" || !reflect.DeepEqual(rs.Catalogue, want) {
		t.Errorf("got %+v", rs)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "1:1: the file holds no ruleset"},
		{"comment only", "# nothing\n", "1:1: the file holds no ruleset"},
		{"list", "- a\n- b\n", "1:1: a ruleset is a mapping of fields, not a list"},
		{"text", "hello\n", `1:1: a ruleset is a mapping of fields, not the text "hello"`},
		{"two documents", "id: a\n---\nid: b\n", "2:1: a ruleset file holds one YAML document, but another one starts here"},
		{"tab", "id: a\nslots:\n\t- id: s\n", "3:1: tab character: YAML indents with spaces only"},
		{"unclosed list", "id: a\ncatalogue:\n  - tags: [a, b\n    title: x\n", "3:11: this [ list is never closed"},
		{"unclosed quote", "id: 'a\n", "1:5: this 'quoted text' is never closed"},
		{"duplicate key", "id: a\nversion: \"1\"\nid: b\n", `3:1: "id" is already set on line 1`},
		{"unknown alias", "id: *nope\n", "1:5: unknown alias *nope"},
		{"recursive alias", "catalogue: &c [*c]\n", "1:16: alias *c is inside the value anchored as &c"},
		{"bad merge", "profile:\n  <<: 3\n", "2:7: a << merge takes a mapping or a list of mappings, not the number 3"},
		{"infinite", "profile: {half_life_days: .inf}\n", "1:27: half_life_days must be a finite number, got infinity"},
		{"overflow", "profile: {max_events: 99999999999999999999}\n", "1:23: max_events: the number 99999999999999999999 is too large"},
		{"map for list", "signals: {id: x}\n", "1:10: signals must be a list, got a mapping"},
		{"list for map", "profile: [1]\n", "1:10: profile must be a mapping of profile fields, got a list"},
	} {
		rs, got := parseMessages(t, tc.src)
		if !strings.Contains(strings.Join(got, "\n"), "t.yaml:"+tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		_ = rs
	}
}

// Aliases that expand exponentially are refused before anything walks
// the expansion.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 12; i++ {
		prev := "*a" + itoa(i-1)
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	rs, got := parseMessages(t, b.String())
	if rs != nil || len(got) != 1 || !strings.Contains(got[0], "aliases expand this document") {
		t.Errorf("got %v, %q", rs, got)
	}
}

func TestParsePathAndLabel(t *testing.T) {
	segs, err := parsePath(`$.catalogue[3].attributes['a.b']["c"].tags[1]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []seg{keySeg("catalogue"), indexSeg(3), keySeg("attributes"), keySeg("a.b"), keySeg("c"), keySeg("tags"), indexSeg(1)}
	if !reflect.DeepEqual(segs, want) {
		t.Errorf("got %+v", segs)
	}
	if l := label(segs); l != "tags[1]" {
		t.Errorf("label %q", l)
	}
	for _, bad := range []string{"catalogue", "$.", "$[x]", "$['a", "$[1", "$x"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) should fail", bad)
		}
	}
	if segs, err := parsePath("$"); err != nil || len(segs) != 0 {
		t.Errorf("$: %v %v", segs, err)
	}
}

// lint places engine.Validate's problems by their paths, falls back to
// the nearest existing node, and keeps one finding per node when the
// schema and Validate both report it.
func TestLintPlacesAndMergesProblems(t *testing.T) {
	src := `id: shop
version: "1"
signals:
  - {id: h, kind: history, purpose: Recommend related gear in this shop., retention_days: 120}
base: &base {title: Shared, tags: [running]}
catalogue:
  - <<: *base
    id: a
slots:
  - id: s
    limit: 1
    fallback: [a]
`
	validate := func(*engine.Ruleset) []engine.Problem {
		return []engine.Problem{
			{Path: "$.signals[0].retention_days", Severity: engine.SeverityError, Category: engine.CategoryPolicy, Message: "keep data at most 90 days"},
			{Path: "$.catalogue[0].tags[0]", Severity: engine.SeverityWarning, Category: engine.CategoryPolicy, Message: "through a merge"},
			{Path: "$.slots[0].candidates.items[0]", Severity: engine.SeverityError, Category: engine.CategoryReference, Message: "missing node"},
			{Path: "$.slots[0].limit", Severity: engine.SeverityError, Category: engine.CategoryRule, Message: "first"},
			{Path: "not a path", Severity: engine.SeverityError, Category: engine.CategoryRule, Message: "bad path"},
		}
	}
	var got []string
	for _, d := range lint("t.yaml", []byte(src), validate) {
		got = append(got, itoa(d.Line)+":"+itoa(d.Column)+" "+d.Severity+" "+d.Category+" "+d.Message)
	}
	want := []string{
		"1:1 error rule bad path",
		"4:91 error policy keep data at most 90 days", // the schema's "at most 90" at the same node is dropped
		"5:1 error schema unknown field \"base\" in ruleset",
		"5:36 warning policy through a merge",
		"10:5 error reference missing node", // slots[0] has no candidates: its mapping
		"11:12 error rule first",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A value Parse could not decode is reported once, not again by the
// schema or by Validate looking at the zero value left in its place.
func TestLintReportsUndecodableValueOnce(t *testing.T) {
	src := `id: shop
version: "1"
signals: []
catalogue: [{id: a, title: A, tags: [x]}]
slots:
  - {id: s, limit: many, fallback: [a]}
`
	validate := func(*engine.Ruleset) []engine.Problem {
		return []engine.Problem{{Path: "$.slots[0].limit", Severity: engine.SeverityError, Category: engine.CategorySchema, Message: "limit must be 1 to 50, got 0"}}
	}
	diags := lint("t.yaml", []byte(src), validate)
	if len(diags) != 1 || diags[0].Message != `limit must be a whole number, got the text "many"` {
		t.Errorf("got %+v", diags)
	}
}

func TestSchemaMessages(t *testing.T) {
	src := `id: Shop One
version: ""
signals:
  - {id: h, kind: wether, purpose: short, retention_days: 0}
regions:
  - {id: r, name: R, countries: [usa], subdivisions: [US-WA], geohashes: [c23nb]}
catalogue:
  - id: a
    title: A
    tags: []
    schedule: [{from: "2026-13-01"}]
slots:
  - {id: s, limit: 1, fallback: [a], extra: 1}
rules:
  - {id: r, items: {}, boost: 1}
cohorts:
  dimensions: [{id: d, from: interest, buckets: [{id: only}]}]
`
	var got []string
	for _, d := range lint("t.yaml", []byte(src), nil) {
		s := itoa(d.Line) + ":" + itoa(d.Column) + " " + d.Message
		if d.Hint != "" {
			s += " | " + d.Hint
		}
		got = append(got, s)
	}
	want := []string{
		`1:5 id "Shop One" is not valid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit | try "shop-one"`,
		`2:10 version must not be empty`,
		`4:19 kind must be one of history, location, weather, time, device, referrer, page, visits; got "wether" | did you mean "weather"?`,
		`4:36 purpose must be at least 10 characters long, got 5`,
		`6:34 countries[0] "usa" is not valid: use a two-letter country code in capitals, such as US (ISO 3166-1)`,
		`6:75 geohashes[0] "c23nb" is not valid: use a geohash cell of at most 3 characters (about 156 km); finer cells are too precise`,
		`10:11 tags must have at least one entry`,
		`11:23 from must be a date written YYYY-MM-DD, got "2026-13-01"`,
		`13:38 unknown field "extra" in slot | slot fields are: id, candidates, limit, fallback, diversity, exclude_seen; see docs/rulesets.md#slot`,
		`15:31 boost must be more than 1, got 1`,
		`17:49 buckets must have at least 2 entries, got 1`,
	}
	// Parse reports the unknown field too, at the same key: one finding.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFormat(t *testing.T) {
	d := Diagnostic{File: "r.yaml", Line: 3, Column: 4, Severity: "error", Message: "bad", Hint: "fix it", LineText: "\tx: yes"}
	want := "r.yaml:3:4: error: bad\n\tx: yes\n\t  ^\n  hint: fix it\n"
	if got := Format(d); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	d = Diagnostic{File: "r.yaml", Line: 1, Column: 5, Severity: "warning", Message: "past the end", LineText: "ab"}
	if got, want := Format(d), "r.yaml:1:5: warning: past the end\nab\n    ^\n"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	d = Diagnostic{File: "r.json", Severity: "error", Message: "no position"}
	if got, want := Format(d), "r.json: error: no position\n"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Columns count characters, so the caret lines up under multi-byte text.
	rs, diags := Parse("u.yaml", []byte("id: x\ncatalogue: [{id: a, title: \"Söckchen ☂\", tags: x}]\n"))
	_ = rs
	if len(diags) != 1 || Format(diags[0]) != "u.yaml:2:48: error: tags must be a list, got the text \"x\"\ncatalogue: [{id: a, title: \"Söckchen ☂\", tags: x}]\n                                               ^\n  hint: write a list, even of one: [x]\n" {
		t.Errorf("got %q", Format(diags[0]))
	}
}
