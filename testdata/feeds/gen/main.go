// Command gen writes examples/weather/open-meteo-world.json.gz: a synthetic
// but realistic Open-Meteo forecast API response for the centre of every
// geohash-3 cell on land, as the API returns it for a request listing many
// coordinates (a JSON array, one object per location, current conditions at
// 2026-12-04T12:00 GMT).
//
// Run it from the repository root:
//
//	go run ./testdata/feeds/gen
//
// It is deterministic: no clock, no random source but a fixed seed, a
// gzip header without name or time, so it rewrites the file byte for byte
// (given the same engine/geo table and Go's compress/flate). It prints
// statistics (cells, sizes, categories, France's rain share, Tokyo, a few
// cities) on stderr; -map lat0,lat1,lon0,lon1 also draws the categories of
// a region, and -coords n prints the cells' coordinates as request bodies of
// n locations, for fetching real weather (see ../README.md).
//
// The weather is made up, since the machine that made the fixture has no
// network, but made to look like a real December day: temperatures from a
// climatology by latitude (northern winter, southern summer), colder inland
// in the north and hotter inland in the south, a diurnal cycle by local
// solar time (12:00 GMT is afternoon in Africa, evening in East Asia,
// morning in the Americas), a lapse rate of 6.5 °C/km over a rough relief;
// skies and precipitation from smooth value noise on the sphere (systems a
// few hundred to a thousand km across), modulated by where it is wet or dry
// in December (deserts, the southern wet season, storm tracks); WMO codes as
// Open-Meteo documents them. Two features are placed on purpose, for tests
// and demos: a rain front over northern and western France, Paris included,
// and a winter high over the Pacific side of Japan that keeps Tokyo clear
// while the Sea of Japan side gets rain, and snow where it is cold enough.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/geo"
	"github.com/edgewise/edgewise/internal/feedsrc"
)

const (
	seed        = 20261204
	obsTime     = "2026-12-04T12:00"
	obsHourUTC  = 12.0
	earthKm     = 6371.0088
	kmPerDegree = earthKm * math.Pi / 180
)

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// cell is one geohash-3 cell that has land.
type cell struct {
	hash             string
	lat, lon         float64 // centre
	centreCountry    string  // "" when the centre is at sea
	tempC            float64 // rounded to 0.1 as written
	code             int
	elevation        float64
	generationTimeMs float64
}

func main() {
	out := flag.String("o", "examples/weather/open-meteo-world.json.gz", "output file")
	box := flag.String("map", "", "also print a map of the categories over `lat0,lat1,lon0,lon1`, one letter a cell")
	coords := flag.Int("coords", 0, "print the land cells' centres instead, as request bodies of `n` coordinates a line (latitude=..&longitude=..), and write nothing")
	flag.Parse()
	log.SetFlags(0)
	tab, err := geo.Default()
	if err != nil {
		log.Fatal(err)
	}
	w := &world{tab: tab}
	var cells []cell
	for i := 0; i < 32*32*32; i++ {
		h := string([]byte{geohashAlphabet[i>>10], geohashAlphabet[i>>5&31], geohashAlphabet[i&31]})
		latLo, latHi, lonLo, lonHi := geohashBounds(h)
		land := false
		for a := 0; a < 3 && !land; a++ {
			for b := 0; b < 3 && !land; b++ {
				lat := latLo + (latHi-latLo)*(float64(a)+0.5)/3
				lon := lonLo + (lonHi-lonLo)*(float64(b)+0.5)/3
				_, _, land = tab.Lookup(lat, lon)
			}
		}
		if !land {
			continue
		}
		c := cell{hash: h, lat: (latLo + latHi) / 2, lon: (lonLo + lonHi) / 2}
		if cc, _, ok := tab.Lookup(c.lat, c.lon); ok {
			c.centreCountry = cc
		}
		if *coords > 0 {
			cells = append(cells, c)
			continue
		}
		w.weather(&c)
		c.generationTimeMs = float64(800+hash64(seed, int64(i), 7, 7)%3200) / 65536
		cells = append(cells, c)
	}

	if *coords > 0 {
		printCoords(cells, *coords)
		return
	}

	var js bytes.Buffer
	js.WriteByte('[')
	for i, c := range cells {
		if i > 0 {
			js.WriteByte(',')
		}
		writeLocation(&js, c)
	}
	js.WriteByte(']')

	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	// The zero Header: no name, no comment, modification time 0.
	if _, err := zw.Write(js.Bytes()); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, gz.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	report(cells, js.Len(), gz.Len(), *out)
	if *box != "" {
		printMap(cells, *box)
	}
}

