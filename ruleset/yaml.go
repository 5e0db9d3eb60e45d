package ruleset

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits that keep a hostile file from costing more than a large honest one.
const (
	maxDepth    = 200       // nesting of mappings and lists
	maxExpanded = 1_000_000 // values in the document once aliases are expanded
)

// document is a parsed YAML file: the AST of its one document, with aliases
// resolved, and the source lines for diagnostics.
type document struct {
	file  string
	kind  string // what the file holds, in messages: "ruleset", "personas"
	lines []string
	ast   *ast.File // holding only the first document, for Path.FilterFile
	root  ast.Node  // body of the first document; nil when the file is empty

	aliases map[*ast.AliasNode]ast.Node // each alias's anchored value
	strs    map[ast.Node]bool           // scalars tagged !!str
	sizes   map[ast.Node]int            // expanded sizes, memoized
	tooDeep bool                        // nested past maxDepth: not decoded

	findings []finding
}

// finding is a Diagnostic before it has a file position, with what it is
// about, so that lint can tell when two checks report the same node.
type finding struct {
	node     ast.Node // the value (or key) the finding is about; nil for the document
	origin   int      // originParse, originValidate or originSchema
	severity string
	category string
	message  string
	hint     string
	// dependsOn is the node of another value the finding was found from;
	// the finding is dropped when that value could not be decoded.
	dependsOn ast.Node
}

const (
	originParse = iota
	originValidate
	originSchema
)

func (d *document) errorf(n ast.Node, category, hint, format string, args ...any) {
	d.findings = append(d.findings, finding{node: n, origin: originParse, severity: SeverityError, category: category, message: fmt.Sprintf(format, args...), hint: hint})
}

// parseDocument parses src into a document. When the YAML cannot be read
// at all, d.ast is nil and the reason is among d.findings.
func parseDocument(filename string, src []byte) *document {
	return parseKind(filename, src, "ruleset")
}

// parseKind is parseDocument for a file holding kind.
func parseKind(filename string, src []byte, kind string) *document {
	text := normalizeNewlines(src)
	d := &document{
		file:    filename,
		kind:    kind,
		lines:   strings.Split(text, "\n"),
		aliases: map[*ast.AliasNode]ast.Node{},
		strs:    map[ast.Node]bool{},
		sizes:   map[ast.Node]int{},
	}
	f, err := parser.ParseBytes([]byte(text), 0, parser.AllowDuplicateMapKey())
	if err != nil {
		d.syntaxError(err)
		return d
	}
	d.ast = &ast.File{Name: filename}
	if len(f.Docs) == 0 {
		return d
	}
	d.ast.Docs = f.Docs[:1]
	d.root = f.Docs[0].Body
	for _, extra := range f.Docs[1:] {
		if extra.Body == nil {
			continue // a trailing --- or ... with nothing after it
		}
		var at ast.Node = extra.Body
		if extra.Start != nil {
			at = tokenNode(extra.Start)
		}
		d.errorf(at, CategorySyntax, "put each "+d.kind+" in its own file, or remove the --- line", "a %s file holds one YAML document, but another one starts here", d.kind)
		break
	}
	d.prepass(d.root, map[string]ast.Node{}, map[string]bool{}, 0)
	return d
}

// normalizeNewlines makes every line break (CRLF, CR, LF: all three are
// breaks in YAML) an LF, so lines count the same here and in go-yaml,
// which counts a comment's CRLF as two lines. A byte order mark is
// dropped; columns on line 1 count from after it.
func normalizeNewlines(src []byte) string {
	text := strings.TrimPrefix(string(src), "\ufeff")
	return strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
}

// tokenNode wraps a bare token (such as a --- document start) as a node
// so a finding can point at it.
func tokenNode(tk *token.Token) ast.Node { return ast.String(tk) }

