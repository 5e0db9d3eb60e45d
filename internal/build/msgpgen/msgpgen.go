// Package msgpgen generates reflection-free msgpack codecs for Go structs,
// on top of internal/mp: a field table per struct, read by
// mp.Reader.DecodeStruct to decode and by mp.AppendStruct to encode, so the
// wasm carries one decoder and one encoder, not one of each per type. It is
// a build-time tool: its output is checked in
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
	g := &gen{cfg: cfg, pkgs: map[string]*pkg{}, decodes: map[*named]bool{}, encodes: map[*named]bool{}}
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
		g.decodeRoots = append(g.decodeRoots, n)
	}
	for _, root := range cfg.Encode {
		n, err := g.root(root)
		if err != nil {
			return nil, err
		}
		if err := g.markEncode(n); err != nil {
			return nil, err
		}
		g.encodeRoots = append(g.encodeRoots, n)
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
	// partial is a struct with fields its table leaves out (unexported or
	// "-"), so zeroing the table's fields does not zero all of it.
	partial bool
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
	order   []*named
	// decodeRoots get a decode function and encodeRoots an append function;
	// every struct they reach, a table.
	decodeRoots []*named
	encodeRoots []*named
	typeVars    map[string]bool
	// readTypes are the types decoding reaches, by typeSuffix: only they
	// need the functions that allocate.
	readTypes map[string]bool
	typeDecls bytes.Buffer
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
			n.partial = true
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
			n.partial = n.partial || t.named.partial
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
				n.partial = true
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
	w("import (\n\t\"unsafe\"\n\n\t\"github.com/edgewise/edgewise/internal/mp\"\n")
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
	g.typeVars = map[string]bool{}
	g.readTypes = map[string]bool{}
	for n := range g.decodes {
		for _, f := range n.fields {
			for t := f.t; t != nil; t = t.elem {
				g.readTypes[typeSuffix(t)] = true
			}
		}
	}
	for _, n := range g.decodeRoots {
		s := funcSuffix(n)
		fmt.Fprintf(&b, "\n// mpDecode%s reads %s as msgpack/v5 does.\n", s, n.goTyp)
		fmt.Fprintf(&b, "func mpDecode%s(r *mp.Reader, p *%s) error {\nreturn r.DecodeStruct(&mpStruct%s, unsafe.Pointer(p))\n}\n", s, n.goTyp, s)
	}
	for _, n := range g.encodeRoots {
		s := funcSuffix(n)
		fmt.Fprintf(&b, "\n// mpAppend%s appends %s as msgpack/v5 writes it.\n", s, n.goTyp)
		fmt.Fprintf(&b, "func mpAppend%s(b []byte, p *%s) []byte {\nreturn mp.AppendStruct(b, &mpStruct%s, unsafe.Pointer(p))\n}\n", s, n.goTyp, s)
	}
	for _, n := range g.order {
		g.emitStructTable(&b, n)
	}
	b.Write(g.typeDecls.Bytes())
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("msgpgen: generated code does not parse: %w\n%s", err, b.Bytes())
	}
	return out, nil
}

// emitStructTable writes a struct's field table, for mp.Reader.DecodeStruct
// if it is decoded and mp.AppendStruct if it is encoded.
func (g *gen) emitStructTable(b *bytes.Buffer, n *named) {
	s := funcSuffix(n)
	var how []string
	if g.decodes[n] {
		how = append(how, "read (mp.Reader.DecodeStruct)")
	}
	if g.encodes[n] {
		how = append(how, "written (mp.AppendStruct)")
	}
	fmt.Fprintf(b, "\n// mpStruct%s is how %s is %s.\n", s, n.goTyp, strings.Join(how, " and "))
	fmt.Fprintf(b, "var mpStruct%s = mp.Struct{\n", s)
	if g.decodes[n] && n.partial {
		fmt.Fprintf(b, "Zero: func(p unsafe.Pointer) { *(*%s)(p) = %s{} },\n", n.goTyp, n.goTyp)
	}
	if n.asArray {
		b.WriteString("AsArray: true,\n")
	}
	b.WriteString("Fields: []mp.Field{\n")
	for _, f := range n.fields {
		// The offset of an inlined field is the sum along its path.
		parts := strings.Split(f.goPath, ".")
		var offs []string
		for i := range parts {
			offs = append(offs, "unsafe.Offsetof("+n.goTyp+"{}."+strings.Join(parts[:i+1], ".")+")")
		}
		omit := ""
		if f.omitEmpty {
			omit = ", OmitEmpty: true"
		}
		fmt.Fprintf(b, "{Name: %q, Offset: uint32(%s), Type: %s%s},\n", f.wire, strings.Join(offs, " + "), g.typeVar(f.t), omit)
	}
	b.WriteString("},\n}\n")
}

