// Command tz writes engine/geo/tz_table.go, the table RegionOfTimeZone looks
// time zone names up in, from the tzdata installed on this machine (Debian's
// tzdata package: /usr/share/zoneinfo) and the curated tables below.
//
//	go generate ./engine/geo        # runs: go run ./gen/tz
//	go run ./gen/tz -o - | less      # from engine/geo: print instead of writing
//
// Names and countries:
//
//   - every name zone.tab lists gets zone.tab's single country, even where
//     tzdb now links that name to a zone of another country (Europe/Amsterdam
//     → NL, Asia/Kuwait → KW): zone.tab keeps one name per country and zone,
//     and browsers report those names;
//   - every other link name of tzdata.zi ("L TARGET NAME") gets the countries
//     zone1970.tab gives its target, main country first (zone.tab's country
//     when zone1970.tab does not list the target), unless placeLinks or
//     subdivisions below pin one of them;
//   - names that say nothing about a country are left out: Etc/*, UTC, GMT…,
//     Factory and the POSIX-style rule names in ruleNames.
//
// The generator checks that every curated subdivision is a first-level
// ISO 3166-2 code (with /usr/share/iso-codes/json/iso_3166-2.json, Debian's
// iso-codes package, when present) and, for the countries regions.bin has
// subdivisions for, one of regions.bin's codes, so a subdivision derived from
// the time zone matches the codes geo.Table.Lookup gives.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// subdivisions maps a zone (or link) name to the ISO 3166-2 first-level
// subdivision it lies wholly inside, judged from the comments of
// zone1970.tab and zone.tab (quoted) or, for link names, from the comment
// the name had while it was a zone of its own. Conservative: a zone that
// also covers part of another subdivision has none (America/Los_Angeles:
// CA, WA, OR, NV; America/Boise: ID and part of OR; Australia/Sydney: NSW
// and the ACT; America/Toronto: ON and QC). A link name inherits its
// target's entry unless it has its own here; "" removes an inherited one.
// A link name's own subdivision pins its country when the name is shared by
// several.
//
// Not covered: KZ and GL, whose zones' areas could not be matched to
// current ISO 3166-2 codes with confidence (GL's national park and Pituffik
// lie in no municipality), and zones covering several subdivisions (most of
// ID, MY, CD, UZ, MN, PS). PF has no ISO 3166-2 subdivisions.
var subdivisions = map[string]string{
	// Argentina: zone1970.tab comments name the provinces.
	"America/Argentina/Jujuy":        "AR-Y", // Jujuy (JY)
	"America/Argentina/Tucuman":      "AR-T", // Tucumán (TM)
	"America/Argentina/La_Rioja":     "AR-F", // La Rioja (LR)
	"America/Argentina/San_Juan":     "AR-J", // San Juan (SJ)
	"America/Argentina/Mendoza":      "AR-M", // Mendoza (MZ)
	"America/Argentina/San_Luis":     "AR-D", // San Luis (SL)
	"America/Argentina/Rio_Gallegos": "AR-Z", // Santa Cruz (SC)
	"America/Argentina/Ushuaia":      "AR-V", // Tierra del Fuego (TF)

	// Australia.
	"Australia/Lord_Howe":   "AU-NSW", // Lord Howe Island (part of NSW)
	"Antarctica/Macquarie":  "AU-TAS", // Macquarie Island (part of Tasmania)
	"Australia/Hobart":      "AU-TAS", // Tasmania
	"Australia/Melbourne":   "AU-VIC", // Victoria
	"Australia/Broken_Hill": "AU-NSW", // New South Wales (Yancowinna)
	"Australia/Brisbane":    "AU-QLD", // Queensland (most areas)
	"Australia/Lindeman":    "AU-QLD", // Queensland (Whitsunday Islands)
	"Australia/Adelaide":    "AU-SA",  // South Australia
	"Australia/Darwin":      "AU-NT",  // Northern Territory
	"Australia/Perth":       "AU-WA",  // Western Australia (most areas)
	"Australia/Eucla":       "AU-WA",  // Western Australia (Eucla)
	// Links to Australia/Sydney, which covers NSW and the ACT.
	"Australia/ACT":      "AU-ACT",
	"Australia/Canberra": "AU-ACT",
	"Australia/NSW":      "AU-NSW",

	// Brazil.
	"America/Recife":       "BR-PE", // Pernambuco
	"America/Araguaina":    "BR-TO", // Tocantins
	"America/Bahia":        "BR-BA", // Bahia
	"America/Campo_Grande": "BR-MS", // Mato Grosso do Sul
	"America/Cuiaba":       "BR-MT", // Mato Grosso
	"America/Santarem":     "BR-PA", // Pará (west)
	"America/Porto_Velho":  "BR-RO", // Rondônia
	"America/Boa_Vista":    "BR-RR", // Roraima
	"America/Manaus":       "BR-AM", // Amazonas (east)
	"America/Eirunepe":     "BR-AM", // Amazonas (west)
	"America/Rio_Branco":   "BR-AC", // Acre

	// Canada.
	"America/St_Johns":      "CA-NL", // Newfoundland, Labrador (SE)
	"America/Glace_Bay":     "CA-NS", // Atlantic - NS (Cape Breton)
	"America/Moncton":       "CA-NB", // Atlantic - New Brunswick
	"America/Goose_Bay":     "CA-NL", // Atlantic - Labrador (most areas)
	"America/Iqaluit":       "CA-NU", // Eastern - NU (most areas)
	"America/Resolute":      "CA-NU", // Central - NU (Resolute)
	"America/Rankin_Inlet":  "CA-NU", // Central - NU (central)
	"America/Regina":        "CA-SK", // CST - SK (most areas)
	"America/Swift_Current": "CA-SK", // CST - SK (midwest)
	"America/Cambridge_Bay": "CA-NU", // Mountain - NU (west)
	"America/Inuvik":        "CA-NT", // Mountain - NT (west)
	"America/Dawson_Creek":  "CA-BC", // MST - BC (Dawson Cr, Ft St John)
	"America/Fort_Nelson":   "CA-BC", // MST - BC (Ft Nelson)
	"America/Whitehorse":    "CA-YT", // MST - Yukon (east)
	"America/Dawson":        "CA-YT", // MST - Yukon (west)
	"America/Vancouver":     "CA-BC", // Pacific - BC (most areas)
	"America/Blanc-Sablon":  "CA-QC", // AST - QC (Lower North Shore)
	"America/Creston":       "CA-BC", // MST - BC (Creston)
	// Former zones, now links: their last zone.tab comments.
	"America/Montreal":    "CA-QC", // Eastern - QC (most areas)
	"America/Thunder_Bay": "CA-ON", // Eastern - ON (Thunder Bay)
	"America/Rainy_River": "CA-ON", // Central - ON (Rainy R, Ft Frances)
	"America/Yellowknife": "CA-NT", // Mountain - NT (central)
	"America/Pangnirtung": "CA-NU", // Eastern - NU (Pangnirtung)
	// Not America/Coral_Harbour: CLDR, and so Chromium, gives that name for
	// America/Atikokan (ON, and Coral Harbour in NU).

	// Chile.
	"America/Coyhaique":    "CL-AI", // Aysén Region
	"America/Punta_Arenas": "CL-MA", // Magallanes Region
	"Pacific/Easter":       "CL-VS", // Easter Island (part of Valparaíso)

	"Asia/Urumqi":        "CN-XJ",  // Xinjiang Time
	"Europe/Busingen":    "DE-BW",  // Büsingen am Hochrhein
	"Pacific/Galapagos":  "EC-W",   // Galápagos Islands
	"Atlantic/Canary":    "ES-CN",  // Canary Islands
	"Pacific/Kosrae":     "FM-KSA", // Kosrae
	"Pacific/Pohnpei":    "FM-PNI", // Pohnpei/Ponape
	"Europe/Belfast":     "GB-NIR", // link to Europe/London
	"Pacific/Tarawa":     "KI-G",   // Gilbert Islands
	"Pacific/Kanton":     "KI-P",   // Phoenix Islands
	"Pacific/Kiritimati": "KI-L",   // Line Islands

	// Mexico.
	"America/Cancun":         "MX-ROO", // Quintana Roo
	"America/Chihuahua":      "MX-CHH", // Chihuahua (most areas)
	"America/Ciudad_Juarez":  "MX-CHH", // Chihuahua (US border - west)
	"America/Ojinaga":        "MX-CHH", // Chihuahua (US border - east)
	"America/Bahia_Banderas": "MX-NAY", // Bahía de Banderas (Nayarit)
	"America/Hermosillo":     "MX-SON", // Sonora
	"America/Tijuana":        "MX-BCN", // Baja California

	"Pacific/Chatham":      "NZ-CIT", // Chatham Islands
	"Pacific/Bougainville": "PG-NSB", // Bougainville
	"Atlantic/Madeira":     "PT-30",  // Madeira Islands
	"Atlantic/Azores":      "PT-20",  // Azores

	// Russia: the zones whose comment names one federal subject.
	"Europe/Kaliningrad": "RU-KGD",
	"Europe/Kirov":       "RU-KIR",
	"Europe/Volgograd":   "RU-VGG",
	"Europe/Astrakhan":   "RU-AST",
	"Europe/Saratov":     "RU-SAR",
	"Europe/Ulyanovsk":   "RU-ULY",
	"Asia/Omsk":          "RU-OMS",
	"Asia/Novosibirsk":   "RU-NVS",
	"Asia/Tomsk":         "RU-TOM",
	"Asia/Novokuznetsk":  "RU-KEM", // Kemerovo
	"Asia/Chita":         "RU-ZAB", // Zabaykalsky
	"Asia/Khandyga":      "RU-SA",  // Tomponsky, Ust-Maysky (Sakha)
	"Asia/Ust-Nera":      "RU-SA",  // Oymyakonsky (Sakha)
	"Asia/Magadan":       "RU-MAG",
	"Asia/Sakhalin":      "RU-SAK", // Sakhalin Island
	"Asia/Kamchatka":     "RU-KAM",
	"Asia/Anadyr":        "RU-CHU", // Bering Sea (Chukotka)

	"Europe/Uzhgorod": "UA-21", // link to Europe/Kyiv; was Transcarpathia

	// United States.
	"America/Detroit":                "US-MI", // Eastern - MI (most areas)
	"America/Kentucky/Louisville":    "US-KY",
	"America/Kentucky/Monticello":    "US-KY",
	"America/Indiana/Indianapolis":   "US-IN",
	"America/Indiana/Vincennes":      "US-IN",
	"America/Indiana/Winamac":        "US-IN",
	"America/Indiana/Marengo":        "US-IN",
	"America/Indiana/Petersburg":     "US-IN",
	"America/Indiana/Vevay":          "US-IN",
	"America/Indiana/Tell_City":      "US-IN",
	"America/Indiana/Knox":           "US-IN",
	"America/Menominee":              "US-MI", // Central - MI (Wisconsin border)
	"America/North_Dakota/Center":    "US-ND",
	"America/North_Dakota/New_Salem": "US-ND",
	"America/North_Dakota/Beulah":    "US-ND",
	"America/Phoenix":                "US-AZ", // zone.tab: MST - AZ (except Navajo)
	"America/Anchorage":              "US-AK",
	"America/Juneau":                 "US-AK",
	"America/Sitka":                  "US-AK",
	"America/Metlakatla":             "US-AK",
	"America/Yakutat":                "US-AK",
	"America/Nome":                   "US-AK",
	"America/Adak":                   "US-AK",
	"Pacific/Honolulu":               "US-HI",
	"Pacific/Johnston":               "", // link to Honolulu, but Johnston Atoll is not Hawaii
}

