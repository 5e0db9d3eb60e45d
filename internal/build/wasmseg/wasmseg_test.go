package wasmseg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ---- building modules by hand ----

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func sec(id byte, body []byte) []byte { return cat([]byte{id}, uleb(uint64(len(body))), body) }

func vec(items ...[]byte) []byte { return cat(append([][]byte{uleb(uint64(len(items)))}, items...)...) }

func bytesVec(b []byte) []byte { return cat(uleb(uint64(len(b))), b) }

func i32(n uint32) []byte { return cat([]byte{0x41}, sleb(int64(int32(n))), []byte{0x0b}) }

// active is a kind 0 segment at a constant offset.
func active(off uint32, data ...byte) []byte { return cat([]byte{0}, i32(off), bytesVec(data)) }

// activeMem is a kind 2 segment for memory mem.
func activeMem(mem, off uint32, data ...byte) []byte {
	return cat([]byte{2}, uleb(uint64(mem)), i32(off), bytesVec(data))
}

func passive(data ...byte) []byte { return cat([]byte{1}, bytesVec(data)) }

// viaGlobal is a kind 0 segment at global.get g.
func viaGlobal(g uint32, data ...byte) []byte {
	return cat([]byte{0, 0x23}, uleb(uint64(g)), []byte{0x0b}, bytesVec(data))
}

var header = []byte("\x00asm\x01\x00\x00\x00")

// memSec defines n memories of one page.
func memSec(n int) []byte {
	var items [][]byte
	for i := 0; i < n; i++ {
		items = append(items, []byte{0, 1})
	}
	return sec(5, vec(items...))
}

var typeSec = sec(1, vec([]byte{0x60, 0, 0}))

func importMem() []byte {
	return sec(2, vec(cat(bytesVec([]byte("env")), bytesVec([]byte("memory")), []byte{0x02, 0x00, 0x01})))
}

func dataSec(segs ...[]byte) []byte { return sec(11, vec(segs...)) }

func dataCount(n int) []byte { return sec(12, uleb(uint64(n))) }

func mod(sections ...[]byte) []byte { return cat(header, cat(sections...)) }

// ---- the memory image, computed independently of the package ----

// image is what active segments write at instantiation, per memory index:
// address to byte, for each byte written. Segments apply in order.
type image map[uint32]map[uint64]byte

type imageInfo struct {
	img      image
	maxEnd   map[uint32]uint64
	passive  [][]byte
	dynamic  []string        // active segments at global.get offsets, in order
	hasDyn   map[uint32]bool // memories such segments write
	count    int
	sections [][]byte // every section but data (11) and DataCount (12)
}

var errNotConst = errors.New("an active segment has a non-constant offset")

// memoryImage decodes a module with a reader of its own and applies its
// active segments to a byte map.
func memoryImage(module []byte) (imageInfo, error) {
	info := imageInfo{img: image{}, maxEnd: map[uint32]uint64{}, hasDyn: map[uint32]bool{}}
	p := module[8:]
	next := func() uint64 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			panic("bad LEB in a module Run accepted")
		}
		p = p[n:]
		return v
	}
	for len(p) > 0 {
		id := p[0]
		whole := p
		p = p[1:]
		size := next()
		body := p[:size]
		rest := p[size:]
		if id != 11 && id != 12 {
			info.sections = append(info.sections, whole[:len(whole)-len(rest)])
		}
		if id == 11 {
			p = body
			n := next()
			info.count = int(n)
			for i := uint64(0); i < n; i++ {
				kind := next()
				var mem uint64
				var addr uint64
				isActive := kind != 1
				if kind == 2 {
					mem = next()
				}
				dyn := false
				if isActive && p[0] == 0x23 {
					p = p[1:]
					g := next()
					if p[0] != 0x0b {
						return info, errNotConst
					}
					p = p[1:]
					dyn = true
					info.hasDyn[uint32(mem)] = true
					info.dynamic = append(info.dynamic, fmt.Sprint(mem, g))
				} else if isActive {
					if p[0] != 0x41 {
						return info, errNotConst
					}
					// A signed LEB: read it by hand.
					var v int64
					var shift uint
					for k := 1; ; k++ {
						c := p[k]
						v |= int64(c&0x7f) << shift
						shift += 7
						if c&0x80 == 0 {
							if shift < 64 && c&0x40 != 0 {
								v |= -1 << shift
							}
							p = p[k+1:]
							break
						}
					}
					if p[0] != 0x0b {
						return info, errNotConst
					}
					p = p[1:]
					addr = uint64(uint32(int32(v)))
				}
				l := next()
				data := p[:l]
				p = p[l:]
				if !isActive {
					info.passive = append(info.passive, data)
					continue
				}
				if dyn {
					info.dynamic[len(info.dynamic)-1] += fmt.Sprintf(" % x", data)
					continue
				}
				m := info.img[uint32(mem)]
				if m == nil {
					m = map[uint64]byte{}
					info.img[uint32(mem)] = m
				}
				for k, c := range data {
					m[addr+uint64(k)] = c
				}
				if e := addr + l; e > info.maxEnd[uint32(mem)] {
					info.maxEnd[uint32(mem)] = e
				}
			}
		}
		p = rest
	}
	return info, nil
}

