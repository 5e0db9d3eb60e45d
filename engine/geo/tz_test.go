package geo

import (
	"bufio"
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRegionOfTimeZone(t *testing.T) {
	for _, c := range []struct {
		zone      string
		languages []string
		country   string
		subdiv    string
		ok        bool
	}{
		{"Europe/Paris", nil, "FR", "", true},
		{"Asia/Kolkata", nil, "IN", "", true},
		{"Asia/Calcutta", nil, "IN", "", true}, // Chromium's name (CLDR keeps it)
		{"Asia/Tokyo", nil, "JP", "", true},
		{"America/New_York", nil, "US", "", true},
		{"America/Los_Angeles", nil, "US", "", true}, // CA, WA, OR, NV
		{"America/Boise", nil, "US", "", true},       // ID and part of OR
		{"Australia/Sydney", nil, "AU", "", true},    // NSW and the ACT
		{"Australia/Melbourne", nil, "AU", "AU-VIC", true},
		{"Australia/Brisbane", nil, "AU", "AU-QLD", true},
		{"Australia/Perth", nil, "AU", "AU-WA", true},
		{"Australia/Hobart", nil, "AU", "AU-TAS", true},
		{"Australia/Darwin", nil, "AU", "AU-NT", true},
		{"Australia/Adelaide", nil, "AU", "AU-SA", true},
		{"Pacific/Honolulu", nil, "US", "US-HI", true},
		{"America/Phoenix", nil, "US", "US-AZ", true},
		{"America/Indiana/Knox", nil, "US", "US-IN", true},
		{"America/Kentucky/Monticello", nil, "US", "US-KY", true},
		{"America/Detroit", nil, "US", "US-MI", true},
		{"Atlantic/Canary", nil, "ES", "ES-CN", true},
		{"Atlantic/Madeira", nil, "PT", "PT-30", true},
		{"Atlantic/Azores", nil, "PT", "PT-20", true},
		{"America/Vancouver", nil, "CA", "CA-BC", true},
		{"America/Toronto", nil, "CA", "", true}, // ON and QC
		{"America/Sao_Paulo", nil, "BR", "", true},
		{"America/Manaus", nil, "BR", "BR-AM", true},
		{"America/Tijuana", nil, "MX", "MX-BCN", true},
		{"Europe/Kaliningrad", nil, "RU", "RU-KGD", true},
		{"Europe/Moscow", nil, "RU", "", true},
		{"Asia/Urumqi", nil, "CN", "CN-XJ", true},

		// zone.tab's country wins over what tzdb links the name to now.
		{"Europe/Amsterdam", nil, "NL", "", true},
		{"Asia/Kuwait", nil, "KW", "", true},
		{"Europe/Copenhagen", nil, "DK", "", true},
		{"Europe/Vaduz", nil, "LI", "", true},
		{"Europe/Busingen", nil, "DE", "DE-BW", true},
		{"Europe/Simferopol", nil, "UA", "", true}, // zone1970.tab: RU,UA
		// and languages do not change it.
		{"Europe/Zurich", []string{"de-DE", "de-LI"}, "CH", "", true},
		{"Europe/Berlin", []string{"de-AT"}, "DE", "", true},

		// Backward link names.
		{"Asia/Saigon", nil, "VN", "", true},
		{"Europe/Kiev", nil, "UA", "", true},
		{"America/Buenos_Aires", nil, "AR", "", true},
		{"America/Mendoza", nil, "AR", "AR-M", true},
		{"Asia/Katmandu", nil, "NP", "", true},
		{"Asia/Rangoon", nil, "MM", "", true},
		{"US/Pacific", nil, "US", "", true},
		{"US/Hawaii", nil, "US", "US-HI", true},
		{"Australia/Victoria", nil, "AU", "AU-VIC", true},
		{"Australia/ACT", nil, "AU", "AU-ACT", true},
		{"America/Indianapolis", nil, "US", "US-IN", true},
		{"Canada/Pacific", nil, "CA", "CA-BC", true},
		{"Europe/Belfast", nil, "GB", "GB-NIR", true},
		{"Eire", nil, "IE", "", true},
		{"W-SU", nil, "RU", "", true},
		{"Pacific/Johnston", nil, "US", "", true}, // not Hawaii
		// Links named for a place of another country than their target's main one.
		{"Africa/Asmera", nil, "ER", "", true}, // → Africa/Nairobi (KE, …, ER, …)
		{"America/Coral_Harbour", nil, "CA", "", true},
		{"Pacific/Ponape", nil, "FM", "FM-PNI", true},
		{"Pacific/Truk", nil, "FM", "", true},
		{"Iceland", nil, "IS", "", true},
		{"Antarctica/South_Pole", nil, "AQ", "", true},
		// A link's own subdivision pins its country.
		{"America/Montreal", []string{"en-BS"}, "CA", "CA-QC", true},

		// Languages choose among the countries of a shared link name.
		{"GB", nil, "GB", "", true},
		{"GB", []string{"en-JE"}, "JE", "", true},
		{"GB", []string{"en-US", "en-IM", "en-JE"}, "IM", "", true},
		{"GB", []string{"en-GB", "en-JE"}, "GB", "", true},
		{"GB", []string{"fr-FR", "de"}, "GB", "", true},
		{"GB-Eire", []string{"en_gg"}, "GG", "", true},
		{"US/Arizona", nil, "US", "US-AZ", true},
		{"US/Arizona", []string{"en-CA"}, "CA", "", true}, // the subdivision is the main country's
		{"Canada/Eastern", []string{"en-bs"}, "BS", "", true},
		{"Singapore", []string{"zh-Hans-SG", "ms-MY"}, "SG", "", true},
		{"Singapore", []string{"es-419", "x-private", "ms-MY"}, "MY", "", true},

		// Names match exactly, as browsers report them.
		{"europe/paris", nil, "", "", false},
		{"Europe/Paris=FR", nil, "", "", false},

		// Nothing about a country, or unknown.
		{"Etc/UTC", nil, "", "", false},
		{"UTC", nil, "", "", false},
		{"Etc/GMT+3", nil, "", "", false},
		{"GMT", nil, "", "", false},
		{"Factory", nil, "", "", false},
		{"CET", nil, "", "", false},
		{"EST5EDT", nil, "", "", false},
		{"", nil, "", "", false},
		{"", []string{"fr-FR"}, "", "", false},
		{"Not/AZone", nil, "", "", false},
		{"Europe/Pari", nil, "", "", false},
		{"Europe/Pariss", nil, "", "", false},
		{"Europe/Paris/", nil, "", "", false},
		{"Europe", nil, "", "", false},
		{"Europe/", nil, "", "", false},
		{" Europe/Paris", nil, "", "", false},
		{"Zzz", nil, "", "", false},
	} {
		country, subdiv, ok := RegionOfTimeZone(c.zone, c.languages)
		if country != c.country || subdiv != c.subdiv || ok != c.ok {
			t.Errorf("RegionOfTimeZone(%q, %q) = %q, %q, %v; want %q, %q, %v",
				c.zone, c.languages, country, subdiv, ok, c.country, c.subdiv, c.ok)
		}
	}
}

func TestTagRegion(t *testing.T) {
	for tag, want := range map[string]string{
		"en-US": "US", "en_GB": "GB", "fr": "", "zh-Hant-TW": "TW", "zh-yue-HK": "HK",
		"sr-Latn-RS": "RS", "de-CH-1901": "CH", "es-419": "", "x-private": "", "i-klingon": "",
		"en-u-ca-gregory": "", "": "", "-": "", "en-": "", "en--US": "", "*": "", "US": "",
		"toolongtag-US": "", "en-US-x-foo": "US",
	} {
		if got := tagRegion(tag); got != want {
			t.Errorf("tagRegion(%q) = %q; want %q", tag, got, want)
		}
	}
}

// tzRecord is one decoded record of tzTable.
type tzRecord struct {
	name, data string
	prefix     int
}

// tzRecords decodes tzTable independently of tzFind and checks its form:
// names sorted, each prefix exactly the common prefix with the previous
// name.
func tzRecords(t *testing.T) []tzRecord {
	t.Helper()
	dataRE := regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?(,[A-Z]{2})*$`)
	var recs []tzRecord
	prev := ""
	for i := 0; i < len(tzTable); {
		p := int(tzTable[i]) - 'a'
		if p < 0 || p > 25 || p > len(prev) {
			t.Fatalf("record at %d: bad prefix byte %q", i, tzTable[i])
		}
		j := strings.IndexByte(tzTable[i:], '=')
		if j < 0 {
			t.Fatalf("record at %d: no '='", i)
		}
		j += i
		k := j + 1
		for k < len(tzTable) && !(tzTable[k] >= 'a' && tzTable[k] <= 'z') {
			k++
		}
		name := prev[:p] + tzTable[i+1:j]
		r := tzRecord{name, tzTable[j+1 : k], p}
		if !dataRE.MatchString(r.data) {
			t.Errorf("%s: bad data %q", name, r.data)
		}
		if name <= prev {
			t.Errorf("%q does not sort after %q", name, prev)
		}
		lcp := 0
		for lcp < len(prev) && lcp < len(name) && prev[lcp] == name[lcp] {
			lcp++
		}
		if lcp != p {
			t.Errorf("%s: prefix %d, want %d", name, p, lcp)
		}
		recs = append(recs, r)
		prev, i = name, k
	}
	if len(recs) < 500 {
		t.Errorf("tzTable has %d names, want over 500", len(recs))
	}
	return recs
}

// Every name of the table is found with its own data, and names one byte
// off or in another case are not.
func TestTimeZoneTableRoundTrip(t *testing.T) {
	recs := tzRecords(t)
	names := map[string]bool{}
	withSub := 0
	for _, r := range recs {
		names[r.name] = true
	}
	for _, r := range recs {
		if data := tzFind(r.name); data != r.data {
			t.Errorf("tzFind(%q) = %q; want %q", r.name, data, r.data)
		}
		country, subdiv, ok := RegionOfTimeZone(r.name, nil)
		if !ok || country != r.data[:2] || (subdiv != "" && !strings.HasPrefix(r.data, subdiv)) {
			t.Errorf("RegionOfTimeZone(%q) = %q, %q, %v; record %q", r.name, country, subdiv, ok, r.data)
		}
		if subdiv != "" {
			withSub++
		}
		for _, near := range []string{r.name[:len(r.name)-1], r.name + "x", r.name + "/", r.name + "=", "x" + r.name,
			strings.ToLower(r.name), strings.ToUpper(r.name)} {
			if data := tzFind(near); (data != "") != names[near] {
				t.Errorf("tzFind(%q) = %q", near, data)
			}
		}
	}
	t.Logf("%d names, %d with a subdivision, %d bytes", len(recs), withSub, len(tzTable))
}

// Every subdivision is "CC-X".."CC-XXX" of its record's main country and,
// for a country the region grid subdivides, one of the grid's codes, so it
// matches what Table.Lookup gives for a point there.
func TestTimeZoneSubdivisions(t *testing.T) {
	tab := mustDefault(t)
	gridCodes := map[string]bool{}
	gridSubdivided := map[string]bool{}
	for _, c := range tab.codes[1:] {
		gridCodes[c] = true
		if len(c) > 2 {
			gridSubdivided[c[:2]] = true
		}
	}
	codeRE := regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]{1,3}$`)
	for _, r := range tzRecords(t) {
		country, subdiv, _ := RegionOfTimeZone(r.name, nil)
		if subdiv == "" {
			continue
		}
		if !codeRE.MatchString(subdiv) || subdiv[:2] != country {
			t.Errorf("%s: subdivision %q of country %q", r.name, subdiv, country)
		}
		if gridSubdivided[country] && !gridCodes[subdiv] {
			t.Errorf("%s: subdivision %s is not one of the region grid's %s codes", r.name, subdiv, country)
		}
	}
}

