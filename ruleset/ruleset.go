// Package ruleset is the YAML front end for Edgewise rulesets. Marketers
// write rulesets in YAML; Parse decodes one into an engine.Ruleset, Lint
// also checks it against the JSON Schema (Schema) and the full validator
// (engine/buildtime.Validate: engine.Validate with the lexicon), and
// every problem comes back as a Diagnostic with a file position, which
// Format prints the way compilers do.
//
// This package is for tools (the edgewise CLI, editors, CI). It must not
// be imported by the engine or the wasm module: its YAML and JSON Schema
// libraries have no place in the bundle browsers download.
package ruleset

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/goccy/go-yaml/ast"
)

// Severities, the same words as engine.Severity.
const (
	SeverityError   = string(engine.SeverityError)
	SeverityWarning = string(engine.SeverityWarning)
)

// CategorySyntax is for YAML that cannot be read: bad syntax, several
// documents in one file, unknown aliases, duplicate keys. The other
// categories are engine's (engine.CategorySchema and so on).
const CategorySyntax = "syntax"

// Diagnostic is one problem at one place in a file.
type Diagnostic struct {
	File     string
	Line     int    // 1-based
	Column   int    // 1-based, counted in characters
	Severity string // SeverityError or SeverityWarning
	Category string // CategorySyntax or one of engine's Category constants
	Message  string
	Hint     string // what to do about it, if there is something to say
	LineText string // the source line at Line, without its line break (CR, LF or CRLF)
}

// Parse decodes a YAML ruleset. It reports every problem it can find
// rather than stopping at the first: syntax errors (only the first, as
// YAML cannot be read past one), more than one document, unknown fields
// (with the closest known field as a hint), values of the wrong type,
// duplicate keys and unknown aliases. Anchors, aliases and << merge keys
// work as in any YAML.
//
// The ruleset is nil only when the file holds nothing that can be decoded
// (a syntax error, an empty file, a list at the top); otherwise it holds
// every value that decoded, even when there are errors. Diagnostics are
// sorted by position.
func Parse(filename string, src []byte) (*engine.Ruleset, []Diagnostic) {
	d := parseDocument(filename, src)
	rs := d.decodeRuleset()
	return rs, d.diagnostics()
}

// Lint runs Parse, checks the document against the JSON Schema, and runs
// buildtime.Validate on the decoded ruleset, placing each problem at the
// YAML node its path names (or the nearest enclosing node that exists).
// When the schema and Validate report the same node, only Validate's
// message is kept; problems at a node Parse could not decode are dropped,
// as they would only repeat it.
func Lint(filename string, src []byte) []Diagnostic {
	return lint(filename, src, buildtime.Validate)
}

func lint(filename string, src []byte, validate func(*engine.Ruleset) []engine.Problem) []Diagnostic {
	d := parseDocument(filename, src)
	rs := d.decodeRuleset()
	if rs == nil {
		return d.diagnostics()
	}
	d.checkSchema()
	if validate != nil {
		for _, p := range validate(rs) {
			d.addProblem(p)
		}
	}
	return d.diagnostics()
}

// decodeRuleset decodes the document, or returns nil when there is
// nothing to decode (the reason is among d.findings).
func (d *document) decodeRuleset() *engine.Ruleset {
	rs := new(engine.Ruleset)
	if !d.decodeRoot(reflect.ValueOf(rs).Elem(), "ruleset", "a ruleset", "start with the id, version, signals, catalogue and slots fields") {
		return nil
	}
	return rs
}

