package ruleset

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/suggest"
	"github.com/goccy/go-yaml/ast"
)

// structInfo is how a struct's fields are named in YAML (the yaml tags,
// which match the json and msgpack tags), inline fields flattened.
type structInfo struct {
	noun   string           // "item", "interest test": what one of these is called in messages
	doc    string           // where the reference documents it: docs/rulesets.md#item
	names  []string         // field names in declaration order
	fields map[string][]int // name -> reflect field index path
}

var structInfos sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{noun: nounOf(t), fields: map[string][]int{}}
	if rulesetTypes()[t] {
		si.doc = referenceLink(t.Name()) // the reference documents the ruleset's types
	}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("yaml")
			if !ok {
				tag = f.Tag.Get("json") // as go-yaml reads a type with json tags only
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			index := append(append([]int(nil), prefix...), i)
			if f.Anonymous && name == "" || strings.Contains(","+opts+",", ",inline,") {
				if f.Type.Kind() == reflect.Struct {
					walk(f.Type, index)
				}
				continue
			}
			if name == "" {
				name = f.Name
			}
			si.names = append(si.names, name)
			si.fields[name] = index
		}
	}
	walk(t, nil)
	structInfos.Store(t, si)
	return si
}

// rulesetTypes are the struct types a ruleset is made of: those
// docs/rulesets.md documents.
var rulesetTypes = sync.OnceValue(func() map[reflect.Type]bool {
	out := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || out[t] {
			return
		}
		out[t] = true
		for i := range t.NumField() {
			walk(t.Field(i).Type)
		}
	}
	walk(reflect.TypeFor[engine.Ruleset]())
	return out
})

// nounOf turns a type name into words: InterestTest -> "interest test".
func nounOf(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[engine.Ruleset]():
		return "ruleset"
	case reflect.TypeFor[engine.ProfileSettings]():
		return "profile"
	case reflect.TypeFor[engine.Item]():
		return "catalogue item"
	case reflect.TypeFor[engine.Window]():
		return "schedule window"
	}
	var b strings.Builder
	// personaYAML is "persona": a file's own shape, named after what it holds.
	for i, r := range strings.TrimSuffix(t.Name(), "YAML") {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// decoder fills an engine.Ruleset from the AST, reporting every unknown
// field and every value of the wrong type, and carrying on past them.
type decoder struct {
	d *document
}

// decode fills v from n. label names the value in messages (its field
// name, or name[i]).
func (dc *decoder) decode(n ast.Node, v reflect.Value, label string) {
	d := dc.d
	n = d.deref(n)
	if n == nil {
		return // an empty document or an unresolved alias, already reported
	}
	if _, isNull := n.(*ast.NullNode); isNull && !d.strs[n] {
		return // null leaves the zero value; the schema says when one is required
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		dc.decode(n, p.Elem(), label)
		v.Set(p)
	case reflect.Struct:
		if !isMapping(n) {
			dc.typeError(n, label, "a mapping of "+infoOf(v.Type()).noun+" fields")
			return
		}
		si := infoOf(v.Type())
		for _, e := range d.entries(n) {
			index, ok := si.fields[e.name]
			if !ok {
				dc.unknownField(e, si)
				continue
			}
			dc.decode(e.value, v.FieldByIndex(index), e.name)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			dc.typeError(n, label, "a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, e := range seq.Values {
			dc.decode(e, s.Index(i), label+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case reflect.Map:
		if !isMapping(n) {
			dc.typeError(n, label, "a mapping")
			return
		}
		m := reflect.MakeMap(v.Type())
		for _, e := range d.entries(n) {
			ev := reflect.New(v.Type().Elem()).Elem()
			dc.decode(e.value, ev, label+"."+e.name)
			m.SetMapIndex(reflect.ValueOf(e.name).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	case reflect.String:
		switch s, _ := d.scalar(n); s := s.(type) {
		case string:
			v.SetString(s)
		default:
			hint := ""
			if tk := n.GetToken(); tk != nil && !isMapping(n) && !isSeq(n) {
				hint = "put it in quotes to make it text: " + strconv.Quote(tk.Value)
			}
			dc.mismatch(n, label, "text", hint)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s, _ := d.scalar(n)
		var i int64
		switch s := s.(type) {
		case int64:
			i = s
		case uint64:
			if s > math.MaxInt64 {
				dc.rangeError(n, label)
				return
			}
			i = int64(s)
		case float64:
			if math.IsInf(s, 0) || math.IsNaN(s) {
				dc.mismatch(n, label, "a whole number", "")
				return
			}
			if s != math.Trunc(s) {
				dc.mismatch(n, label, "a whole number", "")
				return
			}
			if s < math.MinInt64 || s >= math.MaxInt64 {
				dc.rangeError(n, label)
				return
			}
			i = int64(s)
		default:
			dc.mismatch(n, label, "a whole number", numberHint(s))
			return
		}
		if v.OverflowInt(i) {
			dc.rangeError(n, label)
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		s, _ := d.scalar(n)
		var f float64
		switch s := s.(type) {
		case int64:
			f = float64(s)
		case uint64:
			f = float64(s)
		case float64:
			f = s
		default:
			dc.mismatch(n, label, "a number", numberHint(s))
			return
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			d.errorf(n, engine.CategorySchema, "", "%s must be a finite number, got %s", label, d.describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		s, _ := d.scalar(n)
		b, ok := s.(bool)
		if !ok {
			hint := ""
			if str, isStr := s.(string); isStr {
				switch strings.ToLower(str) {
				case "yes", "y", "on":
					hint = "write true"
				case "no", "n", "off":
					hint = "write false"
				}
			}
			dc.mismatch(n, label, "true or false", hint)
			return
		}
		v.SetBool(b)
	}
}

func isMapping(n ast.Node) bool {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

func isSeq(n ast.Node) bool {
	_, ok := n.(*ast.SequenceNode)
	return ok
}

// numberHint helps with "14 days" or "2.5x" where a number belongs.
func numberHint(v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' && r != '-' && r != '+' }); i > 0 {
		return "write just the number: " + strings.TrimSpace(s[:i])
	}
	return ""
}

func (dc *decoder) typeError(n ast.Node, label, want string) {
	hint := ""
	if want == "a list" && !isMapping(n) {
		if tk := n.GetToken(); tk != nil {
			hint = "write a list, even of one: [" + tk.Value + "]"
		}
	}
	dc.mismatch(n, label, want, hint)
}

func (dc *decoder) mismatch(n ast.Node, label, want, hint string) {
	dc.d.errorf(n, engine.CategorySchema, hint, "%s must be %s, got %s", label, want, dc.d.describe(n))
}

func (dc *decoder) rangeError(n ast.Node, label string) {
	dc.d.errorf(n, engine.CategorySchema, "", "%s: %s is too large", label, dc.d.describe(n))
}

func (dc *decoder) unknownField(e entry, si *structInfo) {
	hint := ""
	if s := suggest.Closest(e.name, si.names); s != "" {
		hint = "did you mean " + strconv.Quote(s) + "?"
	} else {
		hint = si.noun + " fields are: " + strings.Join(si.names, ", ")
		if si.doc != "" {
			hint += "; see " + si.doc
		}
	}
	dc.d.errorf(e.key, engine.CategorySchema, hint, "unknown field %q in %s", e.name, si.noun)
}
