package ruleset

import (
	"fmt"
	"reflect"

	"github.com/edgewise/edgewise/engine"
)

// File is a YAML file other than a ruleset that the tools read, such as
// simulate's personas, decoded the way Parse decodes a ruleset, so that
// its problems come all at once and read like lint's: positions, the
// source line, a caret and a hint.
type File struct {
	d       *document
	decoded bool
}

// DecodeFile decodes src, one YAML document holding kind ("personas"),
// into v, a pointer to a struct whose fields have yaml tags. Like Parse it
// reports every unknown field (with the closest known name), every value
// of the wrong type and every duplicate key, and carries on past each;
// start says what the file should start with, for an empty one.
func DecodeFile(filename string, src []byte, kind, start string, v any) *File {
	d := parseKind(filename, src, kind)
	return &File{d: d, decoded: d.decodeRoot(reflect.ValueOf(v).Elem(), kind, "a "+kind+" file", start)}
}

// Decoded reports whether the file held a mapping to decode: false after a
// syntax error, for an empty file or a list at the top, when checking the
// values would only repeat that.
func (f *File) Decoded() bool { return f.decoded }

// Errorf adds an error about the value path names, a JSONPath such as
// $.personas[0].visits[1].at, placed at that value or the nearest
// enclosing one the file has.
func (f *File) Errorf(path, hint, format string, args ...any) {
	d := f.d
	n := d.deref(d.root)
	if segs, err := parsePath(path); err == nil {
		n, _ = d.locatePath(segs)
	}
	d.findings = append(d.findings, finding{node: n, origin: originValidate, severity: SeverityError,
		category: engine.CategorySchema, message: fmt.Sprintf(format, args...), hint: hint})
}

// Position is the line and column of the value path names, as Errorf
// would place a problem there (0, 0 when the file has no document).
func (f *File) Position(path string) (line, col int) {
	d := f.d
	if d.ast == nil {
		return 0, 0
	}
	n := d.deref(d.root)
	if segs, err := parsePath(path); err == nil {
		n, _ = d.locatePath(segs)
	}
	return d.pos(n)
}

// Diagnostics are the problems found so far, sorted by position. A
// problem at a value that did not decode is not repeated.
func (f *File) Diagnostics() []Diagnostic { return f.d.diagnostics() }