// placeLinks maps link names that zone.tab does not list, and whose target
// is shared by several countries with the main one not theirs, to the
// zone.tab name of the place they are named for, as tzdb's backward file
// annotates them ("Link Africa/Nairobi Africa/Asmera #= Africa/Asmara").
// CLDR, and so Chromium, keeps some of them as its canonical names
// (Africa/Asmera, America/Coral_Harbour, Pacific/Ponape, Pacific/Truk), so
// the main country of the target would be wrong for everyone there. The place's country must be one the target
// covers; the generator checks it.
var placeLinks = map[string]string{
	"Africa/Asmera":         "Africa/Asmara",      // ER, not KE
	"Africa/Timbuktu":       "Africa/Bamako",      // ML, not CI
	"America/Coral_Harbour": "America/Atikokan",   // CA, not PA
	"America/Virgin":        "America/St_Thomas",  // VI, not PR
	"Antarctica/South_Pole": "Antarctica/McMurdo", // AQ, not NZ
	// tzdb annotates Europe/Oslo; ISO 3166-1 puts Jan Mayen in SJ.
	"Atlantic/Jan_Mayen": "Arctic/Longyearbyen", // SJ, not DE
	"Iceland":            "Atlantic/Reykjavik",  // IS, not CI
	"Pacific/Ponape":     "Pacific/Pohnpei",     // FM, not SB
	"Pacific/Truk":       "Pacific/Chuuk",       // FM, not PG
	"Pacific/Yap":        "Pacific/Chuuk",       // FM, not PG
}