// syntaxError turns the parser's error into a finding with its position
// and a message in plain words.
func (d *document) syntaxError(err error) {
	msg, hint := err.Error(), ""
	var n ast.Node
	var e interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &e) {
		msg = e.GetMessage()
		if tk := e.GetToken(); tk != nil && tk.Position != nil {
			n = tokenNode(tk)
		}
	}
	switch {
	case strings.Contains(msg, "'\t'") || strings.Contains(msg, "tab character"):
		msg = "tab character: YAML indents with spaces only"
		hint = "replace the tab with spaces"
	case strings.Contains(msg, "end token ']' not found"):
		msg = "this [ list is never closed"
		hint = "add the closing ]"
	case strings.Contains(msg, "end token '}' not found"):
		msg = "this { mapping is never closed"
		hint = "add the closing }"
	case strings.Contains(msg, "could not find end character of single-quoted text"):
		msg = "this 'quoted text' is never closed"
		hint = "add the closing '"
	case strings.Contains(msg, "could not find end character of double-quoted text"):
		msg = `this "quoted text" is never closed`
		hint = `add the closing "`
	case strings.Contains(msg, "',' or ']' must be specified"), strings.Contains(msg, "',' or '}' must be specified"):
		open, what, close := byte('['), "list", "]"
		if strings.Contains(msg, "'}'") {
			open, what, close = '{', "mapping", "}"
		}
		msg = fmt.Sprintf("expected \",\" or \"%s\": a %c %s is still open here", close, open, what)
		hint = fmt.Sprintf("close the %s with %s, or write one entry per line", what, close)
		if n != nil {
			line, col := d.pos(n)
			if ol, oc, ok := openBracket(d.lines, line, col, open); ok {
				msg = fmt.Sprintf("this %c %s is never closed", open, what)
				hint = fmt.Sprintf("add %s at its end (YAML was still reading it on line %d)", close, line)
				n = tokenNode(&token.Token{Value: string(open), Position: &token.Position{Line: ol, Column: oc}})
			}
		}
	case strings.Contains(msg, "value is not allowed in this context"):
		msg = "unexpected key: value here; check the indentation"
		hint = "the keys of one mapping line up in the same column, and a nested mapping is indented under its key"
	default:
		msg = "YAML syntax error: " + msg
	}
	d.findings = append(d.findings, finding{node: n, origin: originParse, severity: SeverityError, category: CategorySyntax, message: msg, hint: hint})
}

// openBracket finds the innermost [ or { still open at line:col, the
// place a parser gave up on an unclosed flow list or mapping. It skips
// quoted text and comments; it returns false when the innermost open
// bracket is not of the kind asked for or is on the error's own line,
// where the parser's position says enough.
func openBracket(lines []string, endLine, endCol int, want byte) (line, col int, ok bool) {
	type pos struct {
		c         byte
		line, col int
	}
	var stack []pos
	var quote rune
lines:
	for l := 1; l <= endLine && l <= len(lines); l++ {
		runes := []rune(lines[l-1])
		prev := ' '
		for i := 0; i < len(runes); i++ {
			r, c := runes[i], i+1
			if l == endLine && c >= endCol {
				break
			}
			switch {
			case quote == '\'' && r == '\'' && i+1 < len(runes) && runes[i+1] == '\'':
				i++ // '' is a quote inside single-quoted text
			case quote == '\'' && r == '\'':
				quote = 0
			case quote == '"' && r == '"' && prev != '\\':
				quote = 0
			case quote != 0:
			case r == '#' && (prev == ' ' || prev == '\t' || i == 0):
				continue lines
			case (r == '\'' || r == '"') && strings.ContainsRune(" \t[{,:", prev):
				quote = r
			case r == '[' || r == '{':
				stack = append(stack, pos{byte(r), l, c})
			case (r == ']' || r == '}') && len(stack) > 0:
				stack = stack[:len(stack)-1]
			}
			prev = r
		}
	}
	if len(stack) == 0 {
		return 0, 0, false
	}
	top := stack[len(stack)-1]
	if top.c != want || top.line == endLine {
		return 0, 0, false
	}
	return top.line, top.col, true
}

// prepass walks the document once in order: it resolves aliases to the
// anchors defined before them, records !!str tags, and reports duplicate
// keys, bad merge keys and nesting too deep to be a ruleset.
func (d *document) prepass(n ast.Node, anchors map[string]ast.Node, open map[string]bool, depth int) {
	if n == nil {
		return
	}
	if depth > maxDepth {
		if !d.tooDeep {
			d.errorf(n, CategorySyntax, "", "the document is nested more than %d levels deep", maxDepth)
		}
		d.tooDeep = true
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		name := v.Name.GetToken().Value
		open[name] = true
		d.prepass(v.Value, anchors, open, depth+1)
		delete(open, name)
		anchors[name] = v.Value
	case *ast.AliasNode:
		name := v.Value.GetToken().Value
		switch target, ok := anchors[name]; {
		case open[name]:
			d.errorf(v, CategorySyntax, "", "alias *%s is inside the value anchored as &%s; a value cannot contain itself", name, name)
		case !ok:
			d.errorf(v, CategorySyntax, "define the value with &"+name+" before this point", "unknown alias *%s", name)
		default:
			d.aliases[v] = target
		}
	case *ast.TagNode:
		if _, scalar := v.Value.(ast.ScalarNode); scalar && token.ReservedTagKeyword(v.Start.Value) == token.StringTag {
			d.strs[v.Value] = true
		}
		d.prepass(v.Value, anchors, open, depth+1)
	case *ast.MappingNode:
		d.prepassMapping(v.Values, anchors, open, depth)
	case *ast.MappingValueNode:
		d.prepassMapping([]*ast.MappingValueNode{v}, anchors, open, depth)
	case *ast.MappingKeyNode:
		d.prepass(v.Value, anchors, open, depth+1)
	case *ast.SequenceNode:
		for _, e := range v.Values {
			d.prepass(e, anchors, open, depth+1)
		}
	}
}