// checkSame fails t unless out describes the same instance memory as in:
// equal bytes where either writes (a defined memory starts zeroed, so
// written zeros equal unwritten bytes there), the same written bytes in
// imported memories, the same bounds, the same passive segments in order,
// and every other section unchanged.
func checkSame(t testing.TB, in, out []byte) {
	t.Helper()
	a, err := memoryImage(in)
	if errors.Is(err, errNotConst) {
		return
	}
	b, err2 := memoryImage(out)
	if err != nil || err2 != nil {
		t.Fatalf("memoryImage: %v, %v", err, err2)
	}
	m, err := parse(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, mem := range []uint32{0, 1, 2, 3} {
		x, y := a.img[mem], b.img[mem]
		// Memories that may not start zeroed, or that a segment writes at
		// an unknown place, must get exactly the same bytes written.
		imported := !m.importsKnown || mem < m.importedMems || a.hasDyn[mem]
		for addr, c := range x {
			if d, ok := y[addr]; !ok || c != d {
				t.Fatalf("memory %d byte %d: input writes %#x, output writes %#x (written %v)", mem, addr, c, d, ok)
			}
		}
		for addr, d := range y {
			c, ok := x[addr]
			if !ok && (imported || d != 0) {
				t.Fatalf("memory %d byte %d: output writes %#x where input writes nothing (imported memory: %v)", mem, addr, d, imported)
			}
			if ok && c != d {
				t.Fatalf("memory %d byte %d differs", mem, addr)
			}
		}
		if a.maxEnd[mem] != b.maxEnd[mem] {
			t.Fatalf("memory %d: segments end at %d, merged at %d", mem, a.maxEnd[mem], b.maxEnd[mem])
		}
	}
	if fmt.Sprint(a.dynamic) != fmt.Sprint(b.dynamic) {
		t.Fatalf("segments at global offsets: %q in, %q out", a.dynamic, b.dynamic)
	}
	if len(a.passive) != len(b.passive) {
		t.Fatalf("passive segments: %d in, %d out", len(a.passive), len(b.passive))
	}
	for i := range a.passive {
		if !bytes.Equal(a.passive[i], b.passive[i]) {
			t.Fatalf("passive segment %d changed", i)
		}
	}
	if len(a.sections) != len(b.sections) {
		t.Fatalf("%d other sections in, %d out", len(a.sections), len(b.sections))
	}
	for i := range a.sections {
		if !bytes.Equal(a.sections[i], b.sections[i]) {
			t.Fatalf("section %d (id %d) changed", i, a.sections[i][0])
		}
	}
}

func mustRun(t *testing.T, in []byte, gap int) Result {
	t.Helper()
	r, err := Run(in, Options{MaxGap: gap})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, in, r.Module)
	n, err := Count(r.Module)
	if err != nil {
		t.Fatalf("the output does not parse: %v", err)
	}
	if n != r.SegmentsAfter {
		t.Fatalf("Count = %d, SegmentsAfter = %d", n, r.SegmentsAfter)
	}
	return r
}