// ruleNames are POSIX-style names for a set of rules rather than a place
// (newer tzdata links some of them to a city: EST5EDT → America/New_York):
// they tell nothing about the country.
var ruleNames = []string{"CET", "CST6CDT", "EET", "EST", "EST5EDT", "HST", "MET", "MST", "MST7MDT", "PST8PDT", "WET"}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen/tz: ")
	zoneinfo := flag.String("zoneinfo", "/usr/share/zoneinfo", "tzdata folder with zone.tab, zone1970.tab and tzdata.zi")
	regions := flag.String("regions", "regions.bin", "region table whose subdivision codes curated ones must use (skipped if absent)")
	iso := flag.String("iso", "/usr/share/iso-codes/json/iso_3166-2.json", "ISO 3166-2 list to check curated codes against (skipped if absent)")
	out := flag.String("o", "tz_table.go", `output file, "-" for standard output`)
	flag.Parse()

	src, stats, err := generate(*zoneinfo)
	if err != nil {
		log.Fatal(err)
	}
	if err := checkCodes(*regions, *iso); err != nil {
		log.Fatal(err)
	}
	if *out == "-" {
		_, err = os.Stdout.Write(src)
	} else {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, stats)
}

type entry struct {
	countries []string // main country first
	sub       string   // subdivision of countries[0], or ""
}

