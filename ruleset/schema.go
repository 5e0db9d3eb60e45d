package ruleset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/edgewise/edgewise/engine"
	"github.com/invopop/jsonschema"
)

// SchemaID is the JSON Schema's $id. The file itself is checked in at
// schema/ruleset.schema.json; a YAML ruleset points editors at it with a
// first line such as
//
//	# yaml-language-server: $schema=../../schema/ruleset.schema.json
const SchemaID = "https://edgewise.dev/schema/ruleset.schema.json"

var schemaBytes = sync.OnceValue(func() []byte {
	b, err := generateSchema()
	if err != nil {
		panic("ruleset: generating the JSON Schema: " + err.Error())
	}
	return b
})

// Schema returns the JSON Schema (draft 2020-12) for rulesets, generated
// from engine.Ruleset's json tags and the keywords in schemaTags
// (schema_tags.go), which are kept out of engine's struct tags because those
// ship in edgewise.wasm's type metadata to every visitor: indented JSON, the
// same bytes every time, ending in a newline.
func Schema() []byte { return bytes.Clone(schemaBytes()) }

func generateSchema() ([]byte, error) {
	if err := checkTags(schemaTags); err != nil {
		return nil, err
	}
	model, names, err := taggedModel(reflect.TypeFor[engine.Ruleset](), schemaTags)
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		ExpandedStruct: true, // the ruleset itself at the top, its parts under $defs
		BaseSchemaID:   SchemaID,
		// The copies taggedModel makes are unnamed; $defs and $refs use
		// the engine types' names.
		Namer: func(t reflect.Type) string { return names[t] },
	}
	s := r.ReflectFromType(model)
	s.ID = SchemaID
	s.Title = "Edgewise ruleset"
	s.Description = "What a site lets the Edgewise engine collect and why, what it can show and where, and how it reports. Write it in YAML or JSON; `edgewise lint` checks it and `edgewise build` compiles and signs it."
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return unescapeHTML(buf.Bytes()), nil
}

// schemaTagKeys are the struct tag keys invopop/jsonschema reads besides
// json; none may appear on the engine's types (see schemaTags).
var schemaTagKeys = []string{"jsonschema", "jsonschema_description", "jsonschema_extras"}

// taggedModel returns a copy of root, made with reflect.StructOf, in which
// every struct type of root's package that root reaches has the jsonschema
// tags of tags (keyed "Type.Field") added to its fields, so that
// invopop/jsonschema reads the keywords exactly as it would read tags on
// the engine's own types. Pointers, lists and maps of those structs become
// pointers, lists and maps of the copies; other types are kept. names maps
// each copy to the name of the type it copies.
//
// It fails if a type of root's package already carries a jsonschema tag,
// if an entry of tags names no field root reaches (a typo, or a renamed or
// removed field), or if the copy cannot stand for the type.
func taggedModel(root reflect.Type, tags map[string]string) (reflect.Type, map[reflect.Type]string, error) {
	m := &tagCopier{
		pkg:    root.PkgPath(),
		tags:   tags,
		used:   map[string]bool{},
		names:  map[reflect.Type]string{},
		copies: map[reflect.Type]reflect.Type{},
		busy:   map[reflect.Type]bool{},
	}
	if root.Kind() == reflect.Pointer {
		m.pkg = root.Elem().PkgPath()
	}
	t, err := m.copy(root)
	if err != nil {
		return nil, nil, err
	}
	var unused []string
	for key := range tags {
		if !m.used[key] {
			unused = append(unused, key)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		return nil, nil, fmt.Errorf("schemaTags has keywords for %s, which %s does not have (renamed or removed?)", strings.Join(unused, ", "), root)
	}
	return t, m.names, nil
}

type tagCopier struct {
	pkg    string
	tags   map[string]string
	used   map[string]bool
	names  map[reflect.Type]string       // copy → name of the original
	copies map[reflect.Type]reflect.Type // original → copy
	busy   map[reflect.Type]bool         // structs being copied
}

func (m *tagCopier) copy(t reflect.Type) (reflect.Type, error) {
	if c, ok := m.copies[t]; ok {
		return c, nil
	}
	var c reflect.Type
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		e, err := m.copy(t.Elem())
		if err != nil || e == t.Elem() {
			return t, err
		}
		switch t.Kind() {
		case reflect.Pointer:
			c = reflect.PointerTo(e)
		case reflect.Slice:
			c = reflect.SliceOf(e)
		default:
			c = reflect.ArrayOf(t.Len(), e)
		}
	case reflect.Map:
		k, err := m.copy(t.Key())
		if err != nil {
			return t, err
		}
		e, err := m.copy(t.Elem())
		if err != nil || k == t.Key() && e == t.Elem() {
			return t, err
		}
		c = reflect.MapOf(k, e)
	case reflect.Struct:
		if t.PkgPath() != m.pkg || t.Name() == "" {
			return t, nil
		}
		var err error
		if c, err = m.copyStruct(t); err != nil {
			return t, err
		}
	default:
		return t, nil
	}
	if t.Name() != "" {
		// The copy goes by its original's name in $defs and $refs (a
		// named list or map of the structs as well as the structs).
		if other, ok := m.names[c]; ok && other != t.Name() {
			return t, fmt.Errorf("%s and %s are alike to reflect.StructOf; the schema cannot tell them apart", other, t.Name())
		}
		m.names[c] = t.Name()
	}
	m.copies[t] = c
	return c, nil
}