// writeLocation writes one location as the API does (field order, compact,
// elevation with one decimal).
func writeLocation(b *bytes.Buffer, c cell) {
	fmt.Fprintf(b, `{"latitude":%s,"longitude":%s,"generationtime_ms":%s,"utc_offset_seconds":0,"timezone":"GMT","timezone_abbreviation":"GMT","elevation":%s,`,
		apiCoord(c.lat), apiCoord(c.lon), strconv.FormatFloat(c.generationTimeMs, 'g', -1, 64), strconv.FormatFloat(c.elevation, 'f', 1, 64))
	fmt.Fprintf(b, `"current_units":{"time":"iso8601","interval":"seconds","temperature_2m":"°C","weather_code":"wmo code"},"current":{"time":"%s","interval":900,"temperature_2m":%s,"weather_code":%d}}`,
		obsTime, strconv.FormatFloat(c.tempC, 'f', 1, 64), c.code)
}

// apiCoord writes a coordinate as the API does after snapping it to its
// grid: here rounded to 2 decimals, printed as the float32 the API uses.
func apiCoord(x float64) string {
	r := math.Round(x*100) / 100
	if r == 0 {
		r = 0
	}
	return strconv.FormatFloat(float64(float32(r)), 'g', -1, 32)
}

func geohashBounds(h string) (latLo, latHi, lonLo, lonHi float64) {
	latLo, latHi, lonLo, lonHi = -90, 90, -180, 180
	even := true
	for i := 0; i < len(h); i++ {
		v := bytes.IndexByte([]byte(geohashAlphabet), h[i])
		for bit := 4; bit >= 0; bit-- {
			one := v>>bit&1 == 1
			if even {
				mid := (lonLo + lonHi) / 2
				if one {
					lonLo = mid
				} else {
					lonHi = mid
				}
			} else {
				mid := (latLo + latHi) / 2
				if one {
					latLo = mid
				} else {
					latHi = mid
				}
			}
			even = !even
		}
	}
	return
}

// ---- the weather model ----

type world struct{ tab *geo.Table }

func (w *world) land(lat, lon float64) bool {
	lon = wrapLon(lon)
	if lat > 90 || lat < -90 {
		return false
	}
	_, _, ok := w.tab.Lookup(lat, lon)
	return ok
}

func wrapLon(lon float64) float64 {
	for lon < -180 {
		lon += 360
	}
	for lon >= 180 {
		lon -= 360
	}
	return lon
}

// landFraction is the share of land in a 7×7 grid over ±half degrees.
func (w *world) landFraction(lat, lon, half float64) float64 {
	n, l := 0, 0
	for a := -3; a <= 3; a++ {
		for b := -3; b <= 3; b++ {
			n++
			if w.land(lat+half*float64(a)/3, lon+half*float64(b)/3) {
				l++
			}
		}
	}
	return float64(l) / float64(n)
}

// westFetchKm is how far one goes west over land, along the parallel,
// before reaching open water at least 3° wide: how far the westerlies have
// come over land, a measure of continentality.
func (w *world) westFetchKm(lat, lon float64) float64 {
	const step = 0.25
	water := 0
	for i := 0; i < 360/step; i++ {
		if w.land(lat, lon-float64(i)*step) {
			water = 0
			continue
		}
		if water++; water == 12 {
			return float64(i-11) * step * kmPerDegree * math.Cos(lat*math.Pi/180)
		}
	}
	return 20000
}