// generate returns the Go source of tz_table.go and a one-line summary.
func generate(dir string) ([]byte, string, error) {
	version, links, err := readZi(filepath.Join(dir, "tzdata.zi"))
	if err != nil {
		return nil, "", err
	}
	zone1970, err := readTab(filepath.Join(dir, "zone1970.tab"))
	if err != nil {
		return nil, "", err
	}
	zoneTab, err := readTab(filepath.Join(dir, "zone.tab"))
	if err != nil {
		return nil, "", err
	}
	for name, cc := range zoneTab {
		if len(cc) != 1 {
			return nil, "", fmt.Errorf("zone.tab: %s has %d countries, want 1", name, len(cc))
		}
	}

	entries := map[string]entry{}
	for name, cc := range zoneTab {
		sub, err := subdivisionOf(name, cc, "")
		if err != nil {
			return nil, "", err
		}
		entries[name] = entry{cc, sub}
	}
	for name, target := range links {
		if zoneTab[name] != nil || slices.Contains(ruleNames, name) {
			continue
		}
		// Follow links to links, should a tzdata.zi have any.
		for i := 0; i < 8 && zoneTab[target] == nil && links[target] != ""; i++ {
			target = links[target]
		}
		cc := zone1970[target]
		if cc == nil {
			cc = zoneTab[target]
		}
		if cc == nil {
			continue // Etc/UTC, Etc/GMT, Factory: no country
		}
		inherited := entries[target].sub
		if place, ok := placeLinks[name]; ok {
			pc := zoneTab[place]
			if pc == nil {
				return nil, "", fmt.Errorf("placeLinks: %s → %s, which zone.tab does not list", name, place)
			}
			if !slices.Contains(cc, pc[0]) {
				return nil, "", fmt.Errorf("placeLinks: %s → %s (%s), a country its target %s (%v) does not cover", name, place, pc[0], target, cc)
			}
			cc, inherited = pc, entries[place].sub
		}
		sub, err := subdivisionOf(name, cc, inherited)
		if err != nil {
			return nil, "", err
		}
		if _, own := subdivisions[name]; own && sub != "" {
			cc = []string{sub[:2]} // a link's own subdivision pins its country
		}
		entries[name] = entry{cc, sub}
	}
	for name := range placeLinks {
		if _, ok := entries[name]; !ok {
			return nil, "", fmt.Errorf("placeLinks: %s is not a link of tzdata.zi", name)
		}
	}
	for name := range subdivisions {
		if _, ok := entries[name]; !ok {
			return nil, "", fmt.Errorf("subdivisions: %s is not a name of zone.tab or tzdata.zi", name)
		}
	}

	records, names, err := encode(entries)
	if err != nil {
		return nil, "", err
	}
	table := strings.Join(records, "")
	withSub := 0
	for _, e := range entries {
		if e.sub != "" {
			withSub++
		}
	}
	stats := fmt.Sprintf("tzdata %s: %d names (%d in zone.tab), %d with a subdivision; table %d bytes",
		version, len(entries), len(zoneTab), withSub, len(table))
	src, err := source(version, records, names, withSub)
	return src, stats, err
}

