package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/feedbuild"
	"github.com/edgewise/edgewise/internal/feedsrc"
	"github.com/edgewise/edgewise/internal/keyfile"
)

func init() {
	commands["feed"] = command{
		usage: "feed build KIND INPUT... --key SITE.key -o FILE.ewf [--id ID] [--format csv|json|open-meteo] [--places PLACES.csv]\n" +
			"                    [--ttl 3h] [--issued RFC3339] [--values a,b,c]\n" +
			"      Build a signed context feed (.ewf) from CSV, JSON or Open-Meteo inputs: a value per geohash cell,\n" +
			"      subdivision or country, which the device joins with the person's region. KIND is weather, holidays\n" +
			"      or custom (a custom feed needs --id, the id the ruleset's feeds entry names). --places names cells\n" +
			"      after cities (name,lat,lon). The feed holds from --issued (default: the newest Open-Meteo\n" +
			"      observation, else now) for --ttl (default: weather 3h, holidays 720h, custom 24h); then the device\n" +
			"      ignores it. Rebuild weather hourly, holidays monthly, a custom feed whenever its values change,\n" +
			"      and publish the file at the ruleset's url. Sign with the ruleset's key, or the key its feeds entry names.\n" +
			"  edgewise feed inspect FILE.ewf [--key SITE.pub] [--json]\n" +
			"      Print what a signed feed holds: its header, id, kind, when it holds, its values and places.\n" +
			"      With --key, check the signature too; exits 1 when it is INVALID or the file is damaged.",
		run: cmdFeed,
	}
}

func cmdFeed(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("feed needs a subcommand: feed build KIND INPUT... or feed inspect FILE.ewf (see edgewise help)")
	}
	switch args[0] {
	case "build":
		return cmdFeedBuild(args[1:], stdout, stderr)
	case "inspect":
		return cmdFeedInspect(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "Usage:\n  edgewise "+commands["feed"].usage)
		return nil
	}
	return fmt.Errorf("feed has no subcommand %q: use feed build or feed inspect (see edgewise help)", args[0])
}

