package geo

import (
	"bytes"
	"math"
	"testing"
)

func mustDefault(t testing.TB) *Table {
	t.Helper()
	tab, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return tab
}

func TestRegionsBinHeader(t *testing.T) {
	if len(regionsBin) < 8 || string(regionsBin[:4]) != Magic || regionsBin[4] != Version {
		t.Fatalf("regions.bin header = %q, want magic %q version %d", regionsBin[:min(8, len(regionsBin))], Magic, Version)
	}
	tab := mustDefault(t)
	if tab.CellsPerDegree() != 4 {
		t.Errorf("cells per degree = %d, want 4 (0.25° cells)", tab.CellsPerDegree())
	}
	if tab.Codes() < 400 {
		t.Errorf("codes = %d, want at least 400", tab.Codes())
	}
	if len(regionsBin) > 80<<10 {
		t.Errorf("regions.bin is %d bytes, budget is 80 KiB raw", len(regionsBin))
	}
}

// Fixtures pinned by city centre.
var cities = []struct {
	name     string
	lat, lon float64
	country  string
	subdiv   string // "" means the table has no subdivision for this country
}{
	{"Seattle", 47.6062, -122.3321, "US", "US-WA"},
	{"Portland OR", 45.5152, -122.6784, "US", "US-OR"},
	{"Denver", 39.7392, -104.9903, "US", "US-CO"},
	{"Washington DC", 38.9072, -77.0369, "US", "US-DC"},
	{"New York (Midtown)", 40.754, -73.984, "US", "US-NY"},
	{"Vancouver", 49.2827, -123.1207, "CA", "CA-BC"},
	{"Toronto", 43.6532, -79.3832, "CA", "CA-ON"},
	{"Montreal", 45.5019, -73.5674, "CA", "CA-QC"},
	{"Zurich", 47.3769, 8.5417, "CH", "CH-ZH"},
	{"Vienna", 48.2082, 16.3738, "AT", "AT-9"},
	{"Berlin", 52.5200, 13.4050, "DE", "DE-BE"},
	{"Oslo", 59.9139, 10.7522, "NO", ""},
	{"Stockholm", 59.3293, 18.0686, "SE", "SE-AB"},
	{"London", 51.5074, -0.1278, "GB", "GB-ENG"},
	{"Edinburgh", 55.9533, -3.1883, "GB", "GB-SCT"},
	{"Cardiff", 51.4816, -3.1791, "GB", "GB-WLS"},
	{"Belfast", 54.5973, -5.9301, "GB", "GB-NIR"},
	{"Dublin", 53.3498, -6.2603, "IE", "IE-L"},
	{"Madrid", 40.4168, -3.7038, "ES", "ES-MD"},
	{"Barcelona", 41.3874, 2.1686, "ES", "ES-CT"},
	{"Paris", 48.8566, 2.3522, "FR", "FR-IDF"},
	{"Milan", 45.4642, 9.1900, "IT", "IT-25"},
	{"Tokyo", 35.6762, 139.6503, "JP", "JP-13"},
	{"Sydney", -33.8688, 151.2093, "AU", "AU-NSW"},
	{"São Paulo", -23.5505, -46.6333, "BR", "BR-SP"},
	{"Nairobi", -1.2921, 36.8219, "KE", ""},
	{"Mexico City", 19.4326, -99.1332, "MX", "MX-CMX"},
	{"Saint-Denis, Réunion", -20.8821, 55.4504, "RE", ""},
	{"Simferopol", 44.9521, 34.1024, "UA", ""},
	// Known edge effect: the city of Moscow gets only the one cell holding most
	// of its (mostly south-western) area; the Kremlin cell is Moscow Oblast.
	{"Moscow", 55.7558, 37.6173, "RU", "RU-MOS"},
	{"Beijing", 39.9042, 116.4074, "CN", "CN-BJ"},
	{"Buenos Aires", -34.6037, -58.3816, "AR", "AR-C"},
	{"Singapore", 1.3521, 103.8198, "SG", ""},
	{"Basel", 47.56, 7.59, "CH", "CH-BS"},
	{"Geneva", 46.2, 6.14, "CH", "CH-GE"},
	{"Hamburg", 53.55, 9.99, "DE", "DE-HH"},
	{"Honolulu", 21.31, -157.86, "US", "US-HI"},
	{"Anchorage", 61.22, -149.9, "US", "US-AK"},
	{"Suva", -18.14, 178.44, "FJ", ""},
	{"Kyiv", 50.45, 30.52, "UA", ""},
	{"Liechtenstein", 47.14, 9.52, "LI", ""},
	// Known edge effect: Monaco is smaller than its cell's French share.
	{"Monaco", 43.7384, 7.4246, "FR", "FR-PAC"},
}