// ---- unit tests ----

func TestMergeTouching(t *testing.T) {
	in := mod(memSec(1), dataSec(active(16, 1, 2), active(18, 3, 4), active(20, 5)))
	r := mustRun(t, in, 0)
	want := mod(memSec(1), dataSec(active(16, 1, 2, 3, 4, 5)))
	if !bytes.Equal(r.Module, want) {
		t.Fatalf("got % x\nwant % x", r.Module, want)
	}
	if r.SegmentsBefore != 3 || r.SegmentsAfter != 1 {
		t.Fatalf("segments %d -> %d", r.SegmentsBefore, r.SegmentsAfter)
	}
}

func TestMergeFillsGaps(t *testing.T) {
	in := mod(memSec(1), dataSec(active(100, 1), active(110, 2), active(110+1+64, 3), active(110+1+64+1+65, 4)))
	r := mustRun(t, in, 64)
	// 101..110 and 111..175 are filled (9 and 64 zeros); 65 is too many.
	first := append([]byte{1}, make([]byte, 9)...)
	first = append(first, 2)
	first = append(first, make([]byte, 64)...)
	first = append(first, 3)
	want := mod(memSec(1), dataSec(active(100, first...), active(110+1+64+1+65, 4)))
	if !bytes.Equal(r.Module, want) {
		t.Fatalf("got % x\nwant % x", r.Module, want)
	}
	if m, _ := Merge(in); !bytes.Equal(m, r.Module) {
		t.Fatal("Merge differs from Run with DefaultMaxGap")
	}
}

func TestMergeRefusesOverlapAndDisorder(t *testing.T) {
	for name, segs := range map[string][][]byte{
		"overlap":          {active(10, 1, 2, 3), active(12, 9, 9)},
		"descending":       {active(20, 1), active(10, 2)},
		"same address":     {active(10, 1), active(10, 2)},
		"other memory":     {active(10, 1), activeMem(1, 11, 2)},
		"passive between":  {active(10, 1), passive(7), active(11, 2)},
		"global offset":    {active(10, 1), viaGlobal(0, 2)},
		"gap written late": {active(10, 1), active(20, 2), active(15, 3)},
	} {
		t.Run(name, func(t *testing.T) {
			in := mod(memSec(2), dataSec(segs...))
			r := mustRun(t, in, 64)
			if r.SegmentsAfter != r.SegmentsBefore || !bytes.Equal(r.Module, in) {
				t.Fatalf("merged %d -> %d segments", r.SegmentsBefore, r.SegmentsAfter)
			}
		})
	}
}

// A gap is not filled when an earlier segment wrote into it: the zeros
// would erase its bytes.
func TestGapWrittenEarlierIsNotFilled(t *testing.T) {
	in := mod(memSec(1), dataSec(active(15, 7), active(10, 1), active(20, 2)))
	r := mustRun(t, in, 64)
	if r.SegmentsAfter != 3 {
		t.Fatalf("merged across bytes an earlier segment writes: % x", r.Module)
	}
	// Touching segments still merge beside it.
	in = mod(memSec(1), dataSec(active(15, 7), active(10, 1), active(11, 2)))
	if r := mustRun(t, in, 64); r.SegmentsAfter != 2 {
		t.Fatalf("segments after = %d, want 2", r.SegmentsAfter)
	}
}

func TestPassiveSegmentsUntouched(t *testing.T) {
	in := mod(memSec(1), dataSec(passive(1, 2), active(0, 1), active(1, 2), passive(3), active(2, 3), active(3, 4)))
	r := mustRun(t, in, 64)
	want := mod(memSec(1), dataSec(passive(1, 2), active(0, 1, 2), passive(3), active(2, 3, 4)))
	if !bytes.Equal(r.Module, want) {
		t.Fatalf("got % x\nwant % x", r.Module, want)
	}
}

