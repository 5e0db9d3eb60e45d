// Package msgpgen generates reflection-free msgpack codecs for Go structs,
// on top of internal/mp. It is a build-time tool: its output is checked in
// (engine/msgp_gen.go, internal/abi/msgp_gen.go), and a test fails when that
// output is stale.
//
// The codecs do what github.com/vmihailenco/msgpack/v5 does with
// UseCompactInts and DisallowUnknownFields, for the types the engine's
// messages use: the same bytes out, the same values and errors in. The
// struct tags are msgpack/v5's (name, omitempty, inline, as_array, "-"), so
// one set of tags serves the reference codec on the hosts and the generated
// one in the wasm.
//
// A struct field of a type named RawMessage (or rawMessage) declared as
// []byte holds one msgpack value of any type, as its bytes.
//
// The generator reads Go source with go/parser only, so it runs even when
// the package's current generated file no longer compiles.
package msgpgen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Config says what to generate for one package.
type Config struct {
	Dir    string   // the package's directory
	Output string   // the generated file's name, in Dir; it is not read
	Decode []string // root types to decode: "T" in this package, or "engine.T"
	Encode []string // root types to encode
	// Command is the go:generate line, repeated in the file's header.
	Command string
}

// Generate returns the formatted source of the codecs cfg asks for.
func Generate(cfg Config) ([]byte, error) {
	g := &gen{cfg: cfg, pkgs: map[string]*pkg{}, decodes: map[*named]bool{}, encodes: map[*named]bool{}, empties: map[*named]bool{}}
	own, err := g.load(cfg.Dir, "")
	if err != nil {
		return nil, err
	}
	g.own = own
	for _, root := range cfg.Decode {
		n, err := g.root(root)
		if err != nil {
			return nil, err
		}
		g.markDecode(n)
	}
	for _, root := range cfg.Encode {
		n, err := g.root(root)
		if err != nil {
			return nil, err
		}
		if err := g.markEncode(n); err != nil {
			return nil, err
		}
	}
	return g.emit()
}

// ---- reading the types ----

type kind int

const (
	kString kind = iota
	kBool
	kInt
	kInt64
	kUint16
	kFloat64
	kBytes
	kStrings
	kSlice
	kPtr
	kMap
	kStruct
	kRaw
)

type typ struct {
	kind  kind
	goTyp string // the Go type as the output package spells it
	conv  string // for a named basic type (type Code string): its name
	elem  *typ   // slice, pointer and map elements
	named *named // structs
}

type field struct {
	goPath    string // p.<goPath>, through inlined structs
	wire      string
	omitEmpty bool
	t         *typ
}

type named struct {
	pkg     *pkg
	name    string
	goTyp   string
	asArray bool
	fields  []field
	spec    *ast.StructType
	loaded  bool
}

type pkg struct {
	dir     string
	name    string // package name
	qual    string // how the output package refers to it ("" for itself)
	specs   map[string]ast.Expr
	imports map[string]string // package name -> import path, per file merged
	types   map[string]*named
}

type gen struct {
	cfg     Config
	own     *pkg
	pkgs    map[string]*pkg // by directory
	decodes map[*named]bool
	encodes map[*named]bool
	empties map[*named]bool
	order   []*named
}

const modulePath = "github.com/edgewise/edgewise"

func (g *gen) load(dir, qual string) (*pkg, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if p, ok := g.pkgs[abs]; ok {
		return p, nil
	}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	p := &pkg{dir: abs, qual: qual, specs: map[string]ast.Expr{}, imports: map[string]string{}, types: map[string]*named{}}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if abs == g.ownDir() && name == g.cfg.Output {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(abs, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		p.name = f.Name.Name
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			local := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			if strings.HasPrefix(local, "v") && strings.Contains(path, "msgpack") {
				local = "msgpack"
			}
			p.imports[local] = path
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				p.specs[ts.Name.Name] = ts.Type
			}
		}
	}
	g.pkgs[abs] = p
	return p, nil
}

func (g *gen) ownDir() string {
	abs, _ := filepath.Abs(g.cfg.Dir)
	return abs
}