func cmdFeedBuild(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("feed build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the private key `FILE` that signs the feed (from edgewise keygen)")
	out := fs.String("o", "", "the signed feed `FILE` to write (.ewf)")
	id := fs.String("id", "", "the feed's `ID`, as the ruleset's feeds entry names it (default: KIND; required for custom)")
	format := fs.String("format", "", "read every INPUT as `FORMAT` csv, json or open-meteo (default: from each name)")
	placesPath := fs.String("places", "", "a name,lat,lon CSV `FILE` of places that label the cells they are in, first first")
	ttl := fs.String("ttl", "", "how long the feed holds, such as 3h, 90m or 30d (default: weather 3h, holidays 720h, custom 24h)")
	issued := fs.String("issued", "", "when the feed starts to hold, RFC 3339 `TIME` (default: the newest Open-Meteo observation, else now)")
	values := fs.String("values", "", "a custom feed's values, comma-separated, as the ruleset lists them (default: those the inputs use)")
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) < 2:
		return errors.New("feed build needs KIND and at least one INPUT, such as: feed build weather world.json --key site.key -o weather.ewf")
	case *keyPath == "":
		return errors.New("feed build needs --key SITE.key: the private key that signs the feed (the ruleset's, or the one its feeds entry names; edgewise keygen makes one)")
	case *out == "":
		return errors.New("feed build needs -o FILE.ewf: where to write the signed feed (publish it at the url the ruleset's feeds entry names)")
	}
	kind, inputs := pos[0], pos[1:]
	if !slices.Contains(engine.FeedKinds, kind) {
		return fmt.Errorf("feed build: kind %q is not a feed kind: want %s", kind, strings.Join(engine.FeedKinds, ", "))
	}
	switch *format {
	case "", feedsrc.FormatCSV, feedsrc.FormatJSON, feedsrc.FormatOpenMeteo:
	default:
		return fmt.Errorf("feed build: --format %q: want %s, %s or %s", *format, feedsrc.FormatCSV, feedsrc.FormatJSON, feedsrc.FormatOpenMeteo)
	}
	o := feedbuild.Options{Kind: kind, ID: *id}
	if *ttl != "" {
		if o.TTL, err = parseTTL(*ttl); err != nil {
			return fmt.Errorf("feed build: --ttl %q: %v", *ttl, err)
		}
	}
	issuedFrom := ""
	if *issued != "" {
		t, err := time.Parse(time.RFC3339, *issued)
		if err != nil {
			return fmt.Errorf("feed build: --issued %q is not an RFC 3339 time, such as 2026-12-04T12:00:00Z", *issued)
		}
		o.Issued, issuedFrom = t, "--issued"
	}
	if *values != "" {
		for _, v := range strings.Split(*values, ",") {
			if v = strings.TrimSpace(v); v != "" {
				o.Values = append(o.Values, v)
			}
		}
	}
	priv, err := keyfile.ReadPrivate(*keyPath)
	if err != nil {
		return err
	}

	// Read every input, reporting the problems of all of them at once.
	var (
		entries  []feedsrc.Entry
		origin   []string // per entry: its file
		elements []bool   // per entry: counted in JSON elements, not lines
		newest   time.Time
		problems []string
	)
	for _, path := range inputs {
		es, at, err := feedsrc.ReadFile(path, *format)
		if err != nil {
			problems = append(problems, strings.Split(err.Error(), "\n")...)
			continue
		}
		element := !isCSV(path, *format)
		for range es {
			origin = append(origin, path)
			elements = append(elements, element)
		}
		entries = append(entries, es...)
		if at.After(newest) {
			newest = at
		}
	}
	if *placesPath != "" {
		if o.Places, err = feedsrc.ReadPlacesFile(*placesPath); err != nil {
			problems = append(problems, strings.Split(err.Error(), "\n")...)
		}
	}
	if len(problems) > 0 {
		return buildFailed(stderr, problems, *out)
	}
	if o.Issued.IsZero() {
		if newest.IsZero() {
			o.Issued, issuedFrom = time.Now(), "now"
		} else {
			o.Issued, issuedFrom = newest, "the newest observation in the input"
		}
	}
	o.Source = func(i int) string {
		if elements[i] {
			return fmt.Sprintf("%s: element %d", origin[i], entries[i].Line)
		}
		return fmt.Sprintf("%s:%d", origin[i], entries[i].Line)
	}
	f, sum, err := feedbuild.Build(entries, o)
	if err != nil {
		return buildFailed(stderr, strings.Split(err.Error(), "\n"), *out)
	}
	ewf, err := buildtime.EncodeFeed(f, priv)
	if err != nil {
		return fmt.Errorf("feed build: %w", err)
	}
	if err := keyfile.WriteFile(*out, ewf, 0o644); err != nil {
		return err
	}

	keyID := engine.KeyIDOf(priv.Public().(ed25519.PublicKey))
	w := &tabWriter{w: stdout}
	fmt.Fprintf(stdout, "built %s: %s feed %s, %d bytes, signed with key %s\n", *out, f.Kind, f.ID, len(ewf), keyID)
	w.row("issued", unixMS(f.Issued)+" ("+issuedFrom+")")
	expires := unixMS(f.Expires) + " (" + lifetime(f) + " later)"
	if time.Now().UnixMilli() >= f.Expires {
		expires += ", already past"
		sum.Warnings = append(sum.Warnings, "the feed expired at "+unixMS(f.Expires)+": the device will ignore it; use fresh input, or pass --issued or a longer --ttl")
	}
	w.row("expires", expires)
	var vals []string
	for _, v := range f.Values {
		vals = append(vals, v+" "+strconv.Itoa(sum.Values[v]))
	}
	w.row("values", strings.Join(vals, ", ")+" (cells and regions)")
	if sum.Cells > 0 {
		w.row("cells", fmt.Sprintf("%d of %d geohash cells", sum.Cells, engine.FeedCells))
	} else {
		w.row("cells", "none")
	}
	w.row("places", placesText(f.Places))
	w.row("rows", fmt.Sprintf("%d from %s", sum.Entries, countOf(len(inputs), "input")))
	w.row("size", fmt.Sprintf("%d bytes of msgpack, %d gzipped (level 9)", sum.RawBytes, sum.GzipBytes))
	for _, warn := range sum.Warnings {
		fmt.Fprintln(stdout, "warning: "+warn)
	}
	return nil
}

// buildFailed prints the problems that stopped feed build.
func buildFailed(stderr io.Writer, problems []string, out string) error {
	n := 0
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
		if !strings.HasSuffix(p, "more problems not shown") {
			n++
		}
	}
	fmt.Fprintf(stderr, "edgewise feed build: %s; %s was not written\n", countOf(n, "problem"), out)
	return exitCode(1)
}

// isCSV says whether feedsrc reads path as CSV, whose errors count lines
// (JSON's count elements).
func isCSV(path, format string) bool {
	if format != "" {
		return format == feedsrc.FormatCSV
	}
	name := strings.ToLower(path)
	name = strings.TrimSuffix(name, ".gz")
	return filepath.Ext(name) == ".csv"
}