// decodeRoot decodes the document into v, labelled label in messages, and
// reports whether there was a mapping to decode. When there was not (a
// syntax error, nesting too deep, an empty file, an alias bomb, anything
// but a mapping at the top) the reason is among d.findings; what names
// the file's whole value ("a ruleset") and start says how it should begin.
func (d *document) decodeRoot(v reflect.Value, label, what, start string) bool {
	if d.ast == nil || d.tooDeep {
		return false // a syntax error, or nesting no file of ours has
	}
	if d.root == nil {
		d.errorf(nil, CategorySyntax, start, "the file holds no %s", label)
		return false
	}
	if d.expandedSize(d.root, 0) > maxExpanded {
		d.errorf(d.root, CategorySyntax, "", "aliases expand this document to more than %d values", maxExpanded)
		return false
	}
	root := d.deref(d.root)
	if !isMapping(root) {
		if root == nil {
			root = d.root
		}
		d.errorf(root, engine.CategorySchema, start, "%s is a mapping of fields, not %s", what, d.describe(root))
		return false
	}
	(&decoder{d: d}).decode(root, v, label)
	return true
}

// addProblem places one of engine.Validate's problems.
func (d *document) addProblem(p engine.Problem) {
	var n ast.Node
	if segs, err := parsePath(p.Path); err == nil {
		n, _ = d.locatePath(segs)
	} else {
		n = d.deref(d.root)
	}
	f := finding{node: n, origin: originValidate, severity: string(p.Severity), category: p.Category, message: p.Message, hint: p.Hint}
	if p.DependsOn != "" {
		if segs, err := parsePath(p.DependsOn); err == nil {
			f.dependsOn, _ = d.locatePath(segs)
		}
	}
	d.findings = append(d.findings, f)
}

// diagnostics drops findings that repeat another at the same node, places
// the rest and sorts them by position.
func (d *document) diagnostics() []Diagnostic {
	parsed := map[ast.Node]bool{}
	validated := map[ast.Node]bool{}
	for _, f := range d.findings {
		if f.node == nil {
			continue
		}
		switch {
		case f.origin == originParse:
			parsed[f.node] = true
		case f.origin == originValidate && (f.category == engine.CategorySchema || f.category == engine.CategoryPolicy):
			validated[f.node] = true
		}
	}
	type placed struct {
		Diagnostic
		origin int
	}
	var out []placed
	seen := map[string]bool{}
	for _, f := range d.findings {
		if f.node != nil && f.origin != originParse && (parsed[f.node] || f.origin == originSchema && validated[f.node]) {
			continue
		}
		if f.dependsOn != nil && parsed[f.dependsOn] {
			continue // found from a value that did not decode
		}
		line, col := d.pos(f.node)
		key := fmt.Sprint(line, ":", col, ":", f.severity, ":", f.message)
		if seen[key] {
			continue
		}
		seen[key] = true
		severity := f.severity
		if severity != SeverityWarning {
			severity = SeverityError
		}
		out = append(out, placed{Diagnostic{
			File:     d.file,
			Line:     line,
			Column:   col,
			Severity: severity,
			Category: f.category,
			Message:  f.message,
			Hint:     f.hint,
			LineText: d.lines[line-1],
		}, f.origin})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.origin != b.origin {
			return a.origin < b.origin
		}
		return a.Message < b.Message
	})
	diags := make([]Diagnostic, len(out))
	for i, p := range out {
		diags[i] = p.Diagnostic
	}
	return diags
}

// Format renders a diagnostic the way gcc and esbuild do: the position and
// message, the source line, a caret under the column, and the hint. The
// result ends with a newline.
//
//	rules.yaml:12:14: error: boost must be at most 10, got 12
//	    boost: 12
//	           ^
//	  hint: ...
func Format(d Diagnostic) string {
	var b strings.Builder
	if d.Line > 0 {
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s\n", d.File, d.Line, d.Column, d.Severity, d.Message)
		b.WriteString(d.LineText)
		b.WriteByte('\n')
		col := 1
		for _, r := range d.LineText {
			if col >= d.Column {
				break
			}
			if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
			col++
		}
		b.WriteString(strings.Repeat(" ", max(d.Column-col, 0)))
		b.WriteString("^\n")
	} else {
		fmt.Fprintf(&b, "%s: %s: %s\n", d.File, d.Severity, d.Message)
	}
	if d.Hint != "" {
		fmt.Fprintf(&b, "  hint: %s\n", d.Hint)
	}
	return b.String()
}