func (m *tagCopier) copyStruct(t reflect.Type) (reflect.Type, error) {
	if m.busy[t] {
		return nil, fmt.Errorf("%s refers to itself, which reflect.StructOf cannot copy", t)
	}
	m.busy[t] = true
	defer delete(m.busy, t)
	var fields []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		for _, k := range schemaTagKeys {
			if _, ok := f.Tag.Lookup(k); ok {
				return nil, fmt.Errorf("%s.%s has a %s struct tag; put its keywords in schemaTags (ruleset/schema_tags.go): struct tags ship in edgewise.wasm's type metadata to every visitor", t.Name(), f.Name, k)
			}
		}
		if !f.IsExported() {
			if f.Anonymous {
				return nil, fmt.Errorf("%s embeds the unexported %s, which reflect.StructOf cannot copy", t, f.Type)
			}
			continue // neither encoding/json nor invopop reads it
		}
		ft, err := m.copy(f.Type)
		if err != nil {
			return nil, err
		}
		tag := f.Tag
		key := t.Name() + "." + f.Name
		if kw, ok := m.tags[key]; ok {
			m.used[key] = true
			tag = reflect.StructTag(strings.TrimSpace(string(tag) + ` jsonschema:` + strconv.Quote(kw)))
			if got := tag.Get("jsonschema"); got != kw {
				return nil, fmt.Errorf("%s: the tag reads back as %q", key, got)
			}
		}
		fields = append(fields, reflect.StructField{Name: f.Name, Type: ft, Tag: tag, Anonymous: f.Anonymous})
	}
	return reflect.StructOf(fields), nil
}

// checkTags reads every entry of tags the way invopop/jsonschema reads a
// jsonschema tag and fails on what it would silently drop: an unknown
// keyword (a typo) or a piece without a keyword, which is what an unescaped
// comma inside a description or pattern leaves behind (write \,).
func checkTags(tags map[string]string) error {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if typ, field, ok := strings.Cut(k, "."); !ok || typ == "" || field == "" || strings.Contains(field, ".") {
			return fmt.Errorf("schemaTags key %q is not Type.Field", k)
		}
		if _, err := tagKeywords(tags[k]); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	return nil
}

type keyword struct{ key, value string }

// knownKeywords are the jsonschema tag keywords schemaTags may use. On a
// list field, pattern, enum and the length limits apply to its entries.
var knownKeywords = map[string]bool{
	"title": true, "description": true, "enum": true, "pattern": true, "format": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"default": true, "example": true,
}

// bareKeywords are the jsonschema tag words without a value.
var bareKeywords = map[string]bool{"required": true, "nullable": true, "-": true}

// tagKeywords splits a jsonschema tag (an entry of schemaTags) at its
// unescaped commas, as invopop/jsonschema does, and checks each piece.
func tagKeywords(tag string) ([]keyword, error) {
	if tag == "" {
		return nil, nil
	}
	var parts []string
	for _, p := range strings.Split(tag, ",") {
		if n := len(parts); n > 0 {
			if prev, escaped := strings.CutSuffix(parts[n-1], `\`); escaped {
				parts[n-1] = prev + "," + p
				continue
			}
		}
		parts = append(parts, p)
	}
	var kws []keyword
	for _, p := range parts {
		key, value, ok := strings.Cut(p, "=")
		switch {
		case !ok && bareKeywords[p]:
			continue
		case !ok:
			return nil, fmt.Errorf("%q is not a keyword; is a comma before it missing its backslash?", p)
		case !knownKeywords[key]:
			return nil, fmt.Errorf("unknown jsonschema keyword %q", key)
		}
		kws = append(kws, keyword{key, value})
	}
	return kws, nil
}

// unescapeHTML undoes encoding/json's escaping of <, > and & (which
// invopop's MarshalJSON applies), so descriptions read as written.
func unescapeHTML(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out.WriteByte(b[i])
			continue
		}
		if rest := b[i+1:]; len(rest) >= 5 {
			switch string(rest[:5]) {
			case "u003c":
				out.WriteByte('<')
				i += 5
				continue
			case "u003e":
				out.WriteByte('>')
				i += 5
				continue
			case "u0026":
				out.WriteByte('&')
				i += 5
				continue
			}
		}
		out.WriteByte(b[i])
		out.WriteByte(b[i+1])
		i++
	}
	return out.Bytes()
}