func (d *document) prepassMapping(values []*ast.MappingValueNode, anchors map[string]ast.Node, open map[string]bool, depth int) {
	seen := map[string]ast.Node{}
	for _, mv := range values {
		d.prepass(mv.Key, anchors, open, depth+1)
		d.prepass(mv.Value, anchors, open, depth+1)
		if isMergeKey(mv.Key) {
			d.checkMerge(mv.Value)
			continue
		}
		name, ok := d.keyText(mv.Key)
		if !ok {
			d.errorf(mv.Key, CategorySyntax, "", "a key must be plain text, not %s", d.describe(d.deref(mv.Key)))
			continue
		}
		if first, dup := seen[name]; dup {
			line, _ := d.pos(first)
			d.errorf(mv.Key, CategorySyntax, "remove one of them", "%q is already set on line %d", name, line)
			continue
		}
		seen[name] = mv.Key
	}
}

func (d *document) checkMerge(v ast.Node) {
	ok := func(n ast.Node) bool {
		return isMapping(d.deref(n)) || d.deref(n) == nil // nil: an unknown alias, reported already
	}
	if seq, isSeq := d.deref(v).(*ast.SequenceNode); isSeq {
		for _, e := range seq.Values {
			if !ok(e) {
				d.errorf(d.deref(e), CategorySyntax, "", "a << merge takes mappings, not %s", d.describe(d.deref(e)))
			}
		}
		return
	}
	if !ok(v) {
		d.errorf(d.deref(v), CategorySyntax, "", "a << merge takes a mapping or a list of mappings, not %s", d.describe(d.deref(v)))
	}
}

func isMergeKey(k ast.MapKeyNode) bool {
	_, ok := k.(*ast.MergeKeyNode)
	return ok
}

// deref looks through anchors, aliases and tags to the value itself. An
// alias that did not resolve derefs to nil, as does an empty document.
func (d *document) deref(n ast.Node) ast.Node {
	for range maxDepth {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			n = d.aliases[v]
		case *ast.TagNode:
			if d.strs[v.Value] {
				return v.Value
			}
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		case nil:
			return nil
		default:
			return n
		}
	}
	return nil
}

// entry is one key of a mapping, merges included.
type entry struct {
	key   ast.Node // as written, for positions
	name  string
	value ast.Node
}

