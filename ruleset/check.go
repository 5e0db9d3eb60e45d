package ruleset

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/suggest"
	"github.com/goccy/go-yaml/ast"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// compiledSchema is Schema() compiled for validation, format assertions on
// (so schedule dates are checked).
var compiledSchema = sync.OnceValues(func() (*jsv.Schema, error) {
	doc, err := jsv.UnmarshalJSON(bytes.NewReader(schemaBytes()))
	if err != nil {
		return nil, err
	}
	c := jsv.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaID)
})

// checkSchema validates the document, as JSON, against the schema and
// adds a finding, in plain words, for each violation.
func (d *document) checkSchema() {
	sch, err := compiledSchema()
	if err != nil {
		panic("ruleset: compiling the JSON Schema: " + err.Error())
	}
	var ve *jsv.ValidationError
	if err := sch.Validate(d.toJSON(d.root)); errors.As(err, &ve) {
		d.schemaErrors(ve)
	}
}

func (d *document) schemaErrors(ve *jsv.ValidationError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			d.schemaErrors(c)
		}
		return
	}
	segs := pointerSegs(ve.InstanceLocation)
	n, _ := d.locate(segs)
	add := func(n ast.Node, hint, format string, args ...any) {
		d.findings = append(d.findings, finding{node: n, origin: originSchema, severity: SeverityError, category: engine.CategorySchema, message: fmt.Sprintf(format, args...), hint: hint})
	}
	what := label(segs)
	got := d.literal(n)
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = jsonTypeWords[w]
		}
		add(n, "", "%s must be %s, got %s", what, strings.Join(want, " or "), d.describe(n))
	case *kind.Required:
		quoted := make([]string, len(k.Missing))
		for i, m := range k.Missing {
			quoted[i] = strconv.Quote(m)
		}
		field := "field"
		if len(quoted) > 1 {
			field = "fields"
		}
		add(n, "", "%s is missing the required %s %s", nounAt(segs), field, joinAnd(quoted))
	case *kind.AdditionalProperties:
		var names []string
		if t := typeAt(segs); t != nil && t.Kind() == reflect.Struct {
			names = infoOf(t).names
		}
		for _, p := range k.Properties {
			key := d.childKey(n, p)
			if key == nil {
				key = n
			}
			hint := ""
			if s := suggest.Closest(p, names); s != "" {
				hint = "did you mean " + strconv.Quote(s) + "?"
			}
			add(key, hint, "unknown field %q in %s", p, kindAt(segs))
		}
	case *kind.Minimum:
		add(n, "", "%s must be at least %s, got %s", what, ratText(k.Want), got)
	case *kind.Maximum:
		add(n, "", "%s must be at most %s, got %s", what, ratText(k.Want), got)
	case *kind.ExclusiveMinimum:
		add(n, "", "%s must be more than %s, got %s", what, ratText(k.Want), got)
	case *kind.ExclusiveMaximum:
		add(n, "", "%s must be less than %s, got %s", what, ratText(k.Want), got)
	case *kind.MinLength:
		if k.Want == 1 {
			add(n, "", "%s must not be empty", what)
		} else {
			add(n, "", "%s must be at least %d characters long, got %d", what, k.Want, k.Got)
		}
	case *kind.MaxLength:
		add(n, "", "%s must be at most %d characters long, got %d", what, k.Want, k.Got)
	case *kind.MinItems:
		if k.Want == 1 {
			add(n, "", "%s must have at least one entry", what)
		} else {
			add(n, "", "%s must have at least %d entries, got %d", what, k.Want, k.Got)
		}
	case *kind.MaxItems:
		add(n, "", "%s may have at most %d entries, got %d", what, k.Want, k.Got)
	case *kind.Pattern:
		words, ok := patternWords[k.Want]
		if !ok {
			words = "text matching " + k.Want
		}
		hint := ""
		if re, err := regexp.Compile(k.Want); err == nil && slugify(k.Got) != k.Got && re.MatchString(slugify(k.Got)) {
			hint = "try " + strconv.Quote(slugify(k.Got))
		}
		add(n, hint, "%s %q is not valid: use %s", what, k.Got, words)
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			want = append(want, fmt.Sprint(w))
		}
		hint := ""
		if s, ok := k.Got.(string); ok {
			if sug := suggest.Closest(s, want); sug != "" {
				hint = "did you mean " + strconv.Quote(sug) + "?"
			}
		}
		add(n, hint, "%s must be one of %s; got %s", what, strings.Join(want, ", "), got)
	case *kind.Format:
		if k.Want == "date" {
			add(n, "", "%s must be a date written YYYY-MM-DD, got %s", what, got)
		} else {
			add(n, "", "%s must be a %s, got %s", what, k.Want, got)
		}
	default:
		add(n, "", "%s: %s", what, ve.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
	}
}

var jsonTypeWords = map[string]string{
	"object":  "a mapping",
	"array":   "a list",
	"string":  "text",
	"integer": "a whole number",
	"number":  "a number",
	"boolean": "true or false",
	"null":    "nothing",
}

// patternWords says in words what the schema's patterns ask for.
var patternWords = map[string]string{
	`^[a-z0-9][a-z0-9._-]*$`:   "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
	`^[a-z0-9][a-z0-9_-]*$`:    "lowercase letters, digits, '_' and '-', starting with a letter or digit",
	`^[A-Z]{2}$`:               "a two-letter country code in capitals, such as US (ISO 3166-1)",
	`^[A-Z]{2}-[A-Z0-9]{1,3}$`: "a subdivision code such as US-WA (ISO 3166-2)",
	`^[0-9b-hjkmnp-z]{1,3}$`:   "a geohash cell of at most 3 characters (about 156 km); finer cells are too precise",
}

// slugify suggests an id for text that is not one: "Trail Shoe" -> "trail-shoe".
func slugify(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.Fields(s), "-")
}

// literal is a scalar as written in the file, for "got ..." in messages.
func (d *document) literal(n ast.Node) string {
	v, ok := d.scalar(n)
	if !ok {
		return d.describe(n)
	}
	if s, isStr := v.(string); isStr {
		return strconv.Quote(s)
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return fmt.Sprint(v)
}

func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// typeAt is the Go type of the value at a path in an engine.Ruleset, or
// nil when the path leaves the model.
func typeAt(segs []seg) reflect.Type {
	t := reflect.TypeFor[engine.Ruleset]()
	for _, s := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			index, ok := infoOf(t).fields[s.name]
			if !ok {
				return nil
			}
			t = t.FieldByIndex(index).Type
		case reflect.Slice, reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// nounAt names the mapping at a path for a message about its fields.
func nounAt(segs []seg) string {
	if len(segs) == 0 {
		return "the ruleset"
	}
	return label(segs)
}

// kindAt says what kind of mapping is at a path: "catalogue item".
func kindAt(segs []seg) string {
	if t := typeAt(segs); t != nil && t.Kind() == reflect.Struct {
		return infoOf(t).noun
	}
	return label(segs)
}