// moduleRoot is the directory of go.mod above the package.
func (g *gen) moduleRoot() (string, error) {
	dir := g.ownDir()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("msgpgen: no go.mod above " + g.cfg.Dir)
		}
		dir = parent
	}
}

func (g *gen) root(name string) (*named, error) {
	p := g.own
	if i := strings.IndexByte(name, '.'); i >= 0 {
		var err error
		if p, err = g.imported(g.own, name[:i]); err != nil {
			return nil, err
		}
		name = name[i+1:]
	}
	t, err := g.namedType(p, name)
	if err != nil {
		return nil, err
	}
	if t.kind != kStruct {
		return nil, fmt.Errorf("msgpgen: root type %s is not a struct", name)
	}
	return t.named, nil
}

func (g *gen) imported(from *pkg, local string) (*pkg, error) {
	path, ok := from.imports[local]
	if !ok {
		return nil, fmt.Errorf("msgpgen: package %s does not import %q", from.name, local)
	}
	if !strings.HasPrefix(path, modulePath+"/") {
		return nil, fmt.Errorf("msgpgen: cannot read types of %s, outside the module", path)
	}
	root, err := g.moduleRoot()
	if err != nil {
		return nil, err
	}
	qual := local
	if filepath.Join(root, strings.TrimPrefix(path, modulePath+"/")) == g.ownDir() {
		qual = ""
	}
	return g.load(filepath.Join(root, strings.TrimPrefix(path, modulePath+"/")), qual)
}

func (p *pkg) spell(name string) string {
	if p.qual == "" {
		return name
	}
	return p.qual + "." + name
}

// namedType resolves a type declared in p.
func (g *gen) namedType(p *pkg, name string) (*typ, error) {
	if n, ok := p.types[name]; ok {
		return &typ{kind: kStruct, goTyp: n.goTyp, named: n}, nil
	}
	expr, ok := p.specs[name]
	if !ok {
		return nil, fmt.Errorf("msgpgen: no type %s in package %s", name, p.name)
	}
	if st, ok := expr.(*ast.StructType); ok {
		n := &named{pkg: p, name: name, goTyp: p.spell(name), spec: st}
		p.types[name] = n
		if err := g.fields(n); err != nil {
			return nil, err
		}
		return &typ{kind: kStruct, goTyp: n.goTyp, named: n}, nil
	}
	t, err := g.resolve(p, expr)
	if err != nil {
		return nil, fmt.Errorf("msgpgen: type %s: %w", name, err)
	}
	switch t.kind {
	case kString, kBool, kInt, kInt64, kUint16, kFloat64:
		return &typ{kind: t.kind, goTyp: p.spell(name), conv: p.spell(name)}, nil
	case kBytes:
		// A []byte named like msgpack/v5's RawMessage is one raw value.
		if strings.EqualFold(name, "RawMessage") {
			return &typ{kind: kRaw, goTyp: p.spell(name)}, nil
		}
	}
	return nil, fmt.Errorf("msgpgen: type %s is a named %s, which is not supported", name, t.goTyp)
}