func TestCities(t *testing.T) {
	tab := mustDefault(t)
	for _, c := range cities {
		cc, sd, ok := tab.Lookup(c.lat, c.lon)
		if !ok || cc != c.country || sd != c.subdiv {
			t.Errorf("%s (%v,%v) = %q %q %v, want %q %q", c.name, c.lat, c.lon, cc, sd, ok, c.country, c.subdiv)
		}
	}
}

func TestOcean(t *testing.T) {
	tab := mustDefault(t)
	for _, p := range [][2]float64{
		{0, -30},    // mid Atlantic
		{30, -140},  // north Pacific
		{-40, 80},   // south Indian Ocean
		{0, 0},      // Gulf of Guinea
		{-55, -100}, // south Pacific
		{89.9, 0},   // Arctic Ocean
	} {
		if cc, sd, ok := tab.Lookup(p[0], p[1]); ok {
			t.Errorf("ocean %v = %q %q, want not ok", p, cc, sd)
		}
	}
}

func TestEdges(t *testing.T) {
	tab := mustDefault(t)
	// Must not panic; answers only need to be sane.
	for _, p := range [][2]float64{
		{90, 0}, {-90, 0}, {90, 180}, {-90, -180}, {0, 180}, {0, -180},
		{65, 180}, {65, -180}, {65, 179.999}, {-17, 179.9}, {-17, -179.9},
		{math.Nextafter(90, 0), math.Nextafter(180, 0)},
		{-math.Nextafter(90, 0), -math.Nextafter(180, 0)},
	} {
		cc, sd, ok := tab.Lookup(p[0], p[1])
		if ok && (len(cc) != 2 || (sd != "" && sd[:2] != cc)) {
			t.Errorf("%v = %q %q", p, cc, sd)
		}
	}
	if cc, _, ok := tab.Lookup(-89, 0); !ok || cc != "AQ" {
		t.Errorf("south pole plateau = %q %v, want AQ", cc, ok)
	}
	if cc, _, ok := tab.Lookup(65.5, 179.5); !ok || cc != "RU" {
		t.Errorf("Chukotka east of antimeridian = %q %v, want RU", cc, ok)
	}
	if cc, _, ok := tab.Lookup(65.5, -179.5); !ok || cc != "RU" {
		t.Errorf("Chukotka west of antimeridian = %q %v, want RU", cc, ok)
	}
}

func TestInvalid(t *testing.T) {
	tab := mustDefault(t)
	nan, inf := math.NaN(), math.Inf(1)
	for _, p := range [][2]float64{
		{nan, 0}, {0, nan}, {nan, nan}, {inf, 0}, {0, -inf},
		{90.0001, 0}, {-90.0001, 0}, {0, 180.0001}, {0, -180.0001},
		{1e300, 1e300}, {-1e300, 0},
	} {
		if cc, sd, ok := tab.Lookup(p[0], p[1]); ok || cc != "" || sd != "" {
			t.Errorf("invalid %v = %q %q %v, want not ok", p, cc, sd, ok)
		}
	}
	var nilTab *Table
	if _, _, ok := nilTab.Lookup(47, 8); ok {
		t.Error("nil table lookup ok")
	}
}