// parseTTL reads a Go duration, or whole days as "30d".
func parseTTL(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, errors.New("want a duration such as 3h, 90m or 30d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	t, err := time.ParseDuration(s)
	if err != nil || t <= 0 {
		return 0, errors.New("want a duration such as 3h, 90m or 30d")
	}
	return t, nil
}

// lifetime is how long a feed holds.
func lifetime(f *engine.Feed) string {
	return (time.Duration(f.Expires-f.Issued) * time.Millisecond).Truncate(time.Second).String()
}

// unixMS prints Unix milliseconds as UTC RFC 3339.
func unixMS(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// placeKind says what a place's key names.
func placeKind(key string) string {
	switch {
	case strings.Contains(key, "-"):
		return "subdivision"
	case len(key) == 2 && strings.ToUpper(key) == key:
		return "country"
	}
	return "cell"
}

// placesText counts places by what they name.
func placesText(ps []engine.FeedPlace) string {
	if len(ps) == 0 {
		return "none"
	}
	n := map[string]int{}
	for _, p := range ps {
		n[placeKind(p.Key)]++
	}
	var parts []string
	for _, k := range []struct{ kind, what string }{{"cell", "labelled cell"}, {"subdivision", "subdivision"}, {"country", "country"}} {
		if n[k.kind] > 0 {
			what := countOf(n[k.kind], k.what)
			if k.kind == "country" && n[k.kind] != 1 {
				what = strconv.Itoa(n[k.kind]) + " countries"
			}
			parts = append(parts, what)
		}
	}
	return strconv.Itoa(len(ps)) + ": " + strings.Join(parts, ", ")
}

// dateText prints a YYYYMMDD date as YYYY-MM-DD; 0 is "".
func dateText(d int) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

// datesOf describes when a place holds.
func datesOf(p engine.FeedPlace) string {
	switch {
	case p.From == 0 && p.To == 0:
		return "always"
	case p.From == p.To:
		return dateText(p.From)
	case p.From == 0:
		return "until " + dateText(p.To)
	case p.To == 0:
		return "from " + dateText(p.From)
	}
	return dateText(p.From) + " to " + dateText(p.To)
}

// feedJSON is what feed inspect --json prints.
type feedJSON struct {
	File        string       `json:"file"`
	Size        int          `json:"size"`
	KeyID       string       `json:"key_id"`
	ContentHash string       `json:"content_hash"`
	HashMatches bool         `json:"hash_matches"`
	Signature   string       `json:"signature"`
	Feed        *feedJSONOut `json:"feed,omitempty"`
	Error       string       `json:"error,omitempty"`
}

type feedJSONOut struct {
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Issued    string            `json:"issued"`
	Expires   string            `json:"expires"`
	IssuedMS  int64             `json:"issued_ms"`
	ExpiresMS int64             `json:"expires_ms"`
	Expired   bool              `json:"expired"`
	Values    []string          `json:"values"`
	Places    []feedPlaceJSON   `json:"places"`
	Cells     map[string]string `json:"cells,omitempty"`
}

type feedPlaceJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	Label string `json:"label,omitempty"`
}

func cmdFeedInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("feed inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "public key `FILE` (from keygen) to check the signature with")
	asJSON := fs.Bool("json", false, "print the feed as JSON")
	nowFlag := fs.String("now", "", "judge whether the feed holds at this RFC 3339 `TIME` (default: now)")
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("feed inspect needs one .ewf file")
	}
	now := time.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return fmt.Errorf("feed inspect: --now %q is not an RFC 3339 time, such as 2026-12-04T12:00:00Z", *nowFlag)
		}
	}
	path := pos[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	info, err := engine.ReadFeedHeader(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, f, ferr := engine.InspectFeed(data)
	bad := !info.HashMatches
	signature := "not checked (pass --key SITE.pub)"
	if *keyPath != "" {
		pub, err := keyfile.ReadPublic(*keyPath)
		if err != nil {
			return err
		}
		if _, verr := engine.DecodeFeed(data, pub); verr != nil {
			msg := verr.Error()
			var e *engine.Error
			if errors.As(verr, &e) {
				msg = e.Message
			}
			if id := engine.KeyIDOf(pub); id != info.KeyID {
				msg = "the feed is signed with key " + info.KeyID.String() + ", not with " + *keyPath + " (key " + id.String() + ")"
			}
			signature, bad = "INVALID: "+msg, true
		} else {
			signature = "valid (key id " + engine.KeyIDOf(pub).String() + ")"
		}
	}
	hash := "sha256:" + hex.EncodeToString(info.ContentHash[:])
	if *asJSON {
		out := feedJSON{File: path, Size: info.Size, KeyID: info.KeyID.String(), ContentHash: hash, HashMatches: info.HashMatches, Signature: signature}
		if ferr != nil {
			out.Error = ferr.Error()
		} else {
			out.Feed = feedAsJSON(f, now)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
		if bad || ferr != nil {
			return exitCode(1)
		}
		return nil
	}

	w := &tabWriter{w: stdout}
	fmt.Fprintf(stdout, "%s: %d bytes\n", path, info.Size)
	w.row("format", fmt.Sprintf("%s version %d, flags 0x%04x", engine.EWFMagic, info.Version, info.Flags))
	w.row("key id", info.KeyID.String())
	if info.HashMatches {
		w.row("content hash", hash+" (matches the payload)")
	} else {
		w.row("content hash", hash+" DOES NOT MATCH the payload: the file was changed or damaged")
	}
	w.row("payload", fmt.Sprintf("%d bytes of msgpack", info.PayloadSize))
	w.row("signature", signature)
	if ferr != nil {
		fmt.Fprintf(stdout, "\n%s: %v\n", path, ferr)
		return exitCode(1)
	}
	fmt.Fprintln(stdout)
	describeFeed(stdout, f, now)
	if bad {
		return exitCode(1)
	}
	return nil
}

// describeFeed prints a feed for people: what it says, where, and when.
func describeFeed(out io.Writer, f *engine.Feed, now time.Time) {
	w := &tabWriter{w: out}
	fmt.Fprintf(out, "feed %s (%s)\n", f.ID, f.Kind)
	w.row("issued", unixMS(f.Issued))
	expires := unixMS(f.Expires) + " (" + lifetime(f) + " later)"
	switch ms := now.UnixMilli(); {
	case ms >= f.Expires:
		expires += ": expired"
	case ms < f.Issued:
		expires += ": not yet issued"
	default:
		expires += ": holds for " + (time.Duration(f.Expires-ms) * time.Millisecond).Truncate(time.Minute).String() + " more"
	}
	w.row("expires", expires)
	cells, places := make([]int, len(f.Values)+1), make([]int, len(f.Values)+1)
	set := 0
	for _, v := range f.Cells {
		if v != 0 && int(v) <= len(f.Values) {
			cells[v]++
			set++
		}
	}
	for _, p := range f.Places {
		if p.Value >= 1 && p.Value <= len(f.Values) {
			places[p.Value]++
		}
	}
	var vals []string
	for i, v := range f.Values {
		var parts []string
		if len(f.Cells) > 0 {
			parts = append(parts, countOf(cells[i+1], "cell"))
		}
		parts = append(parts, countOf(places[i+1], "place"))
		vals = append(vals, v+" ("+strings.Join(parts, ", ")+")")
	}
	w.row("values", strings.Join(vals, ", "))
	if len(f.Cells) > 0 {
		w.row("cells", fmt.Sprintf("%d of %d geohash cells", set, engine.FeedCells))
	} else {
		w.row("cells", "none")
	}
	fmt.Fprintf(out, "\nplaces (%s)\n", placesText(f.Places))
	for _, p := range f.Places {
		v := "?"
		if p.Value >= 1 && p.Value <= len(f.Values) {
			v = f.Values[p.Value-1]
		}
		line := fmt.Sprintf("  %-7s %-15s %-24s %s", p.Key, v, datesOf(p), p.Label)
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
}

func feedAsJSON(f *engine.Feed, now time.Time) *feedJSONOut {
	out := &feedJSONOut{
		ID: f.ID, Kind: f.Kind,
		Issued: unixMS(f.Issued), Expires: unixMS(f.Expires), IssuedMS: f.Issued, ExpiresMS: f.Expires,
		Expired: now.UnixMilli() >= f.Expires,
		Values:  f.Values,
		Places:  []feedPlaceJSON{},
	}
	name := func(v int) string {
		if v >= 1 && v <= len(f.Values) {
			return f.Values[v-1]
		}
		return strconv.Itoa(v)
	}
	for _, p := range f.Places {
		out.Places = append(out.Places, feedPlaceJSON{Key: p.Key, Value: name(p.Value), From: dateText(p.From), To: dateText(p.To), Label: p.Label})
	}
	for i, v := range f.Cells {
		if v != 0 {
			if out.Cells == nil {
				out.Cells = map[string]string{}
			}
			out.Cells[engine.CellName(i)] = name(int(v))
		}
	}
	return out
}