// weather fills in c's temperature, code and elevation.
func (w *world) weather(c *cell) {
	lat, lon := c.lat, c.lon
	p := unit(lat, lon)
	centreLand := c.centreCountry != ""

	elev := 0.0
	if centreLand {
		elev = elevation(lat, lon, p)
	}
	c.elevation = math.Round(elev)

	landLocal := w.landFraction(lat, lon, 1.5)
	wet := wetness(lat, lon)
	dry := clamp(-wet, 0, 1)

	// Clouds and precipitation: smooth noise plus climate plus the two
	// placed systems.

	cloudN := fbm(seed+1, p, 1100, 4)
	precN := fbm(seed+2, p, 700, 4)
	convN := fbm(seed+3, p, 350, 3)
	fogN := fbm(seed+4, p, 250, 2)

	front, frontCold := franceFront(lat, lon)
	high := gauss(lat, lon, 34.5, 141.5, 250)
	japanSea := japanSeaBand(lat, lon)

	cloud := 0.9*cloudN + 0.8*wet + 1.2*front - 1.6*high + 1.2*japanSea
	prec := 0.75*precN + 0.45*cloudN + 0.8*wet - 0.42 + 1.6*front - 2.5*high + 1.6*japanSea
	cloudiness := clamp(0.5+cloud, 0, 1)

	// Temperature.
	t := climatology(lat)
	if lat > 15 {
		k := interp(lat, []float64{15, 30, 40, 50, 60, 70, 80, 90}, []float64{0, 4, 8, 14, 26, 24, 12, 8})
		t -= k * (1 - math.Exp(-w.westFetchKm(lat, lon)/3000))
		// Regional departures: Russia's early winter, the winter monsoon
		// over East Asia, Korea and Japan, a cold eastern North America,
		// Greenland's ice sheet.
		t -= 5 * gauss(lat, lon, 58, 50, 1200)
		t -= 7 * gauss(lat, lon, 42, 118, 1300)
		t -= 4 * gauss(lat, lon, 38, 127, 500)
		t -= 2.5 * gauss(lat, lon, 37, 138, 500)
		t -= 8 * gauss(lat, lon, 43.5, 142.5, 300)
		t -= 3 * gauss(lat, lon, 44, -78, 900)
		t -= 8 * gauss(lat, lon, 73, -40, 700)
	}
	if lat < -8 && lat > -40 {
		t += 16 * (landLocal - 0.5) * gaussLat(lat, -24, 10) * (0.3 + 0.7*dry)
	}
	if landLocal < 0.6 {
		t += 2.5 * (0.6 - landLocal) / 0.6 // the sea tempers coasts
	}
	hour := math.Mod(obsHourUTC+lon/15+48, 24)
	amp := (2.5 + 7.5*dry) * (1 - 0.6*cloudiness) * (0.4 + 0.6*landLocal) * math.Pow(math.Cos(lat*math.Pi/180), 2)
	t += amp * math.Cos(2*math.Pi*(hour-14.5)/24)
	t -= 6.5 * elev / 1000
	t += 3 * fbm(seed+5, p, 1500, 3)

	t -= 1.5 * front * frontCold // fresher air behind the front
	t = math.Round(t*10) / 10
	if t == 0 {
		t = 0 // no "-0.0"
	}
	c.tempC = t

	c.code = skyCode(t, cloud, prec, convN, fogN, lat, front, frontCold, japanSea)
}