func TestDataCountUpdated(t *testing.T) {
	in := mod(memSec(1), dataCount(3), sec(10, vec()), dataSec(active(0, 1), active(1, 2), active(8, 3)))
	r := mustRun(t, in, 64)
	want := mod(memSec(1), dataCount(1), sec(10, vec()), dataSec(active(0, 1, 2, 0, 0, 0, 0, 0, 0, 3)))
	if !bytes.Equal(r.Module, want) {
		t.Fatalf("got % x\nwant % x", r.Module, want)
	}
}

// With a DataCount section the code may name segments (memory.init,
// data.drop); renumbering would break it, so nothing merges.
func TestCodeNamingSegmentsLeavesModule(t *testing.T) {
	body := []byte{0, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x08, 0x00, 0x00, 0x0b} // memory.init 0 0
	code := sec(10, vec(bytesVec(body)))
	in := mod(typeSec, sec(3, vec([]byte{0})), memSec(1), dataCount(2), code, dataSec(active(0, 1), active(1, 2)))
	r := mustRun(t, in, 64)
	if !bytes.Equal(r.Module, in) || r.Unchanged == "" {
		t.Fatalf("merged a module whose code names segments (Unchanged %q)", r.Unchanged)
	}
}

func TestImportedMemoryGapsKept(t *testing.T) {
	in := mod(importMem(), dataSec(active(0, 1), active(1, 2), active(10, 3)))
	r := mustRun(t, in, 64)
	want := mod(importMem(), dataSec(active(0, 1, 2), active(10, 3)))
	if !bytes.Equal(r.Module, want) {
		t.Fatalf("filled a gap in an imported memory: % x", r.Module)
	}
}

func TestSecondMemory(t *testing.T) {
	in := mod(memSec(2), dataSec(activeMem(1, 0, 1), activeMem(1, 4, 2), active(0, 5), active(1, 6)))
	r := mustRun(t, in, 64)
	want := mod(memSec(2), dataSec(activeMem(1, 0, 1, 0, 0, 0, 2), active(0, 5, 6)))
	if !bytes.Equal(r.Module, want) {
		t.Fatalf("got % x\nwant % x", r.Module, want)
	}
}

func TestHighAddresses(t *testing.T) {
	// Offsets at or above 2^31 are negative i32.const immediates.
	in := mod(memSec(1), dataSec(active(0x7fffffff, 1), active(0x80000000, 2), active(0xfffffffe, 3), active(0xffffffff, 4)))
	r := mustRun(t, in, 64)
	if r.SegmentsAfter != 2 {
		t.Fatalf("segments after = %d, want 2", r.SegmentsAfter)
	}
}