// typeVar is the address of the mp.Type of t, declaring it the first time.
// Types are package variables referred to by address, never pointer
// variables: an address is a link-time constant, so every table is
// initialized statically, where copying another variable's value (even
// &mp.Type{...} held in a var) makes the compiler write init code for
// each, about 16 KB of wasm.
func (g *gen) typeVar(t *typ) string {
	switch t.kind {
	case kString:
		return "&mp.String"
	case kBool:
		return "&mp.Bool"
	case kInt:
		return "&mp.Int"
	case kInt64:
		return "&mp.Int64"
	case kUint16:
		return "&mp.Uint16"
	case kFloat64:
		return "&mp.Float64"
	case kBytes:
		return "&mp.Bytes"
	case kStrings:
		return "&mp.Strings"
	case kRaw:
		return "&mp.Raw"
	}
	name := "mpType" + typeSuffix(t)
	if g.typeVars[name] {
		return "&" + name
	}
	g.typeVars[name] = true
	d := &g.typeDecls
	T := t.goTyp
	// A type only written needs no functions: the encoder only reads
	// through pointers and slices.
	read := g.readTypes[typeSuffix(t)]
	switch t.kind {
	case kStruct:
		fmt.Fprintf(d, "\nvar %s = mp.Type{Kind: mp.KindStruct, Struct: &mpStruct%s}\n", name, funcSuffix(t.named))
	case kPtr:
		el := t.elem.goTyp
		fmt.Fprintf(d, "\nvar %s = mp.Type{Kind: mp.KindPtr, Elem: %s,\n", name, g.typeVar(t.elem))
		if read {
			fmt.Fprintf(d, "SetNil: mp.SetNilPointer,\n")
			fmt.Fprintf(d, "Alloc: func(p unsafe.Pointer) unsafe.Pointer {\nv := new(%s)\n*(*%s)(p) = v\nreturn unsafe.Pointer(v)\n},\n", el, T)
		}
		d.WriteString("}\n")
	case kSlice:
		fmt.Fprintf(d, "\nvar %s = mp.Type{Kind: mp.KindSlice, Elem: %s,\n", name, g.typeVar(t.elem))
		fmt.Fprintf(d, "Size: unsafe.Sizeof(*new(%s)),\n", t.elem.goTyp)
		if read {
			fmt.Fprintf(d, "SetNil: mp.SetNilSlice,\n")
			fmt.Fprintf(d, "MakeEmpty: func(p unsafe.Pointer, n int) { *(*%s)(p) = make(%s, n) },\n", T, T)
		}
		d.WriteString("}\n")
	case kMap:
		el := t.elem.goTyp
		fmt.Fprintf(d, "\nvar %s = mp.Type{Kind: mp.KindMap, Elem: %s,\n", name, g.typeVar(t.elem))
		fmt.Fprintf(d, "SetNil: mp.SetNilPointer,\n")
		fmt.Fprintf(d, "MakeEmpty: func(p unsafe.Pointer, n int) { *(*%s)(p) = make(%s, n) },\n", T, T)
		fmt.Fprintf(d, "New: func() unsafe.Pointer { return unsafe.Pointer(new(%s)) },\n", el)
		fmt.Fprintf(d, "Put: func(p unsafe.Pointer, k string, v unsafe.Pointer) { (*(*%s)(p))[k] = *(*%s)(v) },\n}\n", T, el)
	}
	return "&" + name
}

// typeSuffix spells a type in a Go identifier: []*engine.Item is SlicePtrEngineItem.
func typeSuffix(t *typ) string {
	switch t.kind {
	case kStruct:
		return funcSuffix(t.named)
	case kPtr:
		return "Ptr" + typeSuffix(t.elem)
	case kSlice:
		return "Slice" + typeSuffix(t.elem)
	case kMap:
		return "Map" + typeSuffix(t.elem)
	}
	s := strings.NewReplacer("[]", "Slice", ".", "", "*", "Ptr").Replace(t.goTyp)
	return strings.ToUpper(s[:1]) + s[1:]
}
