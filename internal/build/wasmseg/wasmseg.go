// Package wasmseg merges a WebAssembly module's adjacent active data
// segments after linking. It runs at build time (the Makefile's wasm rule,
// and abitest.EnsureWasm for tests); the wasm module does not link it.
//
// The Go linker writes runtime.findfunctab and other sparse tables as tens
// of thousands of tiny segments, each cut where a run of 8 or more zero bytes
// starts. Each segment costs a header (kind, offset expression, length) that
// compresses badly, and a runtime copies each one separately at
// instantiation. Merge joins runs of consecutive active segments that write
// the same memory at constant i32 offsets, in increasing address order,
// either touching or separated by at most MaxGap bytes, which it writes as
// zeros. The memory a fresh instance starts with is unchanged:
//
//   - Segments are merged only when they are consecutive in the data
//     section, so no other segment is applied between them.
//   - A gap is filled only in a memory the module defines (a defined memory
//     starts zeroed; an imported one may hold anything), only when no active
//     segment of that memory has a non-constant offset, and only when no
//     other segment writes any byte of the gap.
//   - A merged segment ends where its last part ended, so instantiation
//     fails (out of bounds) exactly when it failed before.
//
// Merging renumbers the segments after a merged run. Code can name data
// segments only through memory.init and data.drop, which need a DataCount
// section; so when there is one, Merge leaves the module unchanged if the
// code section might hold either instruction (a conservative byte scan),
// and otherwise writes the new count into it. Relocatable object files
// (custom sections "linking" or "reloc.*") are left unchanged too. Every
// section other than the data and DataCount sections is copied byte for
// byte, and segments that are not merged keep their exact encoding.
package wasmseg

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// DefaultMaxGap is the largest run of zeros Merge writes between two
// segments to join them. The linker only splits at runs of 8 or more zeros,
// so gaps start at 8. A gap of g zeros costs g raw bytes and almost nothing
// after compression; a segment header costs 5 to 13 raw bytes that
// compress badly. 64 merges nearly all of runtime.findfunctab's segments
// while keeping the raw module from growing much; RATIONALE.md has the
// measurements.
const DefaultMaxGap = 64

// MaxMaxGap bounds Options.MaxGap. Run also stops filling gaps once the
// zeros it wrote add up to the input's size (or 1 MiB for a smaller input),
// so hostile input cannot make the output balloon.
const MaxMaxGap = 1 << 16

// Options tune Run.
type Options struct {
	// MaxGap is the largest gap, in bytes, filled with zeros to join two
	// segments. 0 joins only segments that touch; values above MaxMaxGap
	// count as MaxMaxGap.
	MaxGap int
}

// Result is what Run did.
type Result struct {
	Module         []byte // the new module; the input itself when nothing changed
	SegmentsBefore int    // data segments in the input
	SegmentsAfter  int    // data segments in Module
	// Unchanged says why the module was left as it was, when a rule
	// forbade merging (empty when Run merged, or found nothing to merge).
	Unchanged string
}

// FormatError is malformed or unsupported input, at a byte offset of the
// module.
type FormatError struct {
	Offset int
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("offset %d (0x%x): %s", e.Offset, e.Offset, e.Msg)
}

// ErrNotWasm is wrapped by the error for input without the wasm magic and
// version 1 header.
var ErrNotWasm = errors.New("not a WebAssembly binary module (version 1)")

// Merge merges adjacent active data segments with DefaultMaxGap.
func Merge(module []byte) ([]byte, error) {
	r, err := Run(module, Options{MaxGap: DefaultMaxGap})
	if err != nil {
		return nil, err
	}
	return r.Module, nil
}

// Count returns how many data segments module has.
func Count(module []byte) (int, error) {
	m, err := parse(module)
	if err != nil {
		return 0, err
	}
	return len(m.segments), nil
}

const (
	secCustom    = 0
	secImport    = 2
	secCode      = 10
	secData      = 11
	secDataCount = 12
	maxSectionID = 13 // tag (exception handling)
)