func TestDecodeRejects(t *testing.T) {
	good := []byte(regionsBin)
	mut := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(good))
	}
	cases := map[string][]byte{
		"empty":        nil,
		"magic":        mut(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":      mut(func(b []byte) []byte { b[4] = 2; return b }),
		"cpd zero":     mut(func(b []byte) []byte { b[5] = 0; return b }),
		"cpd huge":     mut(func(b []byte) []byte { b[5] = 200; return b }),
		"truncated":    good[:len(good)-1],
		"header only":  good[:8],
		"trailing":     append(bytes.Clone(good), 0),
		"bad code":     mut(func(b []byte) []byte { b[9] = 'a'; return b }),
		"code count":   mut(func(b []byte) []byte { b[6]++; return b }),
		"no code tail": mut(func(b []byte) []byte { b[6], b[7] = 0xff, 0xff; return b }),
	}
	for name, data := range cases {
		if _, err := Decode(data); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := Decode(good); err != nil {
		t.Fatalf("good: %v", err)
	}
}

// Every row must decode to exactly cols cells and every run must name a
// valid code; spot-check by sweeping the whole grid.
func TestSweep(t *testing.T) {
	tab := mustDefault(t)
	land := 0
	step := 1 / float64(tab.cpd)
	for lat := 90 - step/2; lat > -90; lat -= step {
		for lon := -180 + step/2; lon < 180; lon += step {
			if cc, sd, ok := tab.Lookup(lat, lon); ok {
				land++
				if len(cc) != 2 || (sd != "" && sd[:2] != cc) {
					t.Fatalf("(%v,%v) = %q %q", lat, lon, cc, sd)
				}
			}
		}
	}
	// Land is ~29% of the Earth's surface but more of a lat/lon grid.
	if land < 200000 || land > 500000 {
		t.Errorf("land cells = %d", land)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(regionsBin))
	f.Add([]byte("EWRG\x01\x01\x00\x00"))
	f.Add([]byte("EWRG\x01\x01\x01\x00\x02US"))
	// A minimal valid 1-cell-per-degree table: every row one empty run.
	small := []byte("EWRG\x01\x01\x01\x00\x02US")
	for r := 0; r < 180; r++ {
		small = append(small, 1) // 1 run per row
	}
	for r := 0; r < 180; r++ {
		small = append(small, 0) // code 0 (no region)
	}
	for r := 0; r < 180; r++ {
		small = append(small, 0xe7, 0x02) // len-1 = 359
	}
	f.Add(small)
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := Decode(data)
		if err != nil {
			return
		}
		for _, p := range [][2]float64{{0, 0}, {90, 180}, {-90, -180}, {47.6, -122.3}, {-33.9, 151.2}} {
			cc, sd, ok := tab.Lookup(p[0], p[1])
			if ok && (len(cc) != 2 || (sd != "" && sd[:2] != cc)) {
				t.Fatalf("%v = %q %q", p, cc, sd)
			}
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	tab := mustDefault(b)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		c := cities[i%len(cities)]
		if _, _, ok := tab.Lookup(c.lat, c.lon); ok {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no hits")
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(regionsBin)))
	for b.Loop() {
		if _, err := Decode([]byte(regionsBin)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeMinimal(t *testing.T) {
	// 1 cell per degree, one code, every row a single run: the northern half
	// empty, the southern half "US-WA".
	b := []byte("EWRG\x01\x01\x01\x00\x05US-WA")
	for r := 0; r < 180; r++ {
		b = append(b, 1)
	}
	for r := 0; r < 180; r++ {
		b = append(b, byte(r/90))
	}
	for r := 0; r < 180; r++ {
		b = append(b, 0xe7, 0x02)
	}
	tab, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := tab.Lookup(45, 10); ok {
		t.Error("north should be empty")
	}
	if cc, sd, ok := tab.Lookup(-45, 10); !ok || cc != "US" || sd != "US-WA" {
		t.Errorf("south = %q %q %v", cc, sd, ok)
	}
	// The first row count written as the non-minimal varint 0x81 0x00 is rejected.
	bad := append([]byte(nil), b[:14]...)
	bad = append(bad, 0x81, 0x00)
	bad = append(bad, b[15:]...)
	if _, err := Decode(bad); err == nil {
		t.Error("non-minimal varint accepted")
	}
}