func TestNothingToMerge(t *testing.T) {
	for name, in := range map[string][]byte{
		"no data section": mod(memSec(1)),
		"one segment":     mod(memSec(1), dataSec(active(0, 1))),
		"empty":           mod(),
	} {
		r, err := Run(in, Options{MaxGap: 64})
		if err != nil || !bytes.Equal(r.Module, in) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRelocatableLeftAlone(t *testing.T) {
	in := mod(memSec(1), dataSec(active(0, 1), active(1, 2)), sec(0, cat(bytesVec([]byte("linking")), []byte{2})))
	if r := mustRun(t, in, 64); !bytes.Equal(r.Module, in) {
		t.Fatal("merged a relocatable object")
	}
}

func TestMalformed(t *testing.T) {
	good := mod(memSec(1), dataSec(active(0, 1), active(1, 2)))
	cases := map[string]struct {
		in     []byte
		offset int
	}{
		"no magic":             {[]byte("\x00asn\x01\x00\x00\x00"), 0},
		"version 2":            {[]byte("\x00asm\x02\x00\x00\x00"), 4},
		"short":                {[]byte("\x00as"), 0},
		"truncated section":    {good[:len(good)-1], 13},
		"unknown section":      {mod(sec(14, nil)), 8},
		"two data sections":    {mod(dataSec(), dataSec()), 11},
		"bad kind":             {mod(dataSec([]byte{3, 0})), 11},
		"count mismatch":       {mod(dataCount(2), dataSec(active(0, 1))), 10},
		"count without data":   {mod(dataCount(1)), 10},
		"stray bytes":          {mod(sec(11, []byte{0, 9})), 11},
		"segment past end":     {mod(sec(11, []byte{1, 1, 5, 1})), 13},
		"overlong LEB":         {mod(sec(11, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00})), 10},
		"LEB over 32 bits":     {mod(sec(11, []byte{0xff, 0xff, 0xff, 0xff, 0x7f})), 10},
		"bad offset expr":      {mod(sec(11, []byte{1, 0, 0x45, 0x0b, 0})), 12},
		"i32.const too big":    {mod(sec(11, []byte{1, 0, 0x41, 0xff, 0xff, 0xff, 0xff, 0x4f, 0x0b, 0})), 13},
		"huge segment count":   {mod(sec(11, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})), 15},
		"section size too big": {cat(header, []byte{11, 0xff, 0xff, 0x03}), 8},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Merge(c.in)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FormatError", err)
			}
			if fe.Offset != c.offset {
				t.Errorf("offset %d, want %d (%v)", fe.Offset, c.offset, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", c.offset)) {
				t.Errorf("%q does not name the offset", err)
			}
			if _, err := Count(c.in); err == nil {
				t.Error("Count accepted it")
			}
		})
	}
}

func TestIdempotent(t *testing.T) {
	in := mod(memSec(1), dataSec(active(0, 1), active(9, 2), active(100, 3), active(300, 4), passive(5), active(301, 6)))
	once := mustRun(t, in, 64)
	twice := mustRun(t, once.Module, 64)
	if !bytes.Equal(once.Module, twice.Module) {
		t.Fatal("merging a merged module changed it")
	}
}

// ---- fuzzing ----

// FuzzMerge feeds arbitrary bytes: Run never panics, and when it accepts
// the input, the output describes the same memory and merges no further.
func FuzzMerge(f *testing.F) {
	f.Add(mod(memSec(1), dataSec(active(16, 1, 2), active(18, 3), active(40, 4))))
	f.Add(mod(memSec(2), dataCount(3), sec(10, vec()), dataSec(activeMem(1, 0, 1), passive(2), active(5, 3))))
	f.Add(mod(importMem(), dataSec(active(0, 1), active(3, 2), viaGlobal(0, 4))))
	f.Add(mod(memSec(1), dataSec(active(0xfffffff0, 1), active(0xfffffff4, 2))))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Run(in, Options{MaxGap: 16})
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(in) {
				t.Fatalf("error %v is not a *FormatError within the input", err)
			}
			return
		}
		checkSame(t, in, r.Module)
		again, err := Run(r.Module, Options{MaxGap: 16})
		if err != nil {
			t.Fatalf("the output does not parse: %v", err)
		}
		if !bytes.Equal(again.Module, r.Module) {
			t.Fatal("merging the output changed it again")
		}
	})
}

