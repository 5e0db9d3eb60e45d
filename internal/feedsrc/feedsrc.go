// Package feedsrc reads the inputs of context feeds: the rows a site turns
// into a signed feed with `edgewise feed build KIND INPUT`. A row gives a
// value (today's weather category, "public_holiday", "open", ...) for a
// place, named by a region key (a country "FR", an ISO 3166-2 subdivision
// "FR-IDF" or a geohash of 1 to 3 characters "u09") or by a point, over an
// optional range of local dates.
//
// Inputs are CSV (ReadCSV), JSON (ReadJSON) or an Open-Meteo forecast API
// response (ReadOpenMeteo, which maps WMO weather codes to categories with
// WeatherCategory). ReadFile opens a file, gunzips *.gz and picks the reader;
// ReadPlaces reads a list of place names for labels.
//
// Readers check every row and report up to 20 problems at once, each naming
// the file and the line (CSV) or element (JSON), so that a bad input is
// fixed in one pass. They never check a value against a kind of feed (the
// caller knows the kind; IsWeatherCategory helps for weather).
//
// This package is for native build tools (the CLI); the engine and the wasm
// never use it.
package feedsrc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Entry is one row of a feed's input: a value for a place, named by Key (a country "FR", a
// subdivision "FR-IDF", or a geohash of 1 to 3 characters "u09"), or for a point (Lat/Lon, Key empty).
// From and To (YYYY-MM-DD, inclusive, both empty = always) bound the local dates the value holds;
// one of them empty leaves that side open (as the engine's FeedPlace does).
// Label is an optional place name people read ("Paris"). Line is where it came from, for errors.
type Entry struct {
	Key      string
	Lat, Lon float64
	HasPoint bool
	Value    string
	From, To string
	Label    string
	Line     int // 1-based line (CSV) or array index+1 (JSON) in the input
}

// Limits of an Entry's text fields, in bytes.
const (
	MaxValueBytes = 64
	MaxLabelBytes = 64
)

// maxErrors is how many problems a reader reports before it only counts
// the rest.
const maxErrors = 20

// maxInput bounds what ReadFile reads (after gunzip), so that a gzip bomb
// fails cleanly. Feeds are small; the world weather fixture is ~4 MB.
const maxInput = 256 << 20

// dateLayout is the layout of From and To.
const dateLayout = "2006-01-02"

// Error is one problem in an input. Line is a 1-based line for CSV (0 for
// a problem with the whole file) or, when Element is set, a 1-based JSON
// array element (index+1, like Entry.Line).
type Error struct {
	Name    string
	Line    int
	Element bool
	Msg     string
}

func (e *Error) Error() string {
	switch {
	case e.Line <= 0:
		return e.Name + ": " + e.Msg
	case e.Element:
		return fmt.Sprintf("%s: element %d: %s", e.Name, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
	}
}

// errList collects the problems of one input, keeping the first maxErrors.
type errList struct {
	name    string
	element bool
	errs    []error
	more    int
}

// keep appends e to entries unless it has problems, which it records at
// line, or its row was bad already (bad: those are recorded).
func (l *errList) keep(entries []Entry, e Entry, line int, bad bool) []Entry {
	ps := e.problems()
	for _, p := range ps {
		l.add(line, "%s", p)
	}
	if len(ps) > 0 || bad {
		return entries
	}
	return append(entries, e)
}

func (l *errList) add(line int, format string, args ...any) {
	if len(l.errs) >= maxErrors {
		l.more++
		return
	}
	l.errs = append(l.errs, &Error{Name: l.name, Line: line, Element: l.element, Msg: fmt.Sprintf(format, args...)})
}

func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := l.errs
	if l.more > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("%s: %d more problems not shown", l.name, l.more))
	}
	return errors.Join(errs...)
}

