// Package geo is a coarse offline reverse geocoder: it turns a latitude and
// longitude into an ISO 3166-1 alpha-2 country code and, for some countries,
// an ISO 3166-2 first-level subdivision code, from a small built-in grid
// (regions.bin, 0.25° cells). It exists so that coordinates can be coarsened
// the moment they arrive: callers look the point up and keep only the codes.
//
// The table is a raster: every cell resolves to one code (or to none, for
// open water), so within a cell that a border crosses the answer is the
// region covering most of the cell. See README.md for the data source, the
// file format and the accuracy trade-offs.
//
// The package uses only the standard library and never panics on input.
package geo

import (
	"errors"
	"math"
	"sync"
)

// Format constants of regions.bin.
const (
	Magic   = "EWRG"
	Version = 1
)

// maxCellsPerDegree bounds the grid so a hostile file cannot ask for a huge
// table: 16 cells per degree is 5760×2880 cells, far finer than needed.
const maxCellsPerDegree = 16

// regionsBin, the table Default decodes, is regions.bin as a string
// constant in regions_bin.go, which go generate writes from it: a constant
// costs the wasm its bytes alone, where //go:embed also links the embed
// package (about 34 KB brotli). A test fails when the two differ.
//go:generate go run ../../internal/build/cmd/bin2go -pkg geo -name regionsBin -o regions_bin.go regions.bin

// Table is a decoded region grid. It is immutable and safe for concurrent use.
type Table struct {
	cpd   int      // cells per degree
	rows  int      // 180*cpd; row 0 starts at latitude +90
	cols  int      // 360*cpd; column 0 starts at longitude -180
	codes []string // index 0 is "" (no region)
	// Row r's runs are runEnd/runCode[rowStart[r]:rowStart[r+1]]; runEnd is
	// the exclusive end column of the run.
	rowStart []uint32
	runEnd   []uint16
	runCode  []uint16
}

var (
	errMagic   = errors.New("geo: not a region table")
	errVersion = errors.New("geo: unsupported region table version")
	errCorrupt = errors.New("geo: corrupt region table")
)

// Decode parses a region table in the regions.bin format. It is strict:
// unknown versions, malformed codes, runs that do not cover a row exactly and
// trailing bytes are errors. It never panics.
func Decode(data []byte) (*Table, error) {
	if len(data) < 8 || string(data[:4]) != Magic {
		return nil, errMagic
	}
	if data[4] != Version {
		return nil, errVersion
	}
	cpd := int(data[5])
	if cpd < 1 || cpd > maxCellsPerDegree {
		return nil, errCorrupt
	}
	ncodes := int(data[6]) | int(data[7])<<8
	p := 8
	if ncodes > (len(data)-p)/3 { // each code takes at least 3 bytes
		return nil, errCorrupt
	}
	t := &Table{cpd: cpd, rows: 180 * cpd, cols: 360 * cpd}
	t.codes = make([]string, 1, ncodes+1)
	for i := 0; i < ncodes; i++ {
		if p >= len(data) {
			return nil, errCorrupt
		}
		n := int(data[p])
		p++
		if n > len(data)-p || !validCode(data[p:p+n]) {
			return nil, errCorrupt
		}
		t.codes = append(t.codes, string(data[p:p+n]))
		p += n
	}
	// Runs per row.
	t.rowStart = make([]uint32, t.rows+1)
	total := 0
	for r := 0; r < t.rows; r++ {
		t.rowStart[r] = uint32(total)
		nruns, q, ok := uvarint(data, p)
		if !ok || nruns < 1 || nruns > uint64(t.cols) {
			return nil, errCorrupt
		}
		p = q
		total += int(nruns)
	}
	t.rowStart[t.rows] = uint32(total)
	// Each run takes at least one byte in each of the two streams below, so
	// this bounds the allocations by the input size.
	if total > (len(data)-p)/2 {
		return nil, errCorrupt
	}
	t.runCode = make([]uint16, total)
	for i := range t.runCode {
		code, q, ok := uvarint(data, p)
		if !ok || code > uint64(ncodes) {
			return nil, errCorrupt
		}
		p = q
		t.runCode[i] = uint16(code)
	}
	t.runEnd = make([]uint16, total)
	for r := 0; r < t.rows; r++ {
		col := 0
		for i := t.rowStart[r]; i < t.rowStart[r+1]; i++ {
			n, q, ok := uvarint(data, p)
			if !ok || n >= uint64(t.cols-col) {
				return nil, errCorrupt
			}
			p = q
			col += int(n) + 1
			t.runEnd[i] = uint16(col)
		}
		if col != t.cols {
			return nil, errCorrupt
		}
	}
	if p != len(data) {
		return nil, errCorrupt
	}
	return t, nil
}

// validCode accepts "CC" or "CC-X" .. "CC-XXX" (A-Z, 0-9).
func validCode(b []byte) bool {
	switch {
	case len(b) == 2:
	case len(b) >= 4 && len(b) <= 6 && b[2] == '-':
		for _, c := range b[3:] {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	default:
		return false
	}
	return b[0] >= 'A' && b[0] <= 'Z' && b[1] >= 'A' && b[1] <= 'Z'
}

// uvarint reads an unsigned LEB128 value of at most 3 bytes (enough for any
// valid field) from data at p.
func uvarint(data []byte, p int) (uint64, int, bool) {
	var x uint64
	for shift := uint(0); shift < 21; shift += 7 {
		if p >= len(data) {
			return 0, p, false
		}
		b := data[p]
		p++
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if b == 0 && shift > 0 {
				return 0, p, false // non-minimal encoding
			}
			return x, p, true
		}
	}
	return 0, p, false
}

// Lookup returns the country (ISO 3166-1 alpha-2) and, where the table has
// one, the first-level subdivision (ISO 3166-2, e.g. "US-WA"; "" otherwise)
// of the cell containing (lat, lon) in degrees (WGS 84). ok is false for open
// water and for invalid coordinates (NaN, ±Inf, |lat| > 90, |lon| > 180).
// Longitude 180 is treated as -180; latitude -90 falls in the southernmost row.
func (t *Table) Lookup(lat, lon float64) (country, subdivision string, ok bool) {
	if t == nil || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
		return "", "", false
	}
	r := int(math.Floor((90 - lat) * float64(t.cpd)))
	if r >= t.rows {
		r = t.rows - 1
	}
	c := int(math.Floor((lon + 180) * float64(t.cpd)))
	if c >= t.cols {
		c = 0
	}
	if r < 0 || c < 0 {
		return "", "", false
	}
	lo, hi := int(t.rowStart[r]), int(t.rowStart[r+1])
	// First run whose end is past c.
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(t.runEnd[m]) <= c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo >= int(t.rowStart[r+1]) {
		return "", "", false
	}
	code := t.codes[t.runCode[lo]]
	if code == "" {
		return "", "", false
	}
	if len(code) > 2 {
		return code[:2], code, true
	}
	return code, "", true
}

// CellsPerDegree reports the grid resolution (4 means 0.25° cells).
func (t *Table) CellsPerDegree() int { return t.cpd }

// Codes returns the number of region codes in the table.
func (t *Table) Codes() int { return len(t.codes) - 1 }

var (
	defaultOnce  sync.Once
	defaultTable *Table
	defaultErr   error
)

// Default returns the table decoded from the built-in regions.bin, decoding
// it on first use.
func Default() (*Table, error) {
	defaultOnce.Do(func() { defaultTable, defaultErr = Decode([]byte(regionsBin)) })
	return defaultTable, defaultErr
}