// skyCode picks the WMO code.
func skyCode(t, cloud, prec, convN, fogN, lat, front, frontCold, japanSea float64) int {
	if prec > 0 {
		switch {
		case front > 0.3 && t > 1.5:
			// The placed front: steady rain along it, showers behind it.
			switch {
			case frontCold > 0.5 && front < 0.75:
				return 80
			case front > 0.7 || prec > 0.6:
				return 63
			default:
				return 61
			}
		case t <= 1:
			switch {
			case t > -3 && convN > 0.55 && prec < 0.15:
				return pick(prec < 0.07, 66, 67) // freezing rain
			case t > -3 && convN < -0.6 && prec < 0.1:
				return pick(prec < 0.05, 56, 57) // freezing drizzle
			case convN > 0.1 || japanSea > 0.3:
				return pick(prec < 0.3, 85, 86)
			case t < -12 && prec < 0.06:
				return 77 // snow grains
			case prec < 0.12:
				return 71
			case prec < 0.35:
				return 73
			default:
				return 75
			}
		case t >= 22 && convN > 0.15:
			switch {
			case prec > 0.45 && convN > 0.55:
				return pick(convN > 0.8, 99, 96)
			case prec > 0.25:
				return 95
			default:
				return pick(prec < 0.12, 80, 81)
			}
		case t >= 22:
			return pick(prec < 0.2, 80, pick(prec < 0.45, 81, 82))
		case convN > 0.4:
			return pick(prec < 0.2, 80, 81)
		case prec < 0.06 && cloud > 0.3:
			return pick(prec < 0.03, 51, pick(prec < 0.045, 53, 55))
		case prec < 0.15:
			return 61
		case prec < 0.4:
			return 63
		default:
			return 65
		}
	}
	absLat := math.Abs(lat)
	if fogN > 0.45 && cloud > -0.3 && cloud < 0.5 && absLat > 25 && absLat < 65 && t < 12 {
		return pick(t < -1, 48, 45)
	}
	switch {
	case cloud > 0.35:
		return 3
	case cloud > 0.05:
		return 2
	case cloud > -0.3:
		return 1
	}
	return 0
}

func pick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

// climatology is a sea-level, maritime daily-mean temperature for early
// December by latitude.
func climatology(lat float64) float64 {
	return interp(lat,
		[]float64{-90, -80, -70, -60, -50, -40, -35, -30, -20, -10, 0, 10, 20, 30, 40, 45, 50, 55, 60, 65, 70, 80, 90},
		[]float64{-10, -9, -3, 2.5, 9, 16, 19.5, 22, 25, 26.5, 27, 26.5, 24, 19, 15, 12, 10, 7.5, 4.5, 1, -4, -17, -24})
}

// wetness is how wet early December is, about -1 (desert) to +0.5.
func wetness(lat, lon float64) float64 {
	v := interp(lat,
		[]float64{-90, -70, -60, -50, -40, -30, -22, -15, -8, 0, 8, 15, 25, 32, 40, 50, 60, 75, 90},
		[]float64{-0.4, -0.2, 0.1, 0.25, 0.05, -0.15, -0.05, 0.2, 0.3, 0.25, -0.05, -0.3, -0.35, -0.15, 0.1, 0.2, 0.15, -0.1, -0.3})
	deserts := [][4]float64{ // lat0, lat1, lon0, lon1
		{15, 32, -17, 35},    // Sahara
		{14, 32, 35, 60},     // Arabia
		{24, 36, 55, 75},     // Iran, Pakistan, Thar
		{36, 46, 75, 112},    // Taklamakan, Gobi
		{-32, -18, 115, 145}, // Australian interior
		{-28, -17, 12, 27},   // Namib, Kalahari
		{-30, -15, -72, -68}, // Atacama
		{25, 37, -117, -105}, // Sonora, Mojave
		{36, 48, 50, 70},     // Central Asian steppes
	}
	for _, d := range deserts {
		v -= 0.8 * softBox(lat, lon, d)
	}
	wetTropics := [][4]float64{
		{-20, 3, -75, -40},   // Amazon, Brazil's wet season
		{-20, 4, 12, 40},     // southern Africa's rains
		{-10, 6, 95, 150},    // Maritime Continent
		{-18, -10, 125, 145}, // northern Australia's wet season
	}
	for _, d := range wetTropics {
		v += 0.25 * softBox(lat, lon, d)
	}
	v -= 0.35 * softBox(lat, lon, [4]float64{8, 30, 68, 90})  // India's dry season
	v -= 0.3 * softBox(lat, lon, [4]float64{12, 26, 95, 110}) // mainland South-East Asia
	v += 0.3 * softBox(lat, lon, [4]float64{40, 60, -132, -120})
	return v
}