func (g *gen) resolve(p *pkg, expr ast.Expr) (*typ, error) {
	switch e := expr.(type) {
	case *ast.Ident:
		switch e.Name {
		case "string":
			return &typ{kind: kString, goTyp: "string"}, nil
		case "bool":
			return &typ{kind: kBool, goTyp: "bool"}, nil
		case "int":
			return &typ{kind: kInt, goTyp: "int"}, nil
		case "int64":
			return &typ{kind: kInt64, goTyp: "int64"}, nil
		case "uint16":
			return &typ{kind: kUint16, goTyp: "uint16"}, nil
		case "float64":
			return &typ{kind: kFloat64, goTyp: "float64"}, nil
		}
		if _, ok := p.specs[e.Name]; ok {
			return g.namedType(p, e.Name)
		}
		return nil, fmt.Errorf("unsupported type %s", e.Name)
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		if !ok {
			return nil, errors.New("unsupported type expression")
		}
		if x.Name == "msgpack" && e.Sel.Name == "RawMessage" {
			return &typ{kind: kRaw, goTyp: "msgpack.RawMessage"}, nil
		}
		q, err := g.imported(p, x.Name)
		if err != nil {
			return nil, err
		}
		return g.namedType(q, e.Sel.Name)
	case *ast.ArrayType:
		if e.Len != nil {
			return nil, errors.New("arrays are not supported")
		}
		if id, ok := e.Elt.(*ast.Ident); ok && id.Name == "byte" {
			return &typ{kind: kBytes, goTyp: "[]byte"}, nil
		}
		el, err := g.resolve(p, e.Elt)
		if err != nil {
			return nil, err
		}
		if el.kind == kString && el.conv == "" {
			return &typ{kind: kStrings, goTyp: "[]string"}, nil
		}
		return &typ{kind: kSlice, goTyp: "[]" + el.goTyp, elem: el}, nil
	case *ast.StarExpr:
		el, err := g.resolve(p, e.X)
		if err != nil {
			return nil, err
		}
		return &typ{kind: kPtr, goTyp: "*" + el.goTyp, elem: el}, nil
	case *ast.MapType:
		k, err := g.resolve(p, e.Key)
		if err != nil {
			return nil, err
		}
		if k.kind != kString || k.conv != "" {
			return nil, errors.New("only map[string]T is supported")
		}
		v, err := g.resolve(p, e.Value)
		if err != nil {
			return nil, err
		}
		return &typ{kind: kMap, goTyp: "map[string]" + v.goTyp, elem: v}, nil
	}
	return nil, fmt.Errorf("unsupported type expression %T", expr)
}

// fields lists a struct's fields as msgpack/v5 sees them: in order, with
// inlined structs flattened, unexported and "-" fields left out.
func (g *gen) fields(n *named) error {
	for _, f := range n.spec.Fields.List {
		tag := ""
		if f.Tag != nil {
			raw, _ := strconv.Unquote(f.Tag.Value)
			tag = reflect.StructTag(raw).Get("msgpack")
		}
		name, opts, _ := strings.Cut(tag, ",")
		has := func(o string) bool { return strings.Contains(","+opts+",", ","+o+",") }
		if len(f.Names) == 1 && f.Names[0].Name == "_msgpack" {
			n.asArray = has("as_array") || has("asArray")
			if has("omitempty") {
				return fmt.Errorf("msgpgen: %s: a struct-wide omitempty is not supported", n.name)
			}
			continue
		}
		if name == "-" {
			continue
		}
		if len(f.Names) == 0 { // embedded: msgpack/v5 inlines a struct
			t, err := g.resolve(n.pkg, f.Type)
			if err != nil {
				return fmt.Errorf("msgpgen: %s: %w", n.name, err)
			}
			if t.kind != kStruct || (!has("inline") && name != "") {
				return fmt.Errorf("msgpgen: %s: only inlined embedded structs are supported", n.name)
			}
			for _, sub := range t.named.fields {
				for _, have := range n.fields {
					if have.wire == sub.wire {
						return fmt.Errorf("msgpgen: %s: inlined field %s is shadowed", n.name, sub.wire)
					}
				}
				sub.goPath = t.named.name + "." + sub.goPath
				n.fields = append(n.fields, sub)
			}
			continue
		}
		for _, id := range f.Names {
			if !id.IsExported() {
				continue
			}
			t, err := g.resolve(n.pkg, f.Type)
			if err != nil {
				return fmt.Errorf("msgpgen: %s.%s: %w", n.name, id.Name, err)
			}
			wire := name
			if wire == "" {
				wire = id.Name
			}
			n.fields = append(n.fields, field{goPath: id.Name, wire: wire, omitEmpty: has("omitempty"), t: t})
		}
	}
	return nil
}

func (g *gen) visit(n *named) {
	for _, o := range g.order {
		if o == n {
			return
		}
	}
	g.order = append(g.order, n)
}

func (g *gen) markDecode(n *named) {
	if g.decodes[n] {
		return
	}
	g.decodes[n] = true
	g.visit(n)
	for _, f := range n.fields {
		for t := f.t; t != nil; t = t.elem {
			if t.named != nil {
				g.markDecode(t.named)
			}
		}
	}
}