// subdivisionOf returns name's curated subdivision, or inherited when it has
// none, after checking it belongs to one of the countries cc.
func subdivisionOf(name string, cc []string, inherited string) (string, error) {
	sub, ok := subdivisions[name]
	if !ok {
		sub = inherited
	}
	if sub == "" {
		return "", nil
	}
	if !codeRE.MatchString(sub) {
		return "", fmt.Errorf("subdivisions: %s → %q is not an ISO 3166-2 code", name, sub)
	}
	if !slices.Contains(cc, sub[:2]) {
		return "", fmt.Errorf("subdivisions: %s → %s, but the name's countries are %v", name, sub, cc)
	}
	return sub, nil
}

var codeRE = regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]{1,3}$`)

// readZi returns the version and the links (name → target) of tzdata.zi.
func readZi(path string) (string, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	version := ""
	links := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "# version "); ok && version == "" {
			version = strings.TrimSpace(v)
		}
		if f := strings.Fields(line); len(f) == 3 && f[0] == "L" {
			links[f[2]] = f[1]
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, err
	}
	if !regexp.MustCompile(`^[0-9]{4}[a-z]+$`).MatchString(version) {
		return "", nil, fmt.Errorf("%s: no \"# version YYYYx\" line", path)
	}
	if len(links) == 0 {
		return "", nil, fmt.Errorf("%s: no links", path)
	}
	return version, links, nil
}

// readTab returns the countries (comma-separated first column) of every
// zone of a zone.tab-format file.
func readTab(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("%s: bad line %q", path, line)
		}
		cc := strings.Split(f[0], ",")
		for _, c := range cc {
			if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
				return nil, fmt.Errorf("%s: bad country %q", path, c)
			}
		}
		if m[f[2]] != nil {
			return nil, fmt.Errorf("%s: %s listed twice", path, f[2])
		}
		m[f[2]] = cc
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: no zones", path)
	}
	return m, nil
}

// encode front-codes the sorted names and returns the table's
// records, in order, and their names. Each record is
//
//	prefix  one byte 'a'+n: the name shares its first n bytes with the previous name
//	suffix  the rest of the name
//	'='
//	data    main country, "-" and subdivision if any, then ",CC" for every
//	        other country the name is shared by
//
// Records follow each other with no separator: a data part never holds a
// lowercase letter, so the next record starts at the next one.
func encode(entries map[string]entry) (records, names []string, err error) {
	for name := range entries {
		names = append(names, name)
	}
	slices.Sort(names)
	prev := ""
	for _, name := range names {
		for _, c := range []byte(name) {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("/_-+", c) >= 0) {
				return nil, nil, fmt.Errorf("name %q has a byte the table cannot hold", name)
			}
		}
		n := 0
		for n < len(name) && n < len(prev) && name[n] == prev[n] {
			n++
		}
		if n > 'z'-'a' {
			return nil, nil, fmt.Errorf("%q shares %d bytes with %q; the table allows 25", name, n, prev)
		}
		e := entries[name]
		rec := string(rune('a'+n)) + name[n:] + "=" + e.countries[0]
		if e.sub != "" {
			rec += e.sub[2:]
		}
		for _, c := range e.countries[1:] {
			rec += "," + c
		}
		records = append(records, rec)
		prev = name
	}
	return records, names, nil
}

// source formats tz_table.go: the table as a constant, a line for every
// area (the part of the names before the first '/'), wrapped at ~72 bytes.
func source(version string, records, names []string, withSub int) ([]byte, error) {
	size := 0
	for _, r := range records {
		size += len(r)
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by \"go run ./gen/tz\"; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "// From tzdata %s (zone.tab, zone1970.tab and the links of tzdata.zi) and\n", version)
	b.WriteString("// the curated tables of gen/tz/main.go.\n\n")
	b.WriteString("package geo\n\n")
	b.WriteString("// tzVersion is the tzdata release tzTable was generated from.\n")
	fmt.Fprintf(&b, "const tzVersion = %q\n\n", version)
	fmt.Fprintf(&b, "// tzTable holds %d time zone names, %d of them with a subdivision, in\n", len(names), withSub)
	fmt.Fprintf(&b, "// %d bytes: front-coded records of the sorted names, each\n", size)
	b.WriteString("// 'a'+shared prefix length, rest of the name, '=', main country [\"-\"\n")
	b.WriteString("// subdivision] {\",\" other country}. See encode in gen/tz/main.go.\n")
	b.WriteString("const tzTable = \"\"")
	line, area := 0, "\x00"
	for i, r := range records {
		a, _, _ := strings.Cut(names[i], "/")
		if a != area || line+len(r) > 72 {
			if line > 0 {
				b.WriteString("\"")
			}
			b.WriteString(" +\n\t\"")
			line, area = 0, a
		}
		b.WriteString(r)
		line += len(r)
	}
	b.WriteString("\"\n")
	return format.Source(b.Bytes())
}

// checkCodes checks every curated subdivision against the ISO 3166-2 list
// (first level: no parent) and, for the countries regions.bin subdivides,
// against regions.bin's codes. A missing file skips its check.
func checkCodes(regionsPath, isoPath string) error {
	var errs []error
	if data, err := os.ReadFile(isoPath); err == nil {
		var iso struct {
			List []struct {
				Code   string `json:"code"`
				Parent string `json:"parent"`
			} `json:"3166-2"`
		}
		if err := json.Unmarshal(data, &iso); err != nil {
			return fmt.Errorf("%s: %v", isoPath, err)
		}
		first := map[string]bool{}
		for _, e := range iso.List {
			if e.Parent == "" {
				first[e.Code] = true
			}
		}
		for name, sub := range subdivisions {
			if sub != "" && !first[sub] {
				errs = append(errs, fmt.Errorf("subdivisions: %s → %s is not a first-level code of %s", name, sub, isoPath))
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if data, err := os.ReadFile(regionsPath); err == nil {
		codes, err := regionCodes(data)
		if err != nil {
			return fmt.Errorf("%s: %v", regionsPath, err)
		}
		for name, sub := range subdivisions {
			if sub == "" || codes[sub] {
				continue
			}
			for c := range codes {
				if len(c) > 2 && c[:2] == sub[:2] {
					errs = append(errs, fmt.Errorf("subdivisions: %s → %s, which %s does not use for %s", name, sub, regionsPath, sub[:2]))
					break
				}
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// regionCodes reads the code list of a regions.bin (see engine/geo/README.md).
func regionCodes(data []byte) (map[string]bool, error) {
	if len(data) < 8 || string(data[:4]) != "EWRG" {
		return nil, errors.New("not a region table")
	}
	n := int(binary.LittleEndian.Uint16(data[6:8]))
	codes := map[string]bool{}
	p := 8
	for range n {
		if p >= len(data) || p+1+int(data[p]) > len(data) {
			return nil, errors.New("truncated code list")
		}
		codes[string(data[p+1:p+1+int(data[p])])] = true
		p += 1 + int(data[p])
	}
	return codes, nil
}