func TestRegionOfTimeZoneAllocs(t *testing.T) {
	langs := []string{"en-US", "en-JE"}
	if n := testing.AllocsPerRun(100, func() {
		RegionOfTimeZone("GB", langs)
		RegionOfTimeZone("Australia/Melbourne", nil)
		RegionOfTimeZone("Not/AZone", langs)
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// Arbitrary strings, and real names cut and mutated, never panic and give
// well-formed answers.
func TestRegionOfTimeZoneArbitrary(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	recs := tzRecords(t)
	const alphabet = "aAzZ/_-+09=,EeUuRrOoPpAaIiSs\x00\xff é"
	for i := 0; i < 20000; i++ {
		var zone string
		switch i % 3 {
		case 0:
			b := make([]byte, rng.Intn(40))
			for j := range b {
				b[j] = alphabet[rng.Intn(len(alphabet))]
			}
			zone = string(b)
		case 1:
			b := []byte(recs[rng.Intn(len(recs))].name)
			for n := rng.Intn(3) + 1; n > 0 && len(b) > 0; n-- {
				b[rng.Intn(len(b))] = alphabet[rng.Intn(len(alphabet))]
			}
			zone = string(b)
		default:
			name := recs[rng.Intn(len(recs))].name
			zone = name[:rng.Intn(len(name)+1)]
		}
		lang := make([]byte, rng.Intn(12))
		for j := range lang {
			lang[j] = alphabet[rng.Intn(len(alphabet))]
		}
		checkRegion(t, zone, []string{string(lang), "en-GG"})
	}
}

func FuzzRegionOfTimeZone(f *testing.F) {
	for _, s := range []string{"Europe/Paris", "GB", "US/Arizona", "", "Etc/UTC", "a=b", "aAfrica/Abidjan=CI"} {
		f.Add(s, "en-JE")
	}
	f.Fuzz(func(t *testing.T, zone, lang string) {
		checkRegion(t, zone, []string{lang})
	})
}

func checkRegion(t *testing.T, zone string, languages []string) {
	t.Helper()
	country, subdiv, ok := RegionOfTimeZone(zone, languages)
	if !ok {
		if country != "" || subdiv != "" {
			t.Fatalf("RegionOfTimeZone(%q, %q) = %q, %q, false", zone, languages, country, subdiv)
		}
		return
	}
	if len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' ||
		subdiv != "" && !strings.HasPrefix(subdiv, country+"-") {
		t.Fatalf("RegionOfTimeZone(%q, %q) = %q, %q, true", zone, languages, country, subdiv)
	}
	if tzFind(zone) == "" {
		t.Fatalf("RegionOfTimeZone(%q) ok for a name tzFind does not know", zone)
	}
}

// zoneinfo is the tzdata tz_table.go is generated from (gen/tz's default).
const zoneinfo = "/usr/share/zoneinfo"

// tzdataHere skips unless this machine has the tzdata release tzTable was
// generated from: another release may add zones or move them, which is a
// reason to regenerate, not a failure of the code.
func tzdataHere(t *testing.T) {
	t.Helper()
	f, err := os.Open(filepath.Join(zoneinfo, "tzdata.zi"))
	if os.IsNotExist(err) {
		t.Skipf("no %s/tzdata.zi on this machine", zoneinfo)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	if v, _ := strings.CutPrefix(sc.Text(), "# version "); v != tzVersion {
		t.Skipf("this machine has tzdata %q, tz_table.go is from %s: run go generate ./engine/geo", v, tzVersion)
	}
}

// readZoneTab returns name → countries of a zone.tab-format file.
func readZoneTab(t *testing.T, file string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(zoneinfo, file))
	if os.IsNotExist(err) {
		t.Skipf("no %s/%s on this machine", zoneinfo, file)
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, "\t"); len(f) >= 3 && !strings.HasPrefix(line, "#") {
			m[f[2]] = strings.Split(f[0], ",")
		}
	}
	if len(m) < 300 {
		t.Fatalf("%s: %d zones", file, len(m))
	}
	return m
}

// Every zone of zone.tab resolves to its zone.tab country, whatever the
// languages; every zone of zone1970.tab to one of its countries.
func TestTimeZonesOfZoneTab(t *testing.T) {
	zoneTab := readZoneTab(t, "zone.tab")
	tzdataHere(t)
	for name, cc := range zoneTab {
		for _, langs := range [][]string{nil, {"en-US", "fr-FR", "de-DE", "en-GB", "es-MX", "pt-BR", "ru-RU"}} {
			country, _, ok := RegionOfTimeZone(name, langs)
			if !ok || country != cc[0] {
				t.Errorf("RegionOfTimeZone(%q, %q) = %q, %v; zone.tab says %s", name, langs, country, ok, cc[0])
			}
		}
	}
	for name, cc := range readZoneTab(t, "zone1970.tab") {
		if country, _, ok := RegionOfTimeZone(name, nil); !ok || !slices.Contains(cc, country) {
			t.Errorf("RegionOfTimeZone(%q) = %q, %v; zone1970.tab says %v", name, country, ok, cc)
		}
	}
}

// Every link name of tzdata.zi resolves, to one of its target's countries,
// unless the target is no country's (Etc/UTC) or the name a rule name.
func TestTimeZoneLinks(t *testing.T) {
	zoneTab := readZoneTab(t, "zone.tab")
	zone1970 := readZoneTab(t, "zone1970.tab")
	tzdataHere(t)
	data, err := os.ReadFile(filepath.Join(zoneinfo, "tzdata.zi"))
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "L" {
			continue
		}
		target, name := f[1], f[2]
		links++
		country, _, ok := RegionOfTimeZone(name, nil)
		want := zone1970[target]
		if want == nil {
			want = zoneTab[target]
		}
		if cc := zoneTab[name]; cc != nil {
			want = cc
		}
		switch {
		case want == nil || slices.Contains([]string{"CET", "CST6CDT", "EET", "EST", "EST5EDT", "HST", "MET", "MST", "MST7MDT", "PST8PDT", "WET"}, name):
			if ok {
				t.Errorf("RegionOfTimeZone(%q) = %q, true; want not ok (link to %s)", name, country, target)
			}
		case !ok || !slices.Contains(want, country):
			t.Errorf("RegionOfTimeZone(%q) = %q, %v; want one of %v (link to %s)", name, country, ok, want, target)
		}
	}
	if links < 100 {
		t.Errorf("tzdata.zi has %d links", links)
	}
}

// TestTimeZoneTableIsGenerated: tz_table.go is what gen/tz makes of this
// machine's tzdata now.
func TestTimeZoneTableIsGenerated(t *testing.T) {
	tzdataHere(t)
	if testing.Short() {
		t.Skip("runs the generator")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out := filepath.Join(t.TempDir(), "tz_table.go")
	cmd := exec.Command(goTool, "run", "./gen/tz", "-zoneinfo", zoneinfo, "-o", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./gen/tz: %v\n%s", err, stderr.Bytes())
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("tz_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("tz_table.go is not what gen/tz makes of this machine's tzdata: run go generate ./engine/geo")
	}
}

func BenchmarkRegionOfTimeZone(b *testing.B) {
	langs := []string{"en-US"}
	for _, zone := range []string{"Africa/Abidjan", "Europe/Paris", "W-SU", "Not/AZone"} {
		b.Run(zone, func(b *testing.B) {
			for b.Loop() {
				RegionOfTimeZone(zone, langs)
			}
		})
	}
}