func (g *gen) markEncode(n *named) error {
	if g.encodes[n] {
		return nil
	}
	g.encodes[n] = true
	g.visit(n)
	for _, f := range n.fields {
		if f.omitEmpty && f.t.kind == kStruct {
			g.markEmpty(f.t.named)
		}
		for t := f.t; t != nil; t = t.elem {
			if t.kind == kMap || t.kind == kRaw {
				return fmt.Errorf("msgpgen: %s.%s: encoding maps and raw messages is not supported (msgpack/v5 writes maps in random order)", n.name, f.goPath)
			}
			if t.named != nil {
				if err := g.markEncode(t.named); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (g *gen) markEmpty(n *named) {
	if g.empties[n] {
		return
	}
	g.empties[n] = true
	for _, f := range n.fields {
		if f.omitEmpty && f.t.kind == kStruct {
			g.markEmpty(f.t.named)
		}
	}
}

// ---- writing the code ----

func funcSuffix(n *named) string {
	s := strings.ToUpper(n.name[:1]) + n.name[1:]
	if n.pkg.qual != "" {
		s = strings.ToUpper(n.pkg.qual[:1]) + n.pkg.qual[1:] + s
	}
	return s
}

func (g *gen) emit() ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("// Code generated by %s; DO NOT EDIT.\n\n", g.cfg.Command)
	w("package %s\n\n", g.own.name)
	w("import (\n\t\"github.com/edgewise/edgewise/internal/mp\"\n")
	quals := map[string]string{}
	for _, p := range g.pkgs {
		if p.qual != "" {
			quals[p.qual] = g.own.imports[p.qual]
		}
	}
	names := make([]string, 0, len(quals))
	for q := range quals {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		w("\t%q\n", quals[q])
	}
	w(")\n")
	for _, n := range g.order {
		if g.decodes[n] {
			g.emitDecode(&b, n)
		}
		if g.encodes[n] {
			g.emitEncode(&b, n)
		}
		if g.empties[n] {
			g.emitEmpty(&b, n)
		}
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("msgpgen: generated code does not parse: %w\n%s", err, b.Bytes())
	}
	return out, nil
}

func (g *gen) emitDecode(b *bytes.Buffer, n *named) {
	s := funcSuffix(n)
	fmt.Fprintf(b, "\n// mpDecode%s reads %s as msgpack/v5 does.\n", s, n.goTyp)
	fmt.Fprintf(b, "func mpDecode%s(r *mp.Reader, p *%s) error {\n", s, n.goTyp)
	array := "array"
	if len(n.fields) == 0 {
		array = "_"
	}
	fmt.Fprintf(b, "n, %s, err := r.StructHeader(%d)\nif err != nil {\nreturn err\n}\n", array, len(n.fields))
	fmt.Fprintf(b, "if n < 0 {\n*p = %s{}\nreturn nil\n}\n", n.goTyp)
	if len(n.fields) == 0 {
		b.WriteString("for range n {\nkey, err := r.Key()\nif err != nil {\nreturn err\n}\nreturn mp.UnknownField(key)\n}\nreturn nil\n}\n")
		return
	}
	b.WriteString("for i := 0; i < n; i++ {\nf := i\nif !array {\nkey, err := r.Key()\nif err != nil {\nreturn err\n}\nswitch string(key) {\n")
	for i, f := range n.fields {
		fmt.Fprintf(b, "case %q:\nf = %d\n", f.wire, i)
	}
	b.WriteString("default:\nreturn mp.UnknownField(key)\n}\n}\nswitch f {\n")
	for i, f := range n.fields {
		fmt.Fprintf(b, "case %d:\n", i)
		decodeInto(b, "p."+f.goPath, f.t, 0)
	}
	b.WriteString("}\n}\nreturn nil\n}\n")
}

// decodeInto writes statements that decode into dst, returning on error.
// Temporaries are named by depth, so nested decoders never shadow dst.
func decodeInto(b *bytes.Buffer, dst string, t *typ, depth int) {
	tmp := fmt.Sprintf("t%d", depth)
	simple := func(call string) {
		if t.conv != "" {
			fmt.Fprintf(b, "{\n%s, err := %s\nif err != nil {\nreturn err\n}\n%s = %s(%s)\n}\n", tmp, call, dst, t.conv, tmp)
			return
		}
		fmt.Fprintf(b, "if %s, err = %s; err != nil {\nreturn err\n}\n", dst, call)
	}
	switch t.kind {
	case kString:
		simple("r.String()")
	case kBool:
		simple("r.Bool()")
	case kInt:
		simple("r.Int()")
	case kInt64:
		simple("r.Int64()")
	case kFloat64:
		simple("r.Float64()")
	case kBytes:
		simple("r.Bytes()")
	case kStrings:
		simple("r.Strings()")
	case kRaw:
		simple("r.Raw()")
	case kUint16:
		conv := t.conv
		if conv == "" {
			conv = "uint16"
		}
		fmt.Fprintf(b, "{\n%s, err := r.Uint64()\nif err != nil {\nreturn err\n}\n%s = %s(%s)\n}\n", tmp, dst, conv, tmp)
	case kStruct:
		fmt.Fprintf(b, "if err = mpDecode%s(r, &%s); err != nil {\nreturn err\n}\n", funcSuffix(t.named), dst)
	case kPtr:
		fmt.Fprintf(b, "if r.Nil() {\n%s = nil\n} else {\n%s = new(%s)\n", dst, dst, t.elem.goTyp)
		decodeInto(b, "(*"+dst+")", t.elem, depth+1)
		b.WriteString("}\n")
	case kSlice:
		// Grown by append: a declared length is never trusted with an allocation.
		fmt.Fprintf(b, "{\nn%d, err := r.ArrayLen()\nif err != nil {\nreturn err\n}\n", depth)
		fmt.Fprintf(b, "if n%d < 0 {\n%s = nil\n} else {\n%s = make(%s, 0, min(n%d, 64))\n", depth, dst, dst, t.goTyp, depth)
		fmt.Fprintf(b, "for range n%d {\nvar e%d %s\n", depth, depth, t.elem.goTyp)
		decodeInto(b, fmt.Sprintf("e%d", depth), t.elem, depth+1)
		fmt.Fprintf(b, "%s = append(%s, e%d)\n}\n}\n}\n", dst, dst, depth)
	case kMap:
		fmt.Fprintf(b, "{\nn%d, err := r.MapLen()\nif err != nil {\nreturn err\n}\n", depth)
		fmt.Fprintf(b, "if n%d < 0 {\n%s = nil\n} else {\n%s = make(%s, min(n%d, 64))\n", depth, dst, dst, t.goTyp, depth)
		fmt.Fprintf(b, "for range n%d {\nk%d, err := r.String()\nif err != nil {\nreturn err\n}\nvar e%d %s\n", depth, depth, depth, t.elem.goTyp)
		decodeInto(b, fmt.Sprintf("e%d", depth), t.elem, depth+1)
		fmt.Fprintf(b, "%s[k%d] = e%d\n}\n}\n}\n", dst, depth, depth)
	}
}

func (g *gen) emitEncode(b *bytes.Buffer, n *named) {
	s := funcSuffix(n)
	fmt.Fprintf(b, "\n// mpAppend%s appends %s as msgpack/v5 writes it.\n", s, n.goTyp)
	fmt.Fprintf(b, "func mpAppend%s(b []byte, p *%s) []byte {\n", s, n.goTyp)
	if n.asArray {
		fmt.Fprintf(b, "b = mp.AppendArrayLen(b, %d)\n", len(n.fields))
		for _, f := range n.fields {
			appendValue(b, "p."+f.goPath, f.t, 0)
		}
		b.WriteString("return b\n}\n")
		return
	}
	fixed := 0
	for _, f := range n.fields {
		if !f.omitEmpty {
			fixed++
		}
	}
	if fixed == len(n.fields) {
		fmt.Fprintf(b, "b = mp.AppendMapLen(b, %d)\n", fixed)
	} else {
		fmt.Fprintf(b, "n := %d\n", fixed)
		for _, f := range n.fields {
			if f.omitEmpty {
				fmt.Fprintf(b, "if !(%s) {\nn++\n}\n", isEmpty("p."+f.goPath, f.t))
			}
		}
		b.WriteString("b = mp.AppendMapLen(b, n)\n")
	}
	for _, f := range n.fields {
		key := string(appendKey(f.wire))
		if f.omitEmpty {
			fmt.Fprintf(b, "if !(%s) {\n", isEmpty("p."+f.goPath, f.t))
		}
		fmt.Fprintf(b, "b = mp.AppendRaw(b, %q)\n", key)
		appendValue(b, "p."+f.goPath, f.t, 0)
		if f.omitEmpty {
			b.WriteString("}\n")
		}
	}
	b.WriteString("return b\n}\n")
}

// appendKey is a field name encoded as a msgpack str.
func appendKey(s string) []byte {
	if len(s) < 32 {
		return append([]byte{0xa0 | byte(len(s))}, s...)
	}
	return append([]byte{0xd9, byte(len(s))}, s...)
}

func appendValue(b *bytes.Buffer, src string, t *typ, depth int) {
	switch t.kind {
	case kString:
		if t.conv != "" {
			src = "string(" + src + ")"
		}
		fmt.Fprintf(b, "b = mp.AppendString(b, %s)\n", src)
	case kBool:
		fmt.Fprintf(b, "b = mp.AppendBool(b, bool(%s))\n", src)
	case kInt, kInt64:
		fmt.Fprintf(b, "b = mp.AppendInt(b, int64(%s))\n", src)
	case kUint16:
		fmt.Fprintf(b, "b = mp.AppendUint(b, uint64(%s))\n", src)
	case kFloat64:
		fmt.Fprintf(b, "b = mp.AppendFloat64(b, float64(%s))\n", src)
	case kBytes:
		fmt.Fprintf(b, "b = mp.AppendBytes(b, %s)\n", src)
	case kStruct:
		fmt.Fprintf(b, "b = mpAppend%s(b, &%s)\n", funcSuffix(t.named), src)
	case kPtr:
		fmt.Fprintf(b, "if %s == nil {\nb = mp.AppendNil(b)\n} else {\n", src)
		appendValue(b, "(*"+src+")", t.elem, depth+1)
		b.WriteString("}\n")
	case kSlice, kStrings:
		v := fmt.Sprintf("i%d", depth)
		fmt.Fprintf(b, "if %s == nil {\nb = mp.AppendNil(b)\n} else {\nb = mp.AppendArrayLen(b, len(%s))\nfor %s := range %s {\n", src, src, v, src)
		el := t.elem
		if t.kind == kStrings {
			el = &typ{kind: kString, goTyp: "string"}
		}
		appendValue(b, src+"["+v+"]", el, depth+1)
		b.WriteString("}\n}\n")
	}
}

// isEmpty is msgpack/v5's isEmptyValue, for omitempty.
func isEmpty(src string, t *typ) string {
	switch t.kind {
	case kString, kBytes, kStrings, kSlice, kMap, kRaw:
		return "len(" + src + ") == 0"
	case kBool:
		return "!bool(" + src + ")"
	case kInt, kInt64, kUint16, kFloat64:
		return src + " == 0"
	case kPtr:
		return src + " == nil"
	case kStruct:
		return "mpEmpty" + funcSuffix(t.named) + "(&" + src + ")"
	}
	panic("unreachable")
}

func (g *gen) emitEmpty(b *bytes.Buffer, n *named) {
	s := funcSuffix(n)
	fmt.Fprintf(b, "\n// mpEmpty%s is whether msgpack/v5's omitempty leaves %s out: every\n// field is omitempty and empty.\n", s, n.goTyp)
	fmt.Fprintf(b, "func mpEmpty%s(p *%s) bool {\n", s, n.goTyp)
	var conds []string
	anyOmit := false
	for _, f := range n.fields {
		if !f.omitEmpty {
			conds = []string{"false"}
			break
		}
		anyOmit = true
		conds = append(conds, isEmpty("p."+f.goPath, f.t))
	}
	if !anyOmit && len(n.fields) > 0 {
		conds = []string{"false"}
	}
	if len(conds) == 0 {
		conds = []string{"true"}
	}
	fmt.Fprintf(b, "return %s\n}\n", strings.Join(conds, " &&\n"))
}
