package feedsrc

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/geo"
)

// Every code of the WMO table Open-Meteo documents, at a neutral
// temperature, then the thresholds.
func TestWeatherCategory(t *testing.T) {
	documented := map[int]string{
		0: Clear, 1: Clear, 2: Cloudy, 3: Cloudy,
		45: Cloudy, 48: Cloudy,
		51: Rain, 53: Rain, 55: Rain, 56: Rain, 57: Rain,
		61: Rain, 63: Rain, 65: Rain, 66: Rain, 67: Rain,
		71: Snow, 73: Snow, 75: Snow, 77: Snow,
		80: Rain, 81: Rain, 82: Rain,
		85: Snow, 86: Snow,
		95: Storm, 96: Storm, 99: Storm,
	}
	for code, want := range documented {
		got, err := WeatherCategory(code, 15)
		if err != nil || got != want {
			t.Errorf("WeatherCategory(%d, 15) = %q, %v; want %q", code, got, err, want)
		}
	}
	// The documented ranges 51-57, 61-67, 71-77 are taken whole.
	for code := 0; code < 120; code++ {
		_, known := documented[code]
		inRange := code >= 51 && code <= 57 || code >= 61 && code <= 67 || code >= 71 && code <= 77
		_, err := WeatherCategory(code, 15)
		if (err == nil) != (known || inRange) {
			t.Errorf("WeatherCategory(%d, 15) error = %v", code, err)
		}
	}
	for _, code := range []int{-1, 4, 10, 44, 46, 50, 58, 60, 68, 70, 78, 79, 83, 84, 87, 94, 97, 98, 100, 1 << 20} {
		if got, err := WeatherCategory(code, 15); err == nil {
			t.Errorf("WeatherCategory(%d, 15) = %q, want an error", code, got)
		}
	}
	cases := []struct {
		code int
		temp float64
		want string
	}{
		{0, 30, Hot}, {0, 29.9, Clear}, {1, 45, Hot}, {2, 30, Hot}, {3, 29.99, Cloudy}, {45, 31, Hot},
		{0, 0, Cold}, {0, 0.1, Clear}, {3, -20, Cold}, {48, -1, Cold}, {45, 0.5, Cloudy},
		{61, 35, Rain}, {66, -2, Rain}, {56, -1, Rain}, {80, 0, Rain}, // precipitation beats temperature
		{71, 5, Snow}, {85, 2, Snow}, {77, -30, Snow},
		{95, 35, Storm}, {99, -1, Storm},
	}
	for _, c := range cases {
		got, err := WeatherCategory(c.code, c.temp)
		if err != nil || got != c.want {
			t.Errorf("WeatherCategory(%d, %v) = %q, %v; want %q", c.code, c.temp, got, err, c.want)
		}
	}
	for _, temp := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := WeatherCategory(0, temp); err == nil {
			t.Errorf("WeatherCategory(0, %v) gave no error", temp)
		}
	}
	for _, c := range WeatherCategories() {
		if !IsWeatherCategory(c) {
			t.Errorf("IsWeatherCategory(%q) = false", c)
		}
	}
	if IsWeatherCategory("sunny") || len(WeatherCategories()) != 7 {
		t.Error("the categories are exactly clear, cloudy, rain, snow, storm, hot, cold")
	}
}

func TestDayTemperature(t *testing.T) {
	for _, c := range []struct{ max, min, want float64 }{
		{33, 22, 33}, {30, 29, 30}, {8, -1, -1}, {2, 0, 0}, {12, 4, 8}, {35, -2, 35},
	} {
		if got := DayTemperature(c.max, c.min); got != c.want {
			t.Errorf("DayTemperature(%v, %v) = %v, want %v", c.max, c.min, got, c.want)
		}
	}
}