// KeyKind says what a key names: "country" (two upper-case letters, ISO
// 3166-1 alpha-2, "FR"), "subdivision" (ISO 3166-2: a country, "-" and 1 to 3
// upper-case letters or digits, "FR-IDF", "US-WA", "IT-25") or "geohash" (1 to
// 3 characters of the geohash alphabet 0-9 b-h j k m n p-z, "u09"); "" if
// none. Only the syntax is checked, not that the region exists.
//
// Two lower-case letters of the geohash alphabet ("fr", "us", "de") are a
// valid geohash, not a country: countries are upper case.
func KeyKind(key string) string {
	switch {
	case isCountry(key):
		return "country"
	case len(key) >= 4 && len(key) <= 6 && isCountry(key[:2]) && key[2] == '-' && isSubdivisionSuffix(key[3:]):
		return "subdivision"
	case len(key) >= 1 && len(key) <= 3 && isGeohash(key):
		return "geohash"
	}
	return ""
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func isSubdivisionSuffix(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// geohashAlphabet is the base-32 alphabet of geohashes (no a, i, l, o).
const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

func isGeohash(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(geohashAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// keyProblem explains why key is not a valid key, guessing which kind was
// meant: a "-" means a subdivision, an upper-case letter a country,
// anything else a geohash.
func keyProblem(key string) string {
	q := strconv.Quote(key)
	switch {
	case strings.Contains(key, "-"):
		return "key " + q + ` is not a subdivision: it must be an ISO 3166-2 code, a country's 2 upper-case letters, "-" and 1 to 3 upper-case letters or digits, like "FR-IDF" or "US-WA"`
	case strings.IndexFunc(key, unicode.IsUpper) >= 0:
		if len(key) == 2 {
			return "key " + q + ` is not a country: it must be 2 upper-case letters A-Z (ISO 3166-1 alpha-2), like "FR"`
		}
		return "key " + q + ` is not a country: it must be exactly 2 upper-case letters (ISO 3166-1 alpha-2), like "FR"; subdivisions are written "FR-IDF"`
	default:
		return "key " + q + ` is not a geohash: it must be 1 to 3 characters of 0-9 and b-z without i, l, o, like "u09" (countries are upper case, "FR")`
	}
}

// Validate checks an Entry: exactly one of Key or a point, the key's
// syntax, latitude and longitude ranges, From and To empty or YYYY-MM-DD
// with From ≤ To when both are given, Value non-empty and at most MaxValueBytes,
// Label at most MaxLabelBytes, and both printable UTF-8. It returns all
// problems joined, or nil. Entries that the readers return pass it.
func (e Entry) Validate() error {
	var errs []error
	for _, p := range e.problems() {
		errs = append(errs, errors.New(p))
	}
	return errors.Join(errs...)
}

// problems lists what is wrong with e, in field order.
func (e Entry) problems() []string {
	var ps []string
	switch {
	case e.Key != "" && e.HasPoint:
		ps = append(ps, "give either a key or lat and lon, not both")
	case e.Key == "" && !e.HasPoint:
		ps = append(ps, "no key and no lat, lon: give one of them")
	case e.Key != "" && KeyKind(e.Key) == "":
		ps = append(ps, keyProblem(e.Key))
	case e.HasPoint:
		if !(e.Lat >= -90 && e.Lat <= 90) {
			ps = append(ps, fmt.Sprintf("lat %q is not a latitude in [-90, 90]", formatFloat(e.Lat)))
		}
		if !(e.Lon >= -180 && e.Lon <= 180) {
			ps = append(ps, fmt.Sprintf("lon %q is not a longitude in [-180, 180]", formatFloat(e.Lon)))
		}
	}
	switch {
	case e.Value == "":
		ps = append(ps, "value is empty")
	case len(e.Value) > MaxValueBytes:
		ps = append(ps, fmt.Sprintf("value is %d bytes, more than %d", len(e.Value), MaxValueBytes))
	case !printable(e.Value):
		ps = append(ps, fmt.Sprintf("value %q is not printable UTF-8 text", e.Value))
	}
	ps = append(ps, dateProblems(e.From, e.To)...)
	switch {
	case len(e.Label) > MaxLabelBytes:
		ps = append(ps, fmt.Sprintf("label is %d bytes, more than %d", len(e.Label), MaxLabelBytes))
	case !printable(e.Label):
		ps = append(ps, fmt.Sprintf("label %q is not printable UTF-8 text", e.Label))
	}
	return ps
}

func dateProblems(from, to string) []string {
	var ps []string
	var f, t time.Time
	var ferr, terr error
	if from != "" {
		if f, ferr = parseDate(from); ferr != nil {
			ps = append(ps, fmt.Sprintf("from %q is not a date YYYY-MM-DD", from))
		}
	}
	if to != "" {
		if t, terr = parseDate(to); terr != nil {
			ps = append(ps, fmt.Sprintf("to %q is not a date YYYY-MM-DD", to))
		}
	}
	if from != "" && to != "" && ferr == nil && terr == nil && f.After(t) {
		ps = append(ps, fmt.Sprintf("from %s is after to %s", from, to))
	}
	return ps
}

func parseDate(s string) (time.Time, error) {
	if len(s) != len(dateLayout) {
		return time.Time{}, errors.New("bad length")
	}
	return time.Parse(dateLayout, s)
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// parseCoord parses a latitude or longitude as written in a CSV cell.
func parseCoord(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	// NaN, Inf and out-of-range values parse; Validate rejects them with
	// the range in the message.
	return f, true
}

// coord parses the lat or lon cell s of a CSV line into dst, or says in l
// that it is not a number.
func (l *errList) coord(line int, name, s string, dst *float64) bool {
	f, ok := parseCoord(s)
	if !ok || s == "" {
		l.add(line, "%s %q is not a number", name, s)
		return false
	}
	*dst = f
	return true
}

// csvColumns are the columns ReadCSV knows.
var csvColumns = []string{"key", "lat", "lon", "value", "from", "to", "label"}

// newCSVReader returns a csv.Reader over r without a UTF-8 byte order mark
// (spreadsheets write one). Lines starting with '#' are comments.
func newCSVReader(r io.Reader) *csv.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	return cr
}

// readHeader reads a CSV header row and maps each known column (lower case)
// to its index; line is the header's line. It returns nil after adding
// problems to errs.
func readHeader(cr *csv.Reader, errs *errList, known []string, want string) (cols map[string]int, line int) {
	header, err := cr.Read()
	if err == io.EOF {
		errs.add(0, "empty: want a header row (%s) then rows", want)
		return nil, 0
	}
	if err != nil {
		errs.add(csvErrLine(err, 1), "%s", csvErrMsg(err))
		return nil, 0
	}
	line, _ = cr.FieldPos(0)
	cols = make(map[string]int, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(known, name):
			errs.add(line, "unknown column %q: the columns are %s", h, strings.Join(known, ", "))
		case hasKey(cols, name):
			errs.add(line, "column %q appears twice", name)
		default:
			cols[name] = i
		}
	}
	if len(errs.errs) > 0 {
		return nil, line
	}
	return cols, line
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

func csvErrLine(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Line
	}
	return def
}

func csvErrMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("not CSV: column %d: %v", pe.Column, pe.Err)
	}
	return err.Error()
}

// ReadCSV reads a header row then rows. Columns (any order, header names case-insensitive):
// key | lat,lon ; value ; optional from, to, label. Errors name the line and column, e.g.
// `weather.csv:7: lat "91.2" is not a latitude in [-90, 90]`.
//
// A file may have both a key column and lat, lon columns; each row then
// fills either its key or its lat and lon. Cells are trimmed of spaces;
// rows whose cells are all empty and lines starting with '#' are skipped;
// a UTF-8 byte order mark is ignored. Unknown columns are an error, so that
// a misspelt column is not silently dropped. ReadCSV returns no entries
// unless every row is valid; it reports up to 20 problems, joined.
func ReadCSV(name string, r io.Reader) ([]Entry, error) {
	errs := &errList{name: name}
	cr := newCSVReader(r)
	cols, hl := readHeader(cr, errs, csvColumns, "key or lat,lon; value; optional from, to, label")
	if cols == nil {
		return nil, errs.err()
	}
	_, hasKeyCol := cols["key"]
	_, hasLat := cols["lat"]
	_, hasLon := cols["lon"]
	switch {
	case hasLat != hasLon:
		errs.add(hl, "lat and lon columns go together: the header has only one of them")
	case !hasKeyCol && !hasLat:
		errs.add(hl, "no key column and no lat, lon columns: give one of them")
	}
	if !hasKey(cols, "value") {
		errs.add(hl, "no value column")
	}

	if len(errs.errs) > 0 {
		return nil, errs.err()
	}
	var entries []Entry
	eachRecord(cr, errs, func(rec []string, line int) {
		if len(rec) != len(cols) {
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				return
			}
			errs.add(line, "%d cells, but the header has %d columns", len(rec), len(cols))
			return
		}
		cell := func(col string) string {
			if i, ok := cols[col]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if allEmpty(rec) {
			return
		}
		e := Entry{Key: cell("key"), Value: cell("value"), From: cell("from"), To: cell("to"), Label: cell("label"), Line: line}
		latS, lonS := cell("lat"), cell("lon")
		bad := false
		if latS != "" || lonS != "" {
			switch {
			case latS == "":
				errs.add(line, "lon %q without lat", lonS)
				bad = true
			case lonS == "":
				errs.add(line, "lat %q without lon", latS)
				bad = true
			}
			if latS != "" && !errs.coord(line, "lat", latS, &e.Lat) {
				bad = true
			}
			if lonS != "" && !errs.coord(line, "lon", lonS, &e.Lon) {
				bad = true
			}
			e.HasPoint = !bad
		}
		if bad {
			// The point's own problems are reported; check the rest as if
			// the row had a valid point.
			e.HasPoint, e.Lat, e.Lon = e.Key == "", 0, 0
		}
		entries = errs.keep(entries, e, line, bad)
	})
	if err := errs.err(); err != nil {
		return nil, err
	}
	return entries, nil
}

// eachRecord calls fn with each record after the header and its line. It
// stops at the end, or at a parse error, which it records: the reader
// cannot be trusted to resynchronise after a quoting error.
func eachRecord(cr *csv.Reader, errs *errList, fn func(rec []string, line int)) {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			errs.add(csvErrLine(err, 0), "%s", csvErrMsg(err))
			return
		}
		line, _ := cr.FieldPos(0)
		fn(rec, line)
	}
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// ReadJSON reads an array of objects with the same field names.
//
// Field names are matched case-insensitively; key, value, from, to and label
// are strings, lat and lon numbers; null is the same as absent. Unknown
// fields are an error. Errors name the element, counted from 1 as
// Entry.Line ("feed.json: element 3: ...").
func ReadJSON(name string, r io.Reader) ([]Entry, error) {
	errs := &errList{name: name, element: true}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var elems []json.RawMessage
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '[' {
		errs.add(0, `want a JSON array of objects, like [{"key": "FR", "value": "rain"}]`)
		return nil, errs.err()
	}
	if err := unmarshalStrict(data, &elems); err != nil {
		errs.add(0, "not JSON: %v", err)
		return nil, errs.err()
	}
	entries := make([]Entry, 0, len(elems))
	for i, raw := range elems {
		line := i + 1
		fields, ok := jsonObject(raw)
		if !ok {
			errs.add(line, "not an object")
			continue
		}
		e := Entry{Line: line}
		bad := false
		var lat, lon *float64
		seen := map[string]string{}
		for _, f := range fields {
			k := strings.ToLower(f.name)
			if !slices.Contains(csvColumns, k) {
				errs.add(line, "unknown field %q: the fields are %s", f.name, strings.Join(csvColumns, ", "))
				bad = true
				continue
			}
			if prev, dup := seen[k]; dup {
				errs.add(line, "field %q appears twice (as %q and %q)", k, prev, f.name)
				bad = true
				continue
			}
			seen[k] = f.name
			if string(f.value) == "null" {
				continue
			}
			switch k {
			case "lat", "lon":
				var v float64
				if err := json.Unmarshal(f.value, &v); err != nil {
					errs.add(line, "%s %s is not a number", k, shortJSON(f.value))
					bad = true
					continue
				}
				if k == "lat" {
					lat = &v
				} else {
					lon = &v
				}
			default:
				var s string
				if err := json.Unmarshal(f.value, &s); err != nil {
					errs.add(line, "%s %s is not a string", k, shortJSON(f.value))
					bad = true
					continue
				}
				s = strings.TrimSpace(s)
				switch k {
				case "key":
					e.Key = s
				case "value":
					e.Value = s
				case "from":
					e.From = s
				case "to":
					e.To = s
				case "label":
					e.Label = s
				}
			}
		}
		switch {
		case lat != nil && lon != nil:
			e.Lat, e.Lon, e.HasPoint = *lat, *lon, true
		case lat != nil:
			errs.add(line, "lat %s without lon", formatFloat(*lat))
			bad = true
		case lon != nil:
			errs.add(line, "lon %s without lat", formatFloat(*lon))
			bad = true
		}
		if bad && !e.HasPoint && e.Key == "" {
			e.HasPoint = true // the point's problem is reported already
		}
		entries = errs.keep(entries, e, line, bad)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return entries, nil
}

// shortJSON is a JSON value for an error message: compact, on one line,
// cut after 40 bytes.
func shortJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "(invalid JSON)"
	}
	if b.Len() > 40 {
		return string(b.Bytes()[:40]) + "..."
	}
	return b.String()
}