// entries lists a mapping's keys in order, followed by keys merged in with
// << that the mapping does not set itself. The first of duplicate keys
// wins (duplicates are reported by prepass).
func (d *document) entries(n ast.Node) []entry {
	var values []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.MappingNode:
		values = v.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{v}
	default:
		return nil
	}
	var out []entry
	seen := map[string]bool{}
	var merges []ast.Node
	for _, mv := range values {
		if isMergeKey(mv.Key) {
			if seq, ok := d.deref(mv.Value).(*ast.SequenceNode); ok {
				merges = append(merges, seq.Values...)
			} else {
				merges = append(merges, mv.Value)
			}
			continue
		}
		name, ok := d.keyText(mv.Key)
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, entry{key: mv.Key, name: name, value: mv.Value})
	}
	for _, m := range merges {
		for _, e := range d.entries(d.deref(m)) {
			if !seen[e.name] {
				seen[e.name] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// keyText is a scalar key's text as written (unquoted).
func (d *document) keyText(k ast.Node) (string, bool) {
	switch v := d.deref(k).(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// numberRE is YAML 1.2's float syntax, which the parser leaves as text
// when written with an exponent or too many digits for an int64.
var numberRE = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// scalar is the value of a deref'd scalar node: string, int64, uint64,
// float64, bool or nil. ok is false for mappings and lists.
func (d *document) scalar(n ast.Node) (v any, ok bool) {
	if d.strs[n] {
		switch v := n.(type) {
		case *ast.StringNode:
			return v.Value, true
		case *ast.LiteralNode:
			return v.Value.Value, true
		case *ast.NullNode:
			return "", true
		}
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	switch v := n.(type) {
	case nil:
		return nil, true
	case *ast.StringNode:
		if v.Token != nil && v.Token.Type == token.StringType && v.Value != "" && strings.IndexByte("+-.0123456789", v.Value[0]) >= 0 && numberRE.MatchString(v.Value) {
			if f, err := strconv.ParseFloat(v.Value, 64); err == nil {
				return f, true
			}
		}
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode:
		return v.Value, true
	case *ast.FloatNode:
		return v.Value, true
	case *ast.InfinityNode:
		return v.Value, true
	case *ast.NanNode:
		return math.NaN(), true
	case *ast.BoolNode:
		return v.Value, true
	case *ast.NullNode:
		return nil, true
	}
	return nil, false
}

// toJSON converts a value to what encoding/json would decode from the same
// document: map[string]any, []any, string, int64, uint64, float64, bool or
// nil. Infinities and NaN have no JSON form and become nil (the decoder
// reports them).
func (d *document) toJSON(n ast.Node) any {
	n = d.deref(n)
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		es := d.entries(v)
		m := make(map[string]any, len(es))
		for _, e := range es {
			m[e.name] = d.toJSON(e.value)
		}
		return m
	case *ast.SequenceNode:
		a := make([]any, len(v.Values))
		for i, e := range v.Values {
			a[i] = d.toJSON(e)
		}
		return a
	}
	s, _ := d.scalar(n)
	if f, ok := s.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return nil
	}
	return s
}

// expandedSize counts the values in n with aliases expanded, saturating
// at maxExpanded+1. It is memoized per node, so it is linear in the file.
func (d *document) expandedSize(n ast.Node, depth int) int {
	n = d.deref(n)
	if n == nil || depth > maxDepth {
		return 1
	}
	if s, ok := d.sizes[n]; ok {
		return s
	}
	size := 1
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		for _, e := range d.entries(v) {
			size += 1 + d.expandedSize(e.value, depth+1)
			if size > maxExpanded {
				break
			}
		}
	case *ast.SequenceNode:
		for _, e := range v.Values {
			size += d.expandedSize(e, depth+1)
			if size > maxExpanded {
				break
			}
		}
	}
	size = min(size, maxExpanded+1)
	d.sizes[n] = size
	return size
}

// child is the value under one path step, or nil.
func (d *document) child(n ast.Node, s seg) ast.Node {
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		for _, e := range d.entries(v) {
			if e.name == s.name {
				return e.value
			}
		}
	case *ast.SequenceNode:
		if s.index >= 0 && s.index < len(v.Values) {
			return v.Values[s.index]
		}
	}
	return nil
}

// childKey is the key node for name in mapping n, or nil.
func (d *document) childKey(n ast.Node, name string) ast.Node {
	for _, e := range d.entries(n) {
		if e.name == name {
			return e.key
		}
	}
	return nil
}

// locate finds the node a path names. When the path runs past what the
// document holds (a missing field), it returns the nearest existing parent
// and exact false.
func (d *document) locate(segs []seg) (ast.Node, bool) {
	cur := d.deref(d.root)
	for _, s := range segs {
		next := d.deref(d.child(cur, s))
		if next == nil {
			return cur, false
		}
		cur = next
	}
	return cur, true
}

// locatePath finds the node for a JSONPath from engine.Validate. Plain
// documents resolve through go-yaml's own path filter; paths through
// anchors, aliases or merge keys, and paths to missing nodes, fall back to
// locate.
func (d *document) locatePath(segs []seg) (ast.Node, bool) {
	if d.ast != nil && len(segs) > 0 {
		b := (&yaml.PathBuilder{}).Root()
		for _, s := range segs {
			if s.index >= 0 {
				b = b.Index(uint(s.index))
			} else {
				b = b.Child(s.name)
			}
		}
		if n, err := b.Build().FilterFile(d.ast); err == nil && n != nil {
			if n = d.deref(n); n != nil {
				return n, true
			}
		}
	}
	return d.locate(segs)
}

// pos is where a node starts: for a block mapping its first key (go-yaml
// places the mapping at the first ':'), otherwise its first token.
func (d *document) pos(n ast.Node) (line, col int) {
	switch v := n.(type) {
	case nil:
		return 1, 1
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return d.pos(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return d.pos(v.Key)
	case *ast.LiteralNode:
		if v.Start != nil {
			return d.tokenPos(v.Start)
		}
	}
	if tk := n.GetToken(); tk != nil {
		return d.tokenPos(tk)
	}
	return 1, 1
}

func (d *document) tokenPos(tk *token.Token) (line, col int) {
	if tk == nil || tk.Position == nil {
		return 1, 1
	}
	line, col = tk.Position.Line, tk.Position.Column
	if line < 1 {
		line, col = 1, 1
	}
	if line > len(d.lines) {
		line = len(d.lines)
		col = len([]rune(d.lines[line-1])) + 1
	}
	return line, min(max(col, 1), len([]rune(d.lines[line-1]))+1)
}

// describe names a value for a message: "the text "abc"", "the number 3", "a list".
func (d *document) describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	v, _ := d.scalar(n)
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		if len(v) > 40 {
			v = string([]rune(v)[:min(len([]rune(v)), 37)]) + "..."
		}
		return "the text " + strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		switch {
		case math.IsNaN(v):
			return "NaN"
		case math.IsInf(v, 0):
			return "infinity"
		}
		if tk := n.GetToken(); tk != nil {
			return "the number " + tk.Value
		}
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprintf("the number %v", v)
	}
}