// FuzzSegments builds valid modules from the fuzzer's bytes, four bytes a
// segment (kind and memory, offset step, length, a byte value), so the
// fuzzer explores segment layouts rather than the module format.
func FuzzSegments(f *testing.F) {
	f.Add([]byte{0, 0, 2, 1, 0, 2, 2, 2, 0, 20, 1, 3}, byte(0))
	f.Add([]byte{0, 0, 2, 1, 1, 0, 1, 9, 0, 0, 2, 3, 4, 2, 1, 1, 0x80, 5, 1, 1}, byte(3))
	f.Fuzz(func(t *testing.T, spec []byte, flags byte) {
		var segs [][]byte
		addr := uint32(0)
		for i := 0; i+4 <= len(spec) && len(segs) < 64; i += 4 {
			kind, step, n, val := spec[i], spec[i+1], spec[i+2]%8, spec[i+3]
			// step: below 0x80 moves forward, else back (overlaps, disorder).
			if step < 0x80 {
				addr += uint32(step)
			} else {
				addr -= uint32(step - 0x80)
			}
			data := bytes.Repeat([]byte{val}, int(n))
			switch kind % 8 {
			case 0, 1, 2, 3:
				segs = append(segs, active(addr, data...))
			case 4:
				segs = append(segs, activeMem(1, addr, data...))
			case 5:
				segs = append(segs, passive(data...))
			case 6:
				segs = append(segs, activeMem(0, addr, data...))
			case 7:
				if flags&4 != 0 {
					segs = append(segs, viaGlobal(0, data...))
				} else {
					segs = append(segs, active(addr, data...))
				}
			}
		}
		var sections [][]byte
		if flags&1 != 0 {
			sections = append(sections, importMem(), memSec(1))
		} else {
			sections = append(sections, memSec(2))
		}
		if flags&2 != 0 {
			sections = append(sections, dataCount(len(segs)))
		}
		sections = append(sections, sec(10, vec()), dataSec(segs...))
		in := mod(sections...)
		r, err := Run(in, Options{MaxGap: int(flags >> 3)})
		if err != nil {
			t.Fatalf("Run refused a valid module: %v", err)
		}
		checkSame(t, in, r.Module)
		if r.SegmentsAfter > r.SegmentsBefore {
			t.Fatal("more segments")
		}
		if flags&2 != 0 {
			if info, _ := memoryImage(r.Module); info.count != r.SegmentsAfter {
				t.Fatal("data section count")
			}
			if !bytes.Contains(r.Module, dataCount(r.SegmentsAfter)) {
				t.Fatal("DataCount not updated")
			}
		}
	})
}

// ---- the real module ----

const repoRoot = "../../.."

// TestRealModule links the engine as the Makefile does, merges it, and
// checks the memory image is the same with far fewer segments. It then
// checks the shipped dist/edgewise.wasm is already merged.
func TestRealModule(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to link ./wasm")
	}
	if testing.Short() {
		t.Skip("links the wasm module; skipped in -short")
	}
	linked := filepath.Join(t.TempDir(), "linked.wasm")
	cmd := exec.Command(goTool, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", linked, "./wasm")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	in, err := os.ReadFile(linked)
	if err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, in, DefaultMaxGap)
	t.Logf("linked: %d segments, %d bytes; merged: %d segments, %d bytes", r.SegmentsBefore, len(in), r.SegmentsAfter, len(r.Module))
	if r.SegmentsBefore < 1000 || r.SegmentsAfter > r.SegmentsBefore/100 {
		t.Errorf("segments %d -> %d: expected the linker's thousands to drop a hundredfold", r.SegmentsBefore, r.SegmentsAfter)
	}

	t.Run("dist", func(t *testing.T) {
		shipped, err := os.ReadFile(filepath.Join(repoRoot, "dist", "edgewise.wasm"))
		if os.IsNotExist(err) {
			t.Skip("dist/edgewise.wasm is absent: run make build to check the shipped file")
		}
		if err != nil {
			t.Fatal(err)
		}
		again := mustRun(t, shipped, DefaultMaxGap)
		if !bytes.Equal(again.Module, shipped) {
			t.Errorf("dist/edgewise.wasm is not merged: %d segments merge to %d", again.SegmentsBefore, again.SegmentsAfter)
		}
		if again.SegmentsBefore > r.SegmentsBefore/100 {
			t.Errorf("dist/edgewise.wasm has %d data segments", again.SegmentsBefore)
		}
	})
}

// TestNotInTheModule keeps this build-time package out of the wasm.
func TestNotInTheModule(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	cmd := exec.Command(goTool, "list", "-deps", "./wasm")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/edgewise/edgewise/internal/build") {
			t.Errorf("the wasm module links %s", pkg)
		}
	}
}