// franceFront is the placed rain front over northern and western France:
// its weight (1 on the front's axis) and how far it is on the cold,
// north-western side (0 ahead of it, 1 well behind it).
func franceFront(lat, lon float64) (weight, cold float64) {
	// The axis runs from off Galicia over Nantes and Paris to Belgium and
	// on to the North Sea.
	axis := [][2]float64{{41.5, -10}, {47, -1}, {49, 2.8}, {52, 6}, {56, 8}}
	best, side := math.Inf(1), 0.0
	for i := 0; i+1 < len(axis); i++ {
		d, s := segmentDistanceKm(lat, lon, axis[i], axis[i+1])
		if d < best {
			best, side = d, s
		}
	}
	weight = math.Exp(-best * best / (2 * 220 * 220))
	if side > 0 { // north-west of the axis
		cold = clamp(best/300, 0, 1)
	}
	return weight, cold
}

// japanSeaBand is the snow band of the winter monsoon on the Sea of Japan
// side of Honshu and Hokkaido.
func japanSeaBand(lat, lon float64) float64 {
	d, _ := segmentDistanceKm(lat, lon, [2]float64{37.0, 137.0}, [2]float64{44.5, 142.0})
	return math.Exp(-d * d / (2 * 130 * 130))
}

// segmentDistanceKm is the distance from (lat, lon) to the segment a-b on
// a local flat projection, and which side of it the point is (+1 left,
// looking from a to b).
func segmentDistanceKm(lat, lon float64, a, b [2]float64) (float64, float64) {
	k := math.Cos(lat * math.Pi / 180)
	px, py := (lon-a[1])*k*kmPerDegree, (lat-a[0])*kmPerDegree
	bx, by := (b[1]-a[1])*k*kmPerDegree, (b[0]-a[0])*kmPerDegree
	t := clamp((px*bx+py*by)/(bx*bx+by*by), 0, 1)
	dx, dy := px-t*bx, py-t*by
	side := 1.0
	if bx*py-by*px < 0 {
		side = -1
	}
	return math.Hypot(dx, dy), side
}

// elevation is a rough relief in metres: the main highlands as Gaussian
// bumps over a gently noisy lowland.
func elevation(lat, lon float64, p [3]float64) float64 {
	type bump struct{ lat, lon, h, sigmaKm float64 }
	bumps := []bump{
		{33, 86, 4500, 600}, {31, 95, 4000, 450}, {28.5, 84, 3500, 250}, // Tibet, Himalaya
		{39.5, 73, 3000, 350}, {42, 80, 2500, 300}, // Pamir, Tian Shan
		{47, 101, 1500, 500}, {51, 92, 1200, 400}, // Mongolia, Altai
		{-45, -71.5, 1200, 150}, {-33, -70, 3000, 150}, {-23, -67.5, 3800, 250}, {-16.5, -68.8, 3900, 250},
		{-10, -76, 3200, 200}, {-2, -78.5, 2800, 150}, {5, -75, 2200, 200}, // Andes
		{45, -111, 2000, 450}, {39, -106.5, 2200, 300}, {55, -122, 1100, 350}, {38.5, -116.5, 1500, 300}, // Rockies, Basin
		{24, -102.5, 1700, 400}, {19.3, -99, 1300, 150}, // Mexican plateau
		{46.4, 9.5, 1700, 160}, {42.7, 0.5, 1200, 100}, {45.2, 2.8, 800, 120}, // Alps, Pyrenees, Massif Central
		{9, 38.8, 2300, 350}, {-1.5, 36.5, 1500, 500}, {-13, 33, 1100, 600}, {-27, 27, 1300, 650}, // Africa's highlands
		{33, 54, 1200, 650}, {39, 36, 1100, 450}, {40, 44.5, 1600, 250}, {34.5, 67, 2500, 350}, // Iran, Anatolia, Armenia, Hindu Kush
		{62.5, 9.5, 800, 200}, {64, 15, 500, 250}, // Scandinavian mountains
		{73, -40, 2500, 650}, {66, -43, 2000, 400}, // Greenland
		{62, 130, 400, 700}, {65, 160, 800, 500}, // East Siberia
		{-33, 148.5, 700, 250}, {-36.3, 148.3, 1100, 120}, // Great Dividing Range
		{-43.5, 170.5, 1400, 120}, {36.3, 137.6, 1200, 90}, {24, 121, 1500, 90}, // NZ, Japan, Taiwan
		{15, 77, 500, 500}, {19, 76, 550, 350}, // Deccan
		{-20, -46, 900, 600}, {-22.5, 17, 1500, 300}, // Brazilian Highlands, Namibia
		{-24, 133, 500, 700}, {24, 45, 700, 600}, // Australia's interior, Najd
	}
	h := 100 + 80*fbm(seed+6, p, 400, 3)
	for _, b := range bumps {
		// A flat-topped bump, exp(-(d/σ)⁴/2): plateaus with edges.
		d := greatCircleKm(lat, lon, b.lat, b.lon) / b.sigmaKm
		h += b.h * math.Exp(-d*d*d*d/2)
	}
	if lat < -64 { // Antarctica's ice sheets
		h += 3000 * smoothstep(clamp((-lat-66)/16, 0, 1))
	}
	return math.Max(h, 2)
}