func TestKeyKind(t *testing.T) {
	for key, want := range map[string]string{
		"FR": "country", "US": "country",
		"FR-IDF": "subdivision", "US-WA": "subdivision", "IT-25": "subdivision", "FR-20R": "subdivision", "GB-ENG": "subdivision", "ES-M": "subdivision",
		"u": "geohash", "u0": "geohash", "u09": "geohash", "fr": "geohash", "000": "geohash", "zzz": "geohash",
		"": "", "F": "", "FRA": "", "fR": "", "FR-": "", "FR-IDFX": "", "FR-idf": "", "-IDF": "", "Fr-IDF": "",
		"u09t": "", "a": "", "ui": "", "ul": "", "uo": "", "U09": "", " u09": "", "é": "",
	} {
		if got := KeyKind(key); got != want {
			t.Errorf("KeyKind(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestReadCSV(t *testing.T) {
	in := "\uFEFFValue, KEY ,Lat,lon,label,From,TO\n" +
		"# weather for today\n" +
		"rain,FR,,,France,,\n" +
		"\n" +
		"snow , FR-IDF ,,, Île-de-France ,2026-12-04,2026-12-06\n" +
		",,,,,,\n" +
		"clear,,48.86,2.35,Paris,,\n" +
		"cold,u09,,,,2026-12-04,2026-12-04\n" +
		"\"hot, very\",,-33.87,151.21,\"Sydney, NSW\",,\n"
	got, err := ReadCSV("weather.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Key: "FR", Value: "rain", Label: "France", Line: 3},
		{Key: "FR-IDF", Value: "snow", Label: "Île-de-France", From: "2026-12-04", To: "2026-12-06", Line: 5},
		{Lat: 48.86, Lon: 2.35, HasPoint: true, Value: "clear", Label: "Paris", Line: 7},
		{Key: "u09", Value: "cold", From: "2026-12-04", To: "2026-12-04", Line: 8},
		{Lat: -33.87, Lon: 151.21, HasPoint: true, Value: "hot, very", Label: "Sydney, NSW", Line: 9},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadCSV =\n%+v\nwant\n%+v", got, want)
	}
	for _, e := range got {
		if err := e.Validate(); err != nil {
			t.Errorf("line %d: %v", e.Line, err)
		}
	}

	// Key only, point only.
	if es, err := ReadCSV("k.csv", strings.NewReader("key,value\nDE,open\n")); err != nil || len(es) != 1 || es[0].Key != "DE" {
		t.Errorf("key-only file: %+v, %v", es, err)
	}
	if es, err := ReadCSV("p.csv", strings.NewReader("lat,lon,value\n-90,180,x\n90,-180,y\n")); err != nil || len(es) != 2 || !es[1].HasPoint {
		t.Errorf("point-only file: %+v, %v", es, err)
	}
	if es, err := ReadCSV("h.csv", strings.NewReader("key,value\n")); err != nil || len(es) != 0 {
		t.Errorf("header only: %+v, %v", es, err)
	}
	// One date leaves that side open.
	es, err := ReadCSV("o.csv", strings.NewReader("key,value,from\nFR,closed,2027-01-05\n"))
	if want := []Entry{{Key: "FR", Value: "closed", From: "2027-01-05", Line: 2}}; err != nil || !reflect.DeepEqual(es, want) {
		t.Errorf("from only: %+v, %v", es, err)
	}
	es, err = ReadCSV("o.csv", strings.NewReader("key,value,from,to\nFR,closed,,2027-01-05\n"))
	if want := []Entry{{Key: "FR", Value: "closed", To: "2027-01-05", Line: 2}}; err != nil || !reflect.DeepEqual(es, want) {
		t.Errorf("to only: %+v, %v", es, err)
	}
}

// Each problem is reported with the file and the line it is on.
func TestReadCSVErrors(t *testing.T) {
	const header = "key,lat,lon,value,from,to,label\n"
	long := strings.Repeat("x", 65)
	cases := []struct {
		name, in, want string
	}{
		{"lat range", header + "FR,,,rain,,,\n,91.2,2,rain,,,\n", `weather.csv:3: lat "91.2" is not a latitude in [-90, 90]`},
		{"lon range", header + ",48,-180.5,rain,,,\n", `weather.csv:2: lon "-180.5" is not a longitude in [-180, 180]`},
		{"lat NaN", header + ",NaN,2,rain,,,\n", `weather.csv:2: lat "NaN" is not a latitude in [-90, 90]`},
		{"lon Inf", header + ",1,+Inf,rain,,,\n", `weather.csv:2: lon "+Inf" is not a longitude in [-180, 180]`},
		{"lat huge", header + ",1e400,2,rain,,,\n", `weather.csv:2: lat "+Inf" is not a latitude`},
		{"lat text", header + ",north,2,rain,,,\n", `weather.csv:2: lat "north" is not a number`},
		{"lon text", header + ",1,2°E,rain,,,\n", `weather.csv:2: lon "2°E" is not a number`},
		{"lat alone", header + ",48,,rain,,,\n", `weather.csv:2: lat "48" without lon`},
		{"lon alone", header + ",,2,rain,,,\n", `weather.csv:2: lon "2" without lat`},
		{"both", header + "FR,48,2,rain,,,\n", `weather.csv:2: give either a key or lat and lon, not both`},
		{"neither", header + ",,,rain,,,\n", `weather.csv:2: no key and no lat, lon`},
		{"subdivision", header + "FR-IDFX,,,rain,,,\n", `weather.csv:2: key "FR-IDFX" is not a subdivision`},
		{"lower subdivision", header + "fr-idf,,,rain,,,\n", `weather.csv:2: key "fr-idf" is not a subdivision`},
		{"country", header + "FRA,,,rain,,,\n", `weather.csv:2: key "FRA" is not a country`},
		{"mixed case country", header + "Fr,,,rain,,,\n", `weather.csv:2: key "Fr" is not a country: it must be 2 upper-case letters`},
		{"geohash letter", header + "u0a,,,rain,,,\n", `weather.csv:2: key "u0a" is not a geohash`},
		{"geohash length", header + "u09t,,,rain,,,\n", `weather.csv:2: key "u09t" is not a geohash: it must be 1 to 3 characters`},
		{"empty value", header + "FR,,,,,,\n", `weather.csv:2: value is empty`},
		{"long value", header + "FR,,," + long + ",,,\n", `weather.csv:2: value is 65 bytes, more than 64`},
		{"control value", header + "FR,,,\"a\x01b\",,,\n", `weather.csv:2: value "a\x01b" is not printable`},
		{"bad UTF-8 value", header + "FR,,,a\xffb,,,\n", `weather.csv:2: value "a\xffb" is not printable`},
		{"long label", header + "FR,,,rain,,," + long + "\n", `weather.csv:2: label is 65 bytes, more than 64`},
		{"bad from alone", header + "FR,,,rain,2026-12-32,,\n", `weather.csv:2: from "2026-12-32" is not a date YYYY-MM-DD`},

		{"bad month", header + "FR,,,rain,2026-13-01,2026-12-31,\n", `weather.csv:2: from "2026-13-01" is not a date YYYY-MM-DD`},
		{"short date", header + "FR,,,rain,2026-12-01,2026-12-5,\n", `weather.csv:2: to "2026-12-5" is not a date YYYY-MM-DD`},
		{"day 31", header + "FR,,,rain,2026-11-31,2026-12-05,\n", `weather.csv:2: from "2026-11-31" is not a date`},
		{"slashes", header + "FR,,,rain,04/12/2026,2026-12-05,\n", `weather.csv:2: from "04/12/2026" is not a date`},
		{"reversed", header + "FR,,,rain,2026-12-06,2026-12-04,\n", `weather.csv:2: from 2026-12-06 is after to 2026-12-04`},
		{"cells", header + "FR,rain\n", `weather.csv:2: 2 cells, but the header has 7 columns`},
		{"quote", header + "FR,,,\"rain,,,\n", `weather.csv:2: not CSV`},
		{"bare quote", header + "FR,,,ra\"in,,,\n", `weather.csv:2: not CSV`},
		{"empty file", "", `weather.csv: empty: want a header row`},
		{"unknown column", "key,value,vaule\n", `weather.csv:1: unknown column "vaule": the columns are key, lat, lon, value, from, to, label`},
		{"duplicate column", "key,value,Key\n", `weather.csv:1: column "key" appears twice`},
		{"no value column", "key,label\n", `weather.csv:1: no value column`},
		{"no place column", "value,label\n", `weather.csv:1: no key column and no lat, lon columns`},
		{"lat column alone", "lat,value\n", `weather.csv:1: lat and lon columns go together`},

		{"header after comments", "# a feed\n# of weather\nkey,valeur\n", `weather.csv:3: unknown column "valeur"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, err := ReadCSV("weather.csv", strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("no error; entries %+v", es)
			}
			if es != nil {
				t.Errorf("entries %+v returned with an error", es)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, c.want)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe.Name != "weather.csv" {
				t.Errorf("error %v is not an *Error naming the file", err)
			}
		})
	}
}

// All problems of a file are reported at once, up to 20, and each row's
// problems with its own line.
func TestReadCSVCollectsErrors(t *testing.T) {
	in := "key,lat,lon,value\n" +
		"FR,,,rain\n" +
		"XX-,,,rain\n" + // line 3
		",95,200,\n" + // line 4: three problems
		"u09,,,ok\n" +
		"FR,1,2,rain\n" // line 6
	_, err := ReadCSV("w.csv", strings.NewReader(in))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`w.csv:3: key "XX-" is not a subdivision`,
		`w.csv:4: lat "95" is not a latitude in [-90, 90]`,
		`w.csv:4: lon "200" is not a longitude in [-180, 180]`,
		`w.csv:4: value is empty`,
		`w.csv:6: give either a key or lat and lon, not both`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems:\n%v\nwant %d", len(lines), err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want %q", i, lines[i], w)
		}
	}

	var b strings.Builder
	b.WriteString("key,value\n")
	for i := 0; i < 30; i++ {
		b.WriteString("bad key,x\n")
	}
	_, err = ReadCSV("many.csv", strings.NewReader(b.String()))
	lines = strings.Split(fmt.Sprint(err), "\n")
	if len(lines) != 21 || lines[19] != `many.csv:21: key "bad key" is not a geohash: it must be 1 to 3 characters of 0-9 and b-z without i, l, o, like "u09" (countries are upper case, "FR")` ||
		lines[20] != "many.csv: 10 more problems not shown" {
		t.Errorf("30 bad rows gave:\n%v", err)
	}
}

func TestReadJSON(t *testing.T) {
	in := `[
 {"key": "FR", "value": "rain", "label": "France"},
 {"Lat": 48.86, "LON": 2.35, "value": " clear ", "from": "2026-12-04", "to": "2026-12-05", "key": null},
 {"key": "u09", "value": "cold", "label": null}
]`
	got, err := ReadJSON("w.json", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Key: "FR", Value: "rain", Label: "France", Line: 1},
		{Lat: 48.86, Lon: 2.35, HasPoint: true, Value: "clear", From: "2026-12-04", To: "2026-12-05", Line: 2},
		{Key: "u09", Value: "cold", Line: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadJSON =\n%+v\nwant\n%+v", got, want)
	}
	if es, err := ReadJSON("e.json", strings.NewReader("\uFEFF[]")); err != nil || len(es) != 0 {
		t.Errorf("empty array: %+v, %v", es, err)
	}
}

func TestReadJSONErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"object", `{"key": "FR", "value": "rain"}`, `w.json: want a JSON array of objects`},
		{"null", `null`, `w.json: want a JSON array of objects`},
		{"not JSON", `[{"key": "FR",]`, `w.json: not JSON`},
		{"trailing", `[] []`, `w.json: not JSON: data after the top-level value`},
		{"element", `[{"key": "FR", "value": "x"}, 3]`, `w.json: element 2: not an object`},
		{"unknown field", `[{"key": "FR", "value": "x", "colour": "red"}]`, `w.json: element 1: unknown field "colour"`},
		{"duplicate field", `[{"key": "FR", "value": "x", "Key": "DE"}]`, `w.json: element 1: field "key" appears twice (as "key" and "Key")`},
		{"lat string", `[{"lat": "48.8", "lon": 2, "value": "x"}]`, `w.json: element 1: lat "48.8" is not a number`},
		{"value number", `[{"key": "FR", "value": 3}]`, `w.json: element 1: value 3 is not a string`},
		{"value object", "[{\"key\": \"FR\", \"value\": {\n \"a\": [1,\n 2]}}]", `w.json: element 1: value {"a":[1,2]} is not a string`},
		{"lat alone", `[{"lat": 48.8, "value": "x"}]`, `w.json: element 1: lat 48.8 without lon`},
		{"lat range", `[{"key": "FR", "value": "x"}, {"lat": -91, "lon": 2, "value": "x"}]`, `w.json: element 2: lat "-91" is not a latitude in [-90, 90]`},
		{"key", `[{"key": "France", "value": "x"}]`, `w.json: element 1: key "France" is not a country`},
		{"empty value", `[{"key": "FR"}]`, `w.json: element 1: value is empty`},
		{"dates", `[{"key": "FR", "value": "x", "from": "2027-01-02", "to": "2027-01-01"}]`, `w.json: element 1: from 2027-01-02 is after to 2027-01-01`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, err := ReadJSON("w.json", strings.NewReader(c.in))
			if err == nil || es != nil {
				t.Fatalf("got %+v, %v; want an error", es, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, c.want)
			}
		})
	}
}

const omParis = `{"latitude":48.86,"longitude":2.3399997,"generationtime_ms":0.05,"utc_offset_seconds":3600,"timezone":"Europe/Paris","timezone_abbreviation":"CET","elevation":43.0,
 "current_units":{"time":"iso8601","interval":"seconds","temperature_2m":"°C","weather_code":"wmo code"},
 "current":{"time":"2026-12-04T13:00","interval":900,"temperature_2m":8.4,"weather_code":63}}`

func TestReadOpenMeteo(t *testing.T) {
	es, at, err := ReadOpenMeteo("paris.json", strings.NewReader(omParis))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{Lat: 48.86, Lon: 2.3399997, HasPoint: true, Value: Rain, Line: 1}}
	if !reflect.DeepEqual(es, want) {
		t.Errorf("entries %+v, want %+v", es, want)
	}
	if wantAt := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC); !at.Equal(wantAt) || at.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", at, wantAt)
	}

	// An array: current, daily only, Unix times; the newest time wins.
	arr := `[` + omParis + `,
 {"latitude":35.7,"longitude":139.7,"utc_offset_seconds":32400,"current":{"time":"2026-12-04T21:15","temperature_2m":11.2,"weather_code":1}},
 {"latitude":-33.9,"longitude":151.2,"utc_offset_seconds":39600,
  "daily":{"time":["2026-12-05","2026-12-06"],"weather_code":[0,95],"temperature_2m_max":[31.5,25],"temperature_2m_min":[19.0,18]}},
 {"latitude":61.2,"longitude":-149.9,"daily":{"time":["2026-12-04"],"weather_code":[3],"temperature_2m_max":[2.0],"temperature_2m_min":[-4.0]}},
 {"latitude":40.7,"longitude":-74.0,"current":{"time":1796385600,"temperature_2m":30,"weather_code":2.0}}
]`
	es, at, err = ReadOpenMeteo("world.json", strings.NewReader(arr))
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for i, e := range es {
		vals = append(vals, e.Value)
		if e.Line != i+1 || !e.HasPoint || e.Key != "" {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if want := []string{Rain, Clear, Hot, Cold, Hot}; !reflect.DeepEqual(vals, want) {
		t.Errorf("values %v, want %v", vals, want)
	}
	// 2026-12-04T21:15 at +09:00 is 12:15 UTC; Sydney's day starts
	// 2026-12-04T13:00 UTC; Unix 1796385600 is 2026-12-04T12:00 UTC.
	if wantAt := time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC); !at.Equal(wantAt) {
		t.Errorf("newest time %v, want %v", at, wantAt)
	}
}

func TestReadOpenMeteoErrors(t *testing.T) {
	cur := func(s string) string { return `{"latitude":1,"longitude":2,"current":` + s + `}` }
	cases := []struct{ name, in, want string }{
		{"not JSON", `[{`, `om.json: unexpected EOF`},
		{"not an object", `"x"`, `om.json: want an Open-Meteo forecast response`},
		{"empty", `[]`, `om.json: no locations`},
		{"api error", `{"error":true,"reason":"Latitude must be in range of -90 to 90°. Given: 91.0."}`, `om.json: element 1: the API answered with an error: Latitude must be in range`},
		{"no code", cur(`{"time":"2026-12-04T12:00","temperature_2m":3}`), `om.json: element 1: current.weather_code is missing (request current=temperature_2m,weather_code)`},
		{"no temp", cur(`{"time":"2026-12-04T12:00","weather_code":3}`), `om.json: element 1: current.temperature_2m is missing`},
		{"null code", cur(`{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":null}`), `current.weather_code is missing`},
		{"unknown code", cur(`{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":4}`), `om.json: element 1: current: weather code 4 is not a WMO weather interpretation code`},
		{"fraction code", cur(`{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":2.5}`), `current.weather_code 2.5 is not a WMO code`},
		{"string temp", cur(`{"time":"2026-12-04T12:00","temperature_2m":"3","weather_code":3}`), `om.json: element 1: current.temperature_2m: want a number, not string`},
		{"bad time", cur(`{"time":"04/12/2026 12:00","temperature_2m":3,"weather_code":3}`), `om.json: element 1: current.time "04/12/2026 12:00" is not a time YYYY-MM-DDThh:mm or Unix seconds`},
		{"no time", cur(`{"temperature_2m":3,"weather_code":3}`), `current.time is missing`},
		{"no block", `[{"latitude":1,"longitude":2,"current":{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":3}},{"latitude":1,"longitude":2,"hourly":{}}]`, `om.json: element 2: neither "current" nor "daily"`},
		{"no latitude", `{"longitude":2,"current":{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":3}}`, `om.json: element 1: latitude is missing`},
		{"latitude range", `{"latitude":100,"longitude":2,"current":{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":3}}`, `latitude 100 is not in [-90, 90]`},
		{"offset", `{"latitude":1,"longitude":2,"utc_offset_seconds":1.5,"current":{"time":"2026-12-04T12:00","temperature_2m":3,"weather_code":3}}`, `utc_offset_seconds 1.5 is not a whole number`},
		{"daily empty", `{"latitude":1,"longitude":2,"daily":{"time":[],"weather_code":[],"temperature_2m_max":[],"temperature_2m_min":[]}}`, `daily.weather_code[0] is missing (request daily=weather_code,temperature_2m_max,temperature_2m_min)`},
		{"daily null min", `{"latitude":1,"longitude":2,"daily":{"time":["2026-12-04"],"weather_code":[3],"temperature_2m_max":[3],"temperature_2m_min":[null]}}`, `daily.temperature_2m_min[0] is missing`},
		{"daily max below min", `{"latitude":1,"longitude":2,"daily":{"time":["2026-12-04"],"weather_code":[3],"temperature_2m_max":[1],"temperature_2m_min":[3]}}`, `daily.temperature_2m_max[0] 1 is below temperature_2m_min[0] 3`},
		{"daily time", `{"latitude":1,"longitude":2,"daily":{"time":["2026-12-04T00:00"],"weather_code":[3],"temperature_2m_max":[3],"temperature_2m_min":[1]}}`, `daily.time[0] "2026-12-04T00:00" is not a time YYYY-MM-DD`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, _, err := ReadOpenMeteo("om.json", strings.NewReader(c.in))
			if err == nil || es != nil {
				t.Fatalf("got %+v, %v; want an error", es, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, c.want)
			}
		})
	}
}

func TestReadPlaces(t *testing.T) {
	ps, err := ReadPlaces("p.csv", strings.NewReader("LAT,name,lon\n48.86,Paris,2.35\n35.68, Tokyo ,139.69\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Place{{"Paris", 48.86, 2.35}, {"Tokyo", 35.68, 139.69}}; !reflect.DeepEqual(ps, want) {
		t.Errorf("ReadPlaces = %+v, want %+v", ps, want)
	}
	p, km, ok := Nearest(ps, 48.58, 2.28)
	if !ok || p.Name != "Paris" || km < 30 || km > 33 {
		t.Errorf("Nearest = %+v, %.1f km, %v; want Paris, ~31 km", p, km, ok)
	}
	if _, _, ok := Nearest(nil, 0, 0); ok {
		t.Error("Nearest of no places is ok")
	}
	for _, c := range []struct{ in, want string }{
		{"name,lat\n", `p.csv:1: no lon column`},
		{"name,lat,lon\nParis,91,2\n", `p.csv:2: lat "91" is not a latitude in [-90, 90]`},
		{"name,lat,lon\n,48,2\n", `p.csv:2: name is empty`},
		{"name,lat,lon\nParis,48,x\n", `p.csv:2: lon "x" is not a number`},
		{"name,lat,lon,country\n", `p.csv:1: unknown column "country"`},
	} {
		if _, err := ReadPlaces("p.csv", strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadPlaces(%q) error %v, want %s", c.in, err, c.want)
		}
	}
}

func writeFile(t *testing.T, name string, data []byte, gz bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadFile(t *testing.T) {
	csvData := []byte("key,value\nFR,rain\n")
	jsonData := []byte(`[{"key":"FR","value":"rain"}]`)
	want := []Entry{{Key: "FR", Value: "rain", Line: 2}}
	wantJSON := []Entry{{Key: "FR", Value: "rain", Line: 1}}
	for _, c := range []struct {
		name   string
		data   []byte
		gz     bool
		format string
		want   []Entry
	}{
		{"w.csv", csvData, false, "", want},
		{"w.csv.gz", csvData, true, "", want},
		{"W.CSV.GZ", csvData, true, "", want},
		{"w.txt", csvData, false, "csv", want},
		{"w.json", jsonData, false, "", wantJSON},
		{"w.json.gz", jsonData, true, "", wantJSON},
		{"w", jsonData, false, "json", wantJSON},
	} {
		path := writeFile(t, c.name, c.data, c.gz)
		es, at, err := ReadFile(path, c.format)
		if err != nil || !reflect.DeepEqual(es, c.want) || !at.IsZero() {
			t.Errorf("ReadFile(%s, %q) = %+v, %v, %v", c.name, c.format, es, at, err)
		}
	}

	// Open-Meteo is recognised in .json and .json.gz, object or array.
	for _, c := range []struct {
		name string
		data string
		gz   bool
	}{{"om.json", omParis, false}, {"om.json.gz", "[" + omParis + "]", true}} {
		path := writeFile(t, c.name, []byte(c.data), c.gz)
		es, at, err := ReadFile(path, "")
		if err != nil || len(es) != 1 || es[0].Value != Rain || at.IsZero() {
			t.Errorf("ReadFile(%s) = %+v, %v, %v", c.name, es, at, err)
		}
		if es, _, err := ReadFile(path, FormatJSON); err == nil {
			t.Errorf("ReadFile(%s, json) = %+v, want an error (unknown fields)", c.name, es)
		}
	}

	bad := writeFile(t, "w.xml", csvData, false)
	if _, _, err := ReadFile(bad, ""); err == nil || !strings.Contains(err.Error(), "cannot tell the format") {
		t.Errorf("ReadFile(.xml) error = %v", err)
	}
	if _, _, err := ReadFile(bad, "yaml"); err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Errorf("ReadFile(yaml) error = %v", err)
	}
	notGz := writeFile(t, "w.csv.gz", csvData, false)
	if _, _, err := ReadFile(notGz, ""); err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Errorf("ReadFile(plain .gz) error = %v", err)
	}
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.csv"), ""); err == nil {
		t.Error("ReadFile of a missing file gave no error")
	}
	// Errors name the path.
	badRow := writeFile(t, "bad.csv.gz", []byte("key,value\nfrance,rain\n"), true)
	if _, _, err := ReadFile(badRow, ""); err == nil || !strings.HasPrefix(err.Error(), badRow+":2: key") {
		t.Errorf("ReadFile(bad row) error = %v", err)
	}

	rc, err := Open(writeFile(t, "x.csv.gz", csvData, true))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if err := rc.Close(); err != nil || !bytes.Equal(got, csvData) {
		t.Errorf("Open(.gz) read %q, close %v", got, err)
	}
}

const fixtures = "../../testdata/feeds/"

// The world weather fixture reads cleanly, has one point per geohash-3
// cell, and shows what it was made to show: France mostly in rain, Tokyo
// clear and mild.
func TestWorldFixture(t *testing.T) {
	path := "../../examples/weather/open-meteo-world.json.gz"
	es, at, err := ReadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC); !at.Equal(want) {
		t.Errorf("time %v, want %v", at, want)
	}
	if len(es) < 10000 || len(es) > 15000 {
		t.Errorf("%d locations, want the ~12,800 geohash-3 cells with land", len(es))
	}
	tab, err := geo.Default()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]bool{}
	counts := map[string]int{}
	fr, frRain := 0, 0
	for _, e := range es {
		h := engine.Geohash(e.Lat, e.Lon, 3)
		if cells[h] {
			t.Errorf("two locations in cell %s", h)
		}
		cells[h] = true
		counts[e.Value]++
		if cc, _, ok := tab.Lookup(e.Lat, e.Lon); ok && cc == "FR" {
			fr++
			if e.Value == Rain {
				frRain++
			}
		}
	}
	for _, c := range WeatherCategories() {
		if counts[c] == 0 {
			t.Errorf("no location is %s", c)
		}
	}
	if fr < 20 || 2*frRain <= fr {
		t.Errorf("%d of %d locations in FR are rain, want more than half", frRain, fr)
	}
	for _, c := range []struct {
		name, cell, want string
	}{{"Paris", "u09", Rain}, {"Tokyo", "xn7", Clear}} {
		if !cells[c.cell] {
			t.Errorf("%s's cell %s is missing", c.name, c.cell)
		}
		for _, e := range es {
			if engine.Geohash(e.Lat, e.Lon, 3) == c.cell && e.Value != c.want {
				t.Errorf("%s (%s) is %s, want %s", c.name, c.cell, e.Value, c.want)
			}
		}
	}

	// The raw response: the API's fields, and Tokyo mild.
	rc, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var raw []struct {
		Latitude, Longitude float64
		UTCOffsetSeconds    *int   `json:"utc_offset_seconds"`
		Timezone            string `json:"timezone"`
		Elevation           *float64
		CurrentUnits        map[string]string `json:"current_units"`
		Current             struct {
			Time        string  `json:"time"`
			Interval    int     `json:"interval"`
			Temperature float64 `json:"temperature_2m"`
			WeatherCode int     `json:"weather_code"`
		}
	}
	if err := json.NewDecoder(rc).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for i, r := range raw {
		if r.UTCOffsetSeconds == nil || *r.UTCOffsetSeconds != 0 || r.Timezone != "GMT" || r.Elevation == nil ||
			r.CurrentUnits["temperature_2m"] != "°C" || r.Current.Interval != 900 || r.Current.Time != "2026-12-04T12:00" ||
			r.Current.Temperature < -70 || r.Current.Temperature > 50 {
			t.Fatalf("element %d does not look like the API's: %+v", i+1, r)
		}
		if engine.Geohash(r.Latitude, r.Longitude, 3) == "xn7" {
			if c := r.Current.WeatherCode; c > 1 || r.Current.Temperature < 5 || r.Current.Temperature > 20 {
				t.Errorf("Tokyo: code %d, %.1f °C; want clear (0, 1) and mild", c, r.Current.Temperature)
			}
		}
	}
}

func TestFixtureFiles(t *testing.T) {
	places, err := ReadPlacesFile("../../examples/weather/places.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(places) < 150 || len(places) > 250 {
		t.Errorf("%d places, want 150 to 250", len(places))
	}
	names := map[string]bool{}
	for _, p := range places {
		names[p.Name] = true
	}
	for _, n := range []string{"Paris", "Lyon", "Marseille", "London", "Berlin", "Tokyo", "Osaka", "New York", "Seattle", "Sydney"} {
		if !names[n] {
			t.Errorf("places.csv has no %s", n)
		}
	}
	if p, _, _ := Nearest(places, 48.52, 2.11); p.Name != "Paris" {
		t.Errorf("the place nearest u09's centre is %s, want Paris", p.Name)
	}

	holidays, _, err := ReadFile(fixtures+"holidays.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range holidays {
		if e.Value != "public_holiday" && e.Value != "school_break" || e.From == "" || e.From < "2026-12-01" || e.To > "2027-01-31" {
			t.Errorf("holidays.csv:%d: %+v", e.Line, e)
		}
	}
	found := false
	for _, e := range holidays {
		if e.Key == "FR-IDF" && e.Value == "school_break" && e.From == "2026-12-19" && e.To == "2027-01-03" {
			found = true
		}
	}
	if !found {
		t.Error("holidays.csv has no FR-IDF school break 2026-12-19..2027-01-03")
	}

	stores, _, err := ReadFile(fixtures+"store-hours.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range stores {
		if e.Value != "open" && e.Value != "closed" || e.Label == "" {
			t.Errorf("store-hours.csv:%d: %+v", e.Line, e)
		}
	}
	if len(stores) < 5 {
		t.Errorf("store-hours.csv has %d rows", len(stores))
	}
}

// checkResult is what the fuzz tests hold every reader to: entries only
// without an error, every entry valid, at most 21 lines of problems.
func checkResult(t *testing.T, es []Entry, err error) {
	if err != nil {
		if es != nil {
			t.Fatalf("entries with an error: %v", err)
		}
		if n := strings.Count(err.Error(), "\n"); n > maxErrors {
			t.Fatalf("%d problems reported", n+1)
		}
		return
	}
	for _, e := range es {
		if verr := e.Validate(); verr != nil {
			t.Fatalf("invalid entry %+v returned: %v", e, verr)
		}
		if e.Line < 1 {
			t.Fatalf("entry without a line: %+v", e)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"key,value\nFR,rain\n",
		"key,lat,lon,value,from,to,label\nFR,,,rain,2026-12-04,2026-12-05,France\n,48.86,2.35,clear,,,Paris\n",
		"\uFEFFVALUE,Key\n# comment\nsnow,u09\n",
		"key,value\n\"FR\",\"a\"\"b\"\n",
		"lat,lon,value\n91,0,x\nNaN,Inf,y\n",
		"key,value\nFR\n",
		"key,value,from,to\nFR,x,2026-02-30,2026-03-01\n",
		"a,b\n\"unterminated\n",
		"",
		"key,key\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		es, err := ReadCSV("fuzz.csv", strings.NewReader(in))
		checkResult(t, es, err)
	})
}

func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		`[{"key":"FR","value":"rain"}]`,
		`[{"lat":1,"lon":2,"value":"x","from":"2026-12-04","to":"2026-12-04"}]`,
		`[{"lat":"1"}, 3, null, {"KEY":"FR","key":"DE"}]`,
		`{}`, `[`, `[]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		es, err := ReadJSON("fuzz.json", strings.NewReader(in))
		checkResult(t, es, err)
	})
}

func FuzzReadOpenMeteo(f *testing.F) {
	f.Add(omParis)
	f.Add(`[{"latitude":1,"longitude":2,"daily":{"time":["2026-12-04"],"weather_code":[3],"temperature_2m_max":[3],"temperature_2m_min":[1]}}]`)
	f.Add(`{"latitude":1,"longitude":2,"current":{"time":1796385600,"temperature_2m":1e308,"weather_code":99}}`)
	f.Add(`{"error":true,"reason":"x"}`)
	f.Fuzz(func(t *testing.T, in string) {
		es, at, err := ReadOpenMeteo("fuzz.json", strings.NewReader(in))
		checkResult(t, es, err)
		if err == nil && (len(es) == 0 || at.Location() != time.UTC) {
			t.Fatalf("%d entries, time %v", len(es), at)
		}
		for _, e := range es {
			if !e.HasPoint || !IsWeatherCategory(e.Value) {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}
