package ruleset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
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
// from engine.Ruleset's json and jsonschema tags: indented JSON, the same
// bytes every time, ending in a newline.
func Schema() []byte { return bytes.Clone(schemaBytes()) }

func generateSchema() ([]byte, error) {
	r := &jsonschema.Reflector{
		ExpandedStruct: true, // the ruleset itself at the top, its parts under $defs
		BaseSchemaID:   SchemaID,
	}
	s := r.Reflect(&engine.Ruleset{})
	s.ID = SchemaID
	s.Title = "Edgewise ruleset"
	s.Description = "What a site lets the Edgewise engine collect and why, what it can show and where, and how it reports. Write it in YAML or JSON; `edgewise lint` checks it and `edgewise build` compiles and signs it."
	if err := checkTags(reflect.TypeFor[engine.Ruleset]()); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return unescapeHTML(buf.Bytes()), nil
}

// forFields calls fn for each field a struct has in JSON, inline fields
// flattened, with its JSON name.
func forFields(t reflect.Type, fn func(f reflect.StructField, name string) error) error {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" || strings.Contains(","+opts+",", ",inline,") {
			if err := forFields(f.Type, fn); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if err := fn(f, name); err != nil {
			return err
		}
	}
	return nil
}

// checkTags reads every jsonschema tag reachable from t the way
// invopop/jsonschema does and fails on what it would silently drop: an
// unknown keyword (a typo) or a piece without a keyword, which is what an
// unescaped comma inside a description or pattern leaves behind (write \,).
func checkTags(t reflect.Type) error {
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type) error
	visit = func(t reflect.Type) error {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return nil
		}
		seen[t] = true
		return forFields(t, func(f reflect.StructField, _ string) error {
			if _, err := tagKeywords(f.Tag.Get("jsonschema")); err != nil {
				return fmt.Errorf("%s.%s: %v", t.Name(), f.Name, err)
			}
			return visit(f.Type)
		})
	}
	return visit(t)
}

type keyword struct{ key, value string }

// knownKeywords are the jsonschema tag keywords the model may use. On a
// list field, pattern, enum and the length limits apply to its entries.
var knownKeywords = map[string]bool{
	"title": true, "description": true, "enum": true, "pattern": true, "format": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"default": true, "example": true,
}

// bareKeywords are the jsonschema tag words without a value.
var bareKeywords = map[string]bool{"required": true, "nullable": true, "-": true}

// tagKeywords splits a jsonschema tag at its unescaped commas, as
// invopop/jsonschema does, and checks each piece.
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