// ---- helpers ----

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func smoothstep(t float64) float64 { return t * t * (3 - 2*t) }

func interp(x float64, xs, ys []float64) float64 {
	if x <= xs[0] {
		return ys[0]
	}
	for i := 1; i < len(xs); i++ {
		if x <= xs[i] {
			f := (x - xs[i-1]) / (xs[i] - xs[i-1])
			return ys[i-1] + f*(ys[i]-ys[i-1])
		}
	}
	return ys[len(ys)-1]
}

func gaussLat(lat, mean, sigma float64) float64 {
	d := (lat - mean) / sigma
	return math.Exp(-d * d / 2)
}

// gauss is a Gaussian of the great-circle distance to (lat0, lon0).
func gauss(lat, lon, lat0, lon0, sigmaKm float64) float64 {
	d := greatCircleKm(lat, lon, lat0, lon0)
	return math.Exp(-d * d / (2 * sigmaKm * sigmaKm))
}

func greatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(a)))
}

// softBox is about 1 inside a lat/lon box and falls to 0 over ~3° outside.
func softBox(lat, lon float64, b [4]float64) float64 {
	s := func(x float64) float64 { return 1 / (1 + math.Exp(-x/1.2)) }
	return s(lat-b[0]) * s(b[1]-lat) * s(lon-b[2]) * s(b[3]-lon)
}

func unit(lat, lon float64) [3]float64 {
	φ, λ := lat*math.Pi/180, lon*math.Pi/180
	return [3]float64{math.Cos(φ) * math.Cos(λ), math.Cos(φ) * math.Sin(λ), math.Sin(φ)}
}

// fbm is fractal value noise on the sphere: octaves of 3-D value noise
// whose lattice spacing starts at featureKm, scaled to about [-1, 1].
func fbm(s uint64, p [3]float64, featureKm float64, octaves int) float64 {
	sum, norm, amp, f := 0.0, 0.0, 1.0, earthKm/featureKm
	for o := 0; o < octaves; o++ {
		sum += amp * valueNoise(s+uint64(o)*0x9E37, p[0]*f, p[1]*f, p[2]*f)
		norm += amp
		amp *= 0.5
		f *= 2
	}
	return clamp(2.2*sum/norm, -1, 1)
}

// valueNoise interpolates hashed lattice values in [-1, 1], smoothly.
func valueNoise(s uint64, x, y, z float64) float64 {
	x0, y0, z0 := math.Floor(x), math.Floor(y), math.Floor(z)
	fx, fy, fz := smoothstep(x-x0), smoothstep(y-y0), smoothstep(z-z0)
	ix, iy, iz := int64(x0), int64(y0), int64(z0)
	v := func(dx, dy, dz int64) float64 {
		return float64(hash64(s, ix+dx, iy+dy, iz+dz)>>11)/(1<<52) - 1
	}
	lerp := func(a, b, t float64) float64 { return a + (b-a)*t }
	return lerp(
		lerp(lerp(v(0, 0, 0), v(1, 0, 0), fx), lerp(v(0, 1, 0), v(1, 1, 0), fx), fy),
		lerp(lerp(v(0, 0, 1), v(1, 0, 1), fx), lerp(v(0, 1, 1), v(1, 1, 1), fx), fy),
		fz)
}