// unmarshalStrict decodes one JSON value from data and rejects trailing
// data.
func unmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the top-level value")
	}
	return nil
}

type jsonField struct {
	name  string
	value json.RawMessage
}

// jsonObject splits a JSON object into its fields in order, keeping
// duplicates (which map decoding would silently merge).
func jsonObject(raw json.RawMessage) ([]jsonField, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var fields []jsonField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, ok := t.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		fields = append(fields, jsonField{k, v})
	}
	return fields, true
}

// Open opens a file for reading, gunzipping it when its name ends in
// ".gz". Closing the result closes the file.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(filepath.Ext(path), ".gz") {
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not gzip: %w", path, err)
	}
	return &gzipFile{zr, f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error {
	err := g.Reader.Close()
	if ferr := g.f.Close(); err == nil {
		err = ferr
	}
	return err
}

// Formats ReadFile knows.
const (
	FormatCSV       = "csv"
	FormatJSON      = "json"
	FormatOpenMeteo = "open-meteo"
)

// ReadFile reads the feed input at path in format "csv", "json" or
// "open-meteo", or, for "", the format its name says: ".csv" is CSV, and
// ".json" is an Open-Meteo response when its first object has "latitude"
// and "current" or "daily", else JSON entries. A ".gz" suffix is gunzipped
// first and ignored for the format. The time is the newest observation of
// an Open-Meteo response and zero for the other formats. Errors name path.
func ReadFile(path, format string) ([]Entry, time.Time, error) {
	data, err := readAll(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	if format == "" {
		format, err = detectFormat(path, data)
		if err != nil {
			return nil, time.Time{}, err
		}
	}
	switch format {
	case FormatCSV:
		es, err := ReadCSV(path, bytes.NewReader(data))
		return es, time.Time{}, err
	case FormatJSON:
		es, err := ReadJSON(path, bytes.NewReader(data))
		return es, time.Time{}, err
	case FormatOpenMeteo:
		return ReadOpenMeteo(path, bytes.NewReader(data))
	}
	return nil, time.Time{}, fmt.Errorf("%s: unknown format %q: want %q, %q or %q", path, format, FormatCSV, FormatJSON, FormatOpenMeteo)
}

// ReadPlacesFile reads a places CSV (see ReadPlaces), gunzipping *.gz.
func ReadPlacesFile(path string) ([]Place, error) {
	data, err := readAll(path)
	if err != nil {
		return nil, err
	}
	return ReadPlaces(path, bytes.NewReader(data))
}

func readAll(path string) ([]byte, error) {
	rc, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%s: more than %d MiB", path, maxInput>>20)
	}
	return data, nil
}

func detectFormat(path string, data []byte) (string, error) {
	base := path
	if strings.EqualFold(filepath.Ext(base), ".gz") {
		base = base[:len(base)-3]
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".csv":
		return FormatCSV, nil
	case ".json":
		if IsOpenMeteo(data) {
			return FormatOpenMeteo, nil
		}
		return FormatJSON, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the name (want .csv, .json, optionally .gz): name one of %q, %q, %q", path, FormatCSV, FormatJSON, FormatOpenMeteo)
}

// IsOpenMeteo reports whether data looks like an Open-Meteo forecast
// response: an object, or an array whose first element is an object, with
// "latitude" and "current" or "daily".
func IsOpenMeteo(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	t, err := dec.Token()
	if err != nil {
		return false
	}
	var first map[string]json.RawMessage
	switch t {
	case json.Delim('['):
		if !dec.More() || dec.Decode(&first) != nil {
			return false
		}
	case json.Delim('{'):
		if json.Unmarshal(data, &first) != nil {
			return false
		}
	default:
		return false
	}
	_, lat := first["latitude"]
	_, cur := first["current"]
	_, daily := first["daily"]
	return lat && (cur || daily)
}