type section struct {
	id         byte
	start, end int // the whole section: id byte to the end of its contents
	body       int // where the contents start
}

type segment struct {
	raw     []byte // the exact encoding, for segments written unchanged
	kind    uint32 // 0, 1 or 2
	mem     uint32
	active  bool
	isConst bool   // the offset is i32.const N; end
	addr    uint64 // uint32(N) when isConst
	init    []byte
}

func (s *segment) end() uint64 { return s.addr + uint64(len(s.init)) }

type module struct {
	data            []byte
	sections        []section
	dataSec         int // index into sections, or -1
	countSec        int // index into sections, or -1
	codeSec         int
	segments        []segment
	importedMems    uint32
	importsKnown    bool // false when an import of an unknown kind hides the count
	relocatable     bool
	dataCountOffset int
	dataCount       uint32
}

func errAt(off int, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// reader reads a module's bytes, remembering absolute offsets for errors.
type reader struct {
	b   []byte
	pos int
	lim int
}

func (r *reader) byte1(what string) (byte, error) {
	if r.pos >= r.lim {
		return 0, errAt(r.pos, "unexpected end reading %s", what)
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint, what string) (uint64, error) {
	start := r.pos
	var v uint64
	var shift uint
	for {
		c, err := r.byte1(what)
		if err != nil {
			return 0, err
		}
		if shift+7 >= bits && c&0x7f>>(bits-shift) != 0 {
			return 0, errAt(start, "%s: LEB128 overflows %d bits", what, bits)
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
		shift += 7
		if shift >= bits {
			return 0, errAt(start, "%s: LEB128 longer than %d bits", what, bits)
		}
	}
}

func (r *reader) u32(what string) (uint32, error) {
	v, err := r.uleb(32, what)
	return uint32(v), err
}

// sleb reads a signed LEB128 of at most bits bits.
func (r *reader) sleb(bits uint, what string) (int64, error) {
	start := r.pos
	var v int64
	var shift uint
	for {
		c, err := r.byte1(what)
		if err != nil {
			return 0, err
		}
		if shift+7 >= bits {
			// The bits past the value's width must all copy its sign bit.
			rest := int8(c<<1) >> (bits - shift)
			if rest != 0 && rest != -1 || c&0x80 != 0 {
				return 0, errAt(start, "%s: signed LEB128 overflows %d bits", what, bits)
			}
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
}

func (r *reader) bytes(n uint64, what string) ([]byte, error) {
	if n > uint64(r.lim-r.pos) {
		return nil, errAt(r.pos, "%s: %d bytes run past the end (%d left)", what, n, r.lim-r.pos)
	}
	b := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

func (r *reader) name(what string) (string, error) {
	n, err := r.u32(what)
	if err != nil {
		return "", err
	}
	b, err := r.bytes(uint64(n), what)
	return string(b), err
}

func parse(data []byte) (*module, error) {
	if len(data) < 8 || !bytes.Equal(data[:4], []byte("\x00asm")) {
		return nil, &FormatError{Offset: 0, Msg: ErrNotWasm.Error()}
	}
	if !bytes.Equal(data[4:8], []byte{1, 0, 0, 0}) {
		return nil, &FormatError{Offset: 4, Msg: ErrNotWasm.Error()}
	}
	m := &module{data: data, dataSec: -1, countSec: -1, codeSec: -1, importsKnown: true}
	r := &reader{b: data, pos: 8, lim: len(data)}
	seen := map[byte]bool{}
	for r.pos < r.lim {
		start := r.pos
		id, _ := r.byte1("section id")
		if id > maxSectionID {
			return nil, errAt(start, "unknown section id %d", id)
		}
		if id != secCustom && seen[id] {
			return nil, errAt(start, "a second section with id %d", id)
		}
		seen[id] = true
		size, err := r.u32("section size")
		if err != nil {
			return nil, err
		}
		body := r.pos
		if uint64(size) > uint64(r.lim-body) {
			return nil, errAt(start, "section %d of %d bytes runs past the end of the module", id, size)
		}
		r.pos = body + int(size)
		s := section{id: id, start: start, end: r.pos, body: body}
		sub := &reader{b: data, pos: body, lim: s.end}
		switch id {
		case secCustom:
			name, err := sub.name("custom section name")
			if err != nil {
				return nil, err
			}
			if name == "linking" || strings.HasPrefix(name, "reloc.") {
				m.relocatable = true
			}
		case secImport:
			if err := m.parseImports(sub); err != nil {
				return nil, err
			}
		case secCode:
			m.codeSec = len(m.sections)
		case secDataCount:
			m.countSec = len(m.sections)
			m.dataCountOffset = sub.pos
			if m.dataCount, err = sub.u32("data count"); err != nil {
				return nil, err
			}
			if sub.pos != sub.lim {
				return nil, errAt(sub.pos, "%d stray bytes after the data count", sub.lim-sub.pos)
			}
		case secData:
			m.dataSec = len(m.sections)
			if err := m.parseData(sub); err != nil {
				return nil, err
			}
		}
		m.sections = append(m.sections, s)
	}
	if m.countSec >= 0 && uint64(m.dataCount) != uint64(len(m.segments)) {
		return nil, errAt(m.dataCountOffset, "the DataCount section says %d segments, the data section has %d", m.dataCount, len(m.segments))
	}
	return m, nil
}

// parseImports counts imported memories. An import of a kind it does not
// know leaves the count unknown (no gaps are filled) rather than failing.
func (m *module) parseImports(r *reader) error {
	n, err := r.u32("import count")
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.name("import module name"); err != nil {
			return err
		}
		if _, err := r.name("import name"); err != nil {
			return err
		}
		kind, err := r.byte1("import kind")
		if err != nil {
			return err
		}
		switch kind {
		case 0x00: // function
			_, err = r.u32("import type index")
		case 0x01: // table
			if err = r.skipType("reference type"); err == nil {
				err = r.skipLimits()
			}
		case 0x02: // memory
			m.importedMems++
			err = r.skipLimits()
		case 0x03: // global
			if err = r.skipType("value type"); err == nil {
				_, err = r.byte1("global mutability")
			}
		case 0x04: // tag
			if _, err = r.byte1("tag attribute"); err == nil {
				_, err = r.u32("tag type index")
			}
		default:
			m.importsKnown = false
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// skipType skips a reference or value type (what names it in errors): one
// byte, followed by a heap type for (ref null? ht).
func (r *reader) skipType(what string) error {
	c, err := r.byte1(what)
	if err != nil {
		return err
	}
	if c == 0x63 || c == 0x64 { // (ref null? ht)
		_, err = r.sleb(33, "heap type")
	}
	return err
}

func (r *reader) skipLimits() error {
	flags, err := r.byte1("limits flags")
	if err != nil {
		return err
	}
	bits := uint(32)
	if flags&0x04 != 0 {
		bits = 64
	}
	if _, err := r.uleb(bits, "limits minimum"); err != nil {
		return err
	}
	if flags&0x01 != 0 {
		if _, err := r.uleb(bits, "limits maximum"); err != nil {
			return err
		}
	}
	if flags&0x08 != 0 {
		if _, err := r.u32("page size"); err != nil {
			return err
		}
	}
	return nil
}

func (m *module) parseData(r *reader) error {
	n, err := r.u32("data segment count")
	if err != nil {
		return err
	}
	// Each segment takes at least 2 bytes; do not trust n for allocation.
	if uint64(n) > uint64(r.lim-r.pos)/2+1 {
		return errAt(r.pos, "%d data segments cannot fit in %d bytes", n, r.lim-r.pos)
	}
	m.segments = make([]segment, 0, n)
	for i := uint32(0); i < n; i++ {
		start := r.pos
		var s segment
		kind, err := r.u32("data segment kind")
		if err != nil {
			return err
		}
		s.kind = kind
		switch kind {
		case 0, 2:
			s.active = true
			if kind == 2 {
				if s.mem, err = r.u32("data segment memory index"); err != nil {
					return err
				}
			}
			if err := r.offsetExpr(&s); err != nil {
				return err
			}
		case 1:
		default:
			return errAt(start, "data segment %d has kind %d (want 0, 1 or 2)", i, kind)
		}
		size, err := r.u32("data segment size")
		if err != nil {
			return err
		}
		if s.init, err = r.bytes(uint64(size), fmt.Sprintf("data segment %d", i)); err != nil {
			return err
		}
		s.raw = r.b[start:r.pos]
		m.segments = append(m.segments, s)
	}
	if r.pos != r.lim {
		return errAt(r.pos, "%d stray bytes after the last data segment", r.lim-r.pos)
	}
	return nil
}

// offsetExpr reads a constant expression, noting whether it is exactly
// i32.const N; end.
func (r *reader) offsetExpr(s *segment) error {
	start := r.pos
	for n := 0; ; n++ {
		at := r.pos
		op, err := r.byte1("offset expression")
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			if n == 1 && r.b[start] == 0x41 {
				s.isConst = true
			}
			return nil
		case 0x41: // i32.const
			v, err := r.sleb(32, "i32.const")
			if err != nil {
				return err
			}
			s.addr = uint64(uint32(int32(v)))
		case 0x42: // i64.const
			_, err = r.sleb(64, "i64.const")
		case 0x23: // global.get
			_, err = r.u32("global index")
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const arithmetic
		default:
			return errAt(at, "unsupported instruction 0x%02x in a data segment's offset expression", op)
		}
		if err != nil {
			return err
		}
	}
}

// mayNameSegments reports whether the code section might hold memory.init
// or data.drop: 0xFC followed by a LEB128 that reads 8 or 9. A byte scan
// finds false positives in immediates, never misses one.
func (m *module) mayNameSegments() bool {
	if m.codeSec < 0 {
		return false
	}
	s := m.sections[m.codeSec]
	code := m.data[s.body:s.end]
	for i := 0; i < len(code); i++ {
		if code[i] != 0xfc {
			continue
		}
		r := &reader{b: code, pos: i + 1, lim: len(code)}
		if v, err := r.u32("opcode"); err == nil && (v == 8 || v == 9) {
			return true
		}
	}
	return false
}

// Run merges adjacent active data segments as the package comment says.
// It never panics; malformed input gives a *FormatError.
func Run(input []byte, opt Options) (Result, error) {
	m, err := parse(input)
	if err != nil {
		return Result{}, err
	}
	res := Result{Module: input, SegmentsBefore: len(m.segments), SegmentsAfter: len(m.segments)}
	maxGap := uint64(min(max(opt.MaxGap, 0), MaxMaxGap))
	budget := uint64(max(len(input), 1<<20)) // zeros Run may still write
	switch {
	case m.dataSec < 0:
		return res, nil
	case m.relocatable:
		res.Unchanged = "a relocatable object file: its relocations name segments"
		return res, nil
	case m.countSec >= 0 && m.mayNameSegments():
		res.Unchanged = "the code may use memory.init or data.drop, which name segments by index"
		return res, nil
	}

	fill := m.gapFillable()
	type run struct{ first, last int }
	var runs []run
	for i := 0; i < len(m.segments); {
		j := i
		for j+1 < len(m.segments) {
			gap, ok := m.joinable(j, fill, min(maxGap, budget))
			if !ok {
				break
			}
			budget -= gap
			j++
		}
		runs = append(runs, run{i, j})
		i = j + 1
	}
	if len(runs) == len(m.segments) {
		return res, nil
	}

	var body []byte
	body = appendU32(body, uint32(len(runs)))
	for _, ru := range runs {
		if ru.first == ru.last {
			body = append(body, m.segments[ru.first].raw...)
			continue
		}
		first, last := &m.segments[ru.first], &m.segments[ru.last]
		size := last.end() - first.addr
		if first.mem == 0 {
			body = append(body, 0)
		} else {
			body = append(body, 2)
			body = appendU32(body, first.mem)
		}
		body = append(body, 0x41)
		body = appendS32(body, int32(uint32(first.addr)))
		body = append(body, 0x0b)
		body = appendU32(body, uint32(size))
		at := len(body)
		body = append(body, make([]byte, size)...)
		for k := ru.first; k <= ru.last; k++ {
			s := &m.segments[k]
			copy(body[at+int(s.addr-first.addr):], s.init)
		}
	}

	out := make([]byte, 0, len(input)+len(body)-(m.sections[m.dataSec].end-m.sections[m.dataSec].body))
	out = append(out, input[:8]...)
	for i, s := range m.sections {
		switch i {
		case m.dataSec:
			out = appendSection(out, secData, body)
		case m.countSec:
			out = appendSection(out, secDataCount, appendU32(nil, uint32(len(runs))))
		default:
			out = append(out, input[s.start:s.end]...)
		}
	}
	res.Module = out
	res.SegmentsAfter = len(runs)
	return res, nil
}

// gapFillable returns, for each memory index, whether gaps in it may be
// filled with zeros: the module defines the memory (it starts zeroed) and no
// active segment writes it at a non-constant offset. Memories not in the
// map are not fillable.
func (m *module) gapFillable() map[uint32]*gapIndex {
	fill := map[uint32]*gapIndex{}
	bad := map[uint32]bool{}
	for i := range m.segments {
		s := &m.segments[i]
		if !s.active {
			continue
		}
		if !m.importsKnown || s.mem < m.importedMems || !s.isConst {
			bad[s.mem] = true
			continue
		}
		if fill[s.mem] == nil {
			fill[s.mem] = &gapIndex{}
		}
		fill[s.mem].add(s)
	}
	for mem := range bad {
		delete(fill, mem)
	}
	for _, g := range fill {
		g.build()
	}
	return fill
}

// joinable reports whether segment i+1 may join segment i's run, and the
// zeros that takes.
func (m *module) joinable(i int, fill map[uint32]*gapIndex, maxGap uint64) (uint64, bool) {
	a, b := &m.segments[i], &m.segments[i+1]
	if !a.active || !b.active || !a.isConst || !b.isConst || a.mem != b.mem || b.addr < a.end() {
		return 0, false
	}
	gap := b.addr - a.end()
	if gap == 0 {
		return 0, true
	}
	g := fill[a.mem]
	return gap, g != nil && gap <= maxGap && !g.overlaps(a.end(), b.addr)
}

// gapIndex answers "does any segment write a byte in [lo, hi)?" for one
// memory: segments sorted by start, with the running maximum of their ends.
type gapIndex struct {
	starts, ends []uint64
	maxEnd       []uint64
}

func (g *gapIndex) add(s *segment) {
	g.starts = append(g.starts, s.addr)
	g.ends = append(g.ends, s.end())
}

func (g *gapIndex) build() {
	idx := make([]int, len(g.starts))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return g.starts[idx[a]] < g.starts[idx[b]] })
	starts := make([]uint64, len(idx))
	g.maxEnd = make([]uint64, len(idx))
	var hi uint64
	for k, i := range idx {
		starts[k] = g.starts[i]
		if g.ends[i] > hi {
			hi = g.ends[i]
		}
		g.maxEnd[k] = hi
	}
	g.starts, g.ends = starts, nil
}

func (g *gapIndex) overlaps(lo, hi uint64) bool {
	// Segments starting before hi; one of them overlaps iff its end > lo.
	k := sort.Search(len(g.starts), func(i int) bool { return g.starts[i] >= hi })
	return k > 0 && g.maxEnd[k-1] > lo
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if x == 0 && c&0x40 == 0 || x == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendSection(b []byte, id byte, body []byte) []byte {
	b = append(b, id)
	b = appendU32(b, uint32(len(body)))
	return append(b, body...)
}