// hash64 mixes a seed and lattice coordinates (splitmix64's finaliser).
func hash64(s uint64, x, y, z int64) uint64 {
	h := s ^ uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F ^ uint64(z)*0x165667B19E3779F9
	h ^= h >> 30
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 27
	h *= 0x94D049BB133111EB
	h ^= h >> 31
	return h
}

// ---- statistics ----

func report(cells []cell, raw, gz int, out string) {
	counts := map[string]int{}
	codes := map[int]int{}
	centreLand := 0
	frCells, frRain := 0, 0
	var tokyo *cell
	for i := range cells {
		c := &cells[i]
		cat, err := feedsrc.WeatherCategory(c.code, c.tempC)
		if err != nil {
			log.Fatalf("%s: %v", c.hash, err)
		}
		counts[cat]++
		codes[c.code]++
		if c.centreCountry != "" {
			centreLand++
		}
		if c.centreCountry == "FR" {
			frCells++
			if cat == feedsrc.Rain {
				frRain++
			}
		}
		if c.hash == "xn7" {
			tokyo = c
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %d land cells (%d with the centre on land), %d bytes JSON, %d bytes gzip\n", out, len(cells), centreLand, raw, gz)
	fmt.Fprintf(os.Stderr, "categories:")
	for _, k := range feedsrc.WeatherCategories() {
		fmt.Fprintf(os.Stderr, " %s %d (%.1f%%)", k, counts[k], 100*float64(counts[k])/float64(len(cells)))
	}
	fmt.Fprintln(os.Stderr)
	var ks []int
	for k := range codes {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	fmt.Fprintf(os.Stderr, "codes:")
	for _, k := range ks {
		fmt.Fprintf(os.Stderr, " %d:%d", k, codes[k])
	}
	fmt.Fprintln(os.Stderr)
	fmt.Fprintf(os.Stderr, "FR: %d of %d cells with the centre in FR are rain (%.0f%%)\n", frRain, frCells, 100*float64(frRain)/float64(max(frCells, 1)))
	byHash := map[string]*cell{}
	for i := range cells {
		byHash[cells[i].hash] = &cells[i]
	}
	fmt.Fprintf(os.Stderr, "sample:")
	for _, s := range samples {
		if c := byHash[engine.Geohash(s.lat, s.lon, 3)]; c != nil {
			fmt.Fprintf(os.Stderr, " %s %d/%.1f/%.0fm;", s.name, c.code, c.tempC, c.elevation)
		}
	}
	fmt.Fprintln(os.Stderr)
	if tokyo != nil {
		fmt.Fprintf(os.Stderr, "Tokyo (xn7): %s,%s code %d, %.1f °C, elevation %.0f m\n", apiCoord(tokyo.lat), apiCoord(tokyo.lon), tokyo.code, tokyo.tempC, tokyo.elevation)
	}
}

var samples = []struct {
	name     string
	lat, lon float64
}{
	{"Paris", 48.86, 2.35}, {"Brest", 48.39, -4.49}, {"Bordeaux", 44.84, -0.58}, {"Lyon", 45.76, 4.84},
	{"Marseille", 43.30, 5.37}, {"Strasbourg", 48.57, 7.75}, {"London", 51.51, -0.13}, {"Berlin", 52.52, 13.40},
	{"Madrid", 40.42, -3.70}, {"Rome", 41.90, 12.50}, {"Moscow", 55.76, 37.62}, {"Oslo", 59.91, 10.75},
	{"Reykjavik", 64.15, -21.94}, {"Yakutsk", 62.03, 129.73}, {"Novosibirsk", 55.03, 82.92}, {"Cairo", 30.04, 31.24},
	{"Khartoum", 15.50, 32.56}, {"Lagos", 6.52, 3.38}, {"Nairobi", -1.29, 36.82}, {"Kinshasa", -4.32, 15.31},
	{"Johannesburg", -26.20, 28.05}, {"Gaborone", -24.63, 25.92}, {"Windhoek", -22.56, 17.08}, {"Cape Town", -33.92, 18.42},
	{"Dubai", 25.20, 55.27}, {"Riyadh", 24.71, 46.68}, {"Delhi", 28.61, 77.21}, {"Mumbai", 19.08, 72.88},
	{"Bangkok", 13.76, 100.50}, {"Singapore", 1.35, 103.82}, {"Jakarta", -6.21, 106.85}, {"Beijing", 39.90, 116.41},
	{"Shanghai", 31.23, 121.47}, {"Seoul", 37.57, 126.98}, {"Tokyo", 35.68, 139.69}, {"Osaka", 34.69, 135.50},
	{"Niigata", 37.92, 139.04}, {"Sapporo", 43.06, 141.35}, {"Sydney", -33.87, 151.21}, {"Alice Springs", -23.70, 133.88},
	{"Darwin", -12.46, 130.84}, {"Perth", -31.95, 115.86}, {"Auckland", -36.85, 174.76}, {"New York", 40.71, -74.01},
	{"Chicago", 41.88, -87.63}, {"Seattle", 47.61, -122.33}, {"Los Angeles", 34.05, -118.24}, {"Miami", 25.76, -80.19},
	{"Denver", 39.74, -104.99}, {"Anchorage", 61.22, -149.90}, {"Mexico City", 19.43, -99.13}, {"Bogotá", 4.71, -74.07},
	{"Manaus", -3.12, -60.02}, {"São Paulo", -23.55, -46.63}, {"Buenos Aires", -34.60, -58.38}, {"La Paz", -16.50, -68.15},
	{"South Pole", -89.9, 0}, {"Greenland", 72.5, -38.5},
}

// printMap prints the categories of the cells in a box, north up: c clear,
// o cloudy, r rain, s snow, t storm, h hot, k cold, "." no land cell.
func printMap(cells []cell, box string) {
	var lat0, lat1, lon0, lon1 float64
	if _, err := fmt.Sscanf(box, "%g,%g,%g,%g", &lat0, &lat1, &lon0, &lon1); err != nil {
		log.Fatalf("-map: %v", err)
	}
	letter := map[string]byte{"clear": 'c', "cloudy": 'o', "rain": 'r', "snow": 's', "storm": 't', "hot": 'h', "cold": 'k'}
	at := map[[2]int]byte{}
	const step = 360.0 / 256
	for _, c := range cells {
		cat, _ := feedsrc.WeatherCategory(c.code, c.tempC)
		at[[2]int{int(math.Floor((c.lat + 90) / step)), int(math.Floor((c.lon + 180) / step))}] = letter[cat]
	}
	for r := int(math.Floor((lat1 + 90) / step)); r >= int(math.Floor((lat0+90)/step)); r-- {
		var line []byte
		for q := int(math.Floor((lon0 + 180) / step)); q <= int(math.Floor((lon1+180)/step)); q++ {
			b, ok := at[[2]int{r, q}]
			if !ok {
				b = '.'
			}
			line = append(line, b, ' ')
		}
		fmt.Fprintf(os.Stderr, "%6.2f %s\n", -90+(float64(r)+0.5)*step, line)
	}
}

// printCoords prints the cells' centres as the bodies of requests of n
// coordinates each, rounded to 2 decimals: "latitude=a,b&longitude=c,d".
func printCoords(cells []cell, n int) {
	for i := 0; i < len(cells); i += n {
		batch := cells[i:min(i+n, len(cells))]
		var lat, lon []byte
		for j, c := range batch {
			if j > 0 {
				lat, lon = append(lat, ','), append(lon, ',')
			}
			lat = strconv.AppendFloat(lat, math.Round(c.lat*100)/100, 'f', -1, 64)
			lon = strconv.AppendFloat(lon, math.Round(c.lon*100)/100, 'f', -1, 64)
		}
		fmt.Printf("latitude=%s&longitude=%s\n", lat, lon)
	}
}
