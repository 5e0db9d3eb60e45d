package feedsrc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The weather categories, the values of a weather feed.
const (
	Clear  = "clear"
	Cloudy = "cloudy"
	Rain   = "rain"
	Snow   = "snow"
	Storm  = "storm"
	Hot    = "hot"
	Cold   = "cold"
)

// WeatherCategories returns the weather categories, in a fixed order.
func WeatherCategories() []string {
	return []string{Clear, Cloudy, Rain, Snow, Storm, Hot, Cold}
}

// IsWeatherCategory reports whether s is one of the weather categories.
func IsWeatherCategory(s string) bool {
	return slices.Contains(WeatherCategories(), s)
}

// Temperature thresholds of WeatherCategory, in °C, both inclusive.
//
// HotC is 30 °C because that is where weather services count a "hot day"
// (the German Weather Service's "heißer Tag" has a maximum of at least
// 30 °C) and where heat starts to change what people do and buy. 25 °C, the
// climatological "summer day" (ETCCDI SU), would make most of the tropics
// "hot" all year, and the category would say little there.
//
// ColdC is 0 °C, the freezing point: frost and ice on roads, the "frost
// day" of climatology (ETCCDI FD: minimum below 0 °C). Above it, a dry
// winter day is simply clear or cloudy.
const (
	HotC  = 30.0
	ColdC = 0.0
)

// WeatherCategory maps a WMO weather interpretation code (the code table Open-Meteo documents:
// 0 clear sky; 1,2,3 mainly clear, partly cloudy, overcast; 45,48 fog; 51-57 drizzle; 61-67 rain;
// 71-77 snow; 80-82 rain showers; 85,86 snow showers; 95, 96, 99 thunderstorm) and a temperature
// in °C to one category: thunderstorm→storm; snow codes→snow; drizzle/rain/showers→rain;
// otherwise hot when temp ≥ 30, cold when temp ≤ 0, else clear (0,1) or cloudy (2,3,45,48).
// Unknown codes are an error. Document the choice of thresholds.
//
// The thresholds are HotC and ColdC (see there for why). What falls from
// the sky wins over the temperature, because it is what people notice and
// plan around: freezing drizzle (56, 57) and freezing rain (66, 67) at -2 °C
// are rain, not cold, and a thunderstorm at 32 °C is a storm, not hot. Fog
// is cloudy. The temperature must be a finite number even when the code
// alone decides, so that a broken reading is not passed on silently.
func WeatherCategory(code int, tempC float64) (string, error) {
	if math.IsNaN(tempC) || math.IsInf(tempC, 0) {
		return "", fmt.Errorf("temperature %v is not a number", tempC)
	}
	var sky string
	switch {
	case code == 95 || code == 96 || code == 99:
		return Storm, nil
	case code >= 71 && code <= 77, code == 85, code == 86:
		return Snow, nil
	case code >= 51 && code <= 57, code >= 61 && code <= 67, code >= 80 && code <= 82:
		return Rain, nil
	case code == 0 || code == 1:
		sky = Clear
	case code == 2 || code == 3 || code == 45 || code == 48:
		sky = Cloudy
	default:
		return "", fmt.Errorf("weather code %d is not a WMO weather interpretation code Open-Meteo documents (0-3, 45, 48, 51-57, 61-67, 71-77, 80-82, 85, 86, 95, 96, 99)", code)
	}
	switch {
	case tempC >= HotC:
		return Hot, nil
	case tempC <= ColdC:
		return Cold, nil
	}
	return sky, nil
}

// DayTemperature is the temperature WeatherCategory judges a whole day by,
// from its maximum and minimum: the maximum when that is hot (≥ HotC, a hot
// day as weather services count it), else the minimum when that freezes
// (≤ ColdC, a frost day), else their mean.
func DayTemperature(maxC, minC float64) float64 {
	switch {
	case maxC >= HotC:
		return maxC
	case minC <= ColdC:
		return minC
	}
	return (maxC + minC) / 2
}

// omLocation is one location of an Open-Meteo forecast response, the part
// this package reads.
type omLocation struct {
	Latitude         *float64   `json:"latitude"`
	Longitude        *float64   `json:"longitude"`
	UTCOffsetSeconds *float64   `json:"utc_offset_seconds"`
	Current          *omCurrent `json:"current"`
	Daily            *omDaily   `json:"daily"`
	Error            bool       `json:"error"`
	Reason           string     `json:"reason"`
}

type omCurrent struct {
	Time        json.RawMessage `json:"time"`
	Temperature *float64        `json:"temperature_2m"`
	WeatherCode *float64        `json:"weather_code"`
}

type omDaily struct {
	Time        []json.RawMessage `json:"time"`
	WeatherCode []*float64        `json:"weather_code"`
	TempMax     []*float64        `json:"temperature_2m_max"`
	TempMin     []*float64        `json:"temperature_2m_min"`
}

// ReadOpenMeteo reads Open-Meteo forecast API JSON for one or many coordinates (a single object,
// or the array the API returns when latitude/longitude list several points) and returns one
// point Entry per location with Value the weather category of its "current" block (weather_code,
// temperature_2m), or, if there is no "current", of the first day of its "daily" block
// (weather_code, temperature_2m_max, temperature_2m_min). Errors name the element index and field.
// Also returns the newest observation time found (the "time" field, interpreted with utc_offset_seconds) as time.Time.
//
// Elements are counted from 1, as Entry.Line ("world.json: element 3:
// current.weather_code is missing"). A day of the daily block is judged by
// DayTemperature; its time is the start of that local day. Times may be
// ISO 8601 local times (the API's default) or Unix seconds
// (timeformat=unixtime); a missing utc_offset_seconds is taken as 0 (UTC).
// The returned time is in UTC. Entries' Lat and Lon are the coordinates of
// the API's grid cell, as it returns them, not those requested. An element
// that is an API error object ({"error": true, "reason": ...}) is an error.
func ReadOpenMeteo(name string, r io.Reader) ([]Entry, time.Time, error) {
	errs := &errList{name: name, element: true}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var elems []json.RawMessage
	switch t := bytes.TrimLeft(data, " \t\r\n"); {
	case len(t) > 0 && t[0] == '{':
		var one json.RawMessage
		err = unmarshalStrict(data, &one)
		elems = []json.RawMessage{one}
	case len(t) > 0 && t[0] == '[':
		err = unmarshalStrict(data, &elems)
	default:
		err = errors.New("want an Open-Meteo forecast response: a JSON object or an array of them")
	}
	if err != nil {
		errs.add(0, "%v", err)
		return nil, time.Time{}, errs.err()
	}
	if len(elems) == 0 {
		errs.add(0, "no locations")
		return nil, time.Time{}, errs.err()
	}
	var newest time.Time
	entries := make([]Entry, 0, len(elems))
	for i, raw := range elems {
		line := i + 1
		e, at, ps := readOMLocation(raw)
		if len(ps) > 0 {
			for _, p := range ps {
				errs.add(line, "%s", p)
			}
			continue
		}
		e.Line = line
		entries = append(entries, e)
		if at.After(newest) {
			newest = at
		}
	}
	if err := errs.err(); err != nil {
		return nil, time.Time{}, err
	}
	return entries, newest, nil
}

// readOMLocation reads one location; it returns its entry and observation
// time, or its problems.
func readOMLocation(raw json.RawMessage) (Entry, time.Time, []string) {
	var loc omLocation
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Entry{}, time.Time{}, []string{"not an object"}
	}
	if err := json.Unmarshal(raw, &loc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Entry{}, time.Time{}, []string{fmt.Sprintf("%s: want %s, not %s", te.Field, jsonKind(te.Type), te.Value)}
		}
		return Entry{}, time.Time{}, []string{err.Error()}
	}
	if loc.Error {
		return Entry{}, time.Time{}, []string{fmt.Sprintf("the API answered with an error: %s", loc.Reason)}
	}
	var ps []string
	e := Entry{HasPoint: true}
	switch {
	case loc.Latitude == nil:
		ps = append(ps, "latitude is missing")
	case !(*loc.Latitude >= -90 && *loc.Latitude <= 90):
		ps = append(ps, fmt.Sprintf("latitude %s is not in [-90, 90]", formatFloat(*loc.Latitude)))
	default:
		e.Lat = *loc.Latitude
	}
	switch {
	case loc.Longitude == nil:
		ps = append(ps, "longitude is missing")
	case !(*loc.Longitude >= -180 && *loc.Longitude <= 180):
		ps = append(ps, fmt.Sprintf("longitude %s is not in [-180, 180]", formatFloat(*loc.Longitude)))
	default:
		e.Lon = *loc.Longitude
	}
	offset := 0
	if o := loc.UTCOffsetSeconds; o != nil {
		if *o != math.Trunc(*o) || math.Abs(*o) > 18*3600 {
			ps = append(ps, fmt.Sprintf("utc_offset_seconds %s is not a whole number of seconds within ±18 h", formatFloat(*o)))
		} else {
			offset = int(*o)
		}
	}
	var at time.Time
	switch {
	case loc.Current != nil:
		c := loc.Current
		code, cerr := omCode("current.weather_code", c.WeatherCode)
		if cerr != "" {
			ps = append(ps, cerr+" (request current=temperature_2m,weather_code)")
		}
		if c.Temperature == nil {
			ps = append(ps, "current.temperature_2m is missing (request current=temperature_2m,weather_code)")
		}
		if cerr == "" && c.Temperature != nil {
			cat, err := WeatherCategory(code, *c.Temperature)
			if err != nil {
				ps = append(ps, "current: "+err.Error())
			}
			e.Value = cat
		}
		t, terr := omTime(c.Time, offset, false)
		if terr != "" {
			ps = append(ps, "current.time "+terr)
		}
		at = t
	case loc.Daily != nil:
		d := loc.Daily
		const hint = " (request daily=weather_code,temperature_2m_max,temperature_2m_min)"
		first := func(field string, vs []*float64) (float64, bool) {
			if len(vs) == 0 || vs[0] == nil {
				ps = append(ps, "daily."+field+"[0] is missing"+hint)
				return 0, false
			}
			return *vs[0], true
		}
		codeOK := true
		code := 0
		if len(d.WeatherCode) == 0 {
			ps = append(ps, "daily.weather_code[0] is missing"+hint)
			codeOK = false
		} else {
			var cerr string
			code, cerr = omCode("daily.weather_code[0]", d.WeatherCode[0])
			if cerr != "" {
				ps = append(ps, cerr+hint)
				codeOK = false
			}
		}
		hi, hiOK := first("temperature_2m_max", d.TempMax)
		lo, loOK := first("temperature_2m_min", d.TempMin)
		if codeOK && hiOK && loOK {
			if hi < lo {
				ps = append(ps, fmt.Sprintf("daily.temperature_2m_max[0] %s is below temperature_2m_min[0] %s", formatFloat(hi), formatFloat(lo)))
			} else {
				cat, err := WeatherCategory(code, DayTemperature(hi, lo))
				if err != nil {
					ps = append(ps, "daily[0]: "+err.Error())
				}
				e.Value = cat
			}
		}
		if len(d.Time) == 0 {
			ps = append(ps, "daily.time[0] is missing")
		} else {
			t, terr := omTime(d.Time[0], offset, true)
			if terr != "" {
				ps = append(ps, "daily.time[0] "+terr)
			}
			at = t
		}
	default:
		ps = append(ps, `neither "current" nor "daily": request current=temperature_2m,weather_code (or daily=weather_code,temperature_2m_max,temperature_2m_min)`)
	}
	if len(ps) > 0 {
		return Entry{}, time.Time{}, ps
	}
	return e, at, nil
}

// jsonKind names the JSON kind of value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	}
	return "an object"
}

// omCode checks a weather code field: present and a whole number.
func omCode(field string, v *float64) (int, string) {
	switch {
	case v == nil:
		return 0, field + " is missing"
	case *v != math.Trunc(*v) || *v < 0 || *v > 999:
		return 0, fmt.Sprintf("%s %s is not a WMO code", field, formatFloat(*v))
	}
	return int(*v), ""
}

// omTime parses an Open-Meteo time: ISO 8601 local time without zone
// ("2026-12-04T12:00", or a date "2026-12-04" for days), read at the
// location's UTC offset, or Unix seconds. It returns the time in UTC or a
// problem.
func omTime(raw json.RawMessage, offset int, day bool) (time.Time, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, "is missing"
	}
	var unix float64
	if json.Unmarshal(raw, &unix) == nil {
		if unix != math.Trunc(unix) || math.Abs(unix) > 1e11 {
			return time.Time{}, fmt.Sprintf("%s is not a time in Unix seconds", raw)
		}
		return time.Unix(int64(unix), 0).UTC(), ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, fmt.Sprintf("%s is not a time", raw)
	}
	zone := time.FixedZone("", offset)
	layouts := []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}
	if day {
		layouts = []string{"2006-01-02"}
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return t.UTC(), ""
		}
	}
	want := "YYYY-MM-DDThh:mm"
	if day {
		want = "YYYY-MM-DD"
	}
	return time.Time{}, fmt.Sprintf("%q is not a time %s or Unix seconds", s, want)
}

// Place is a place people recognize, for labels.
type Place struct {
	Name     string
	Lat, Lon float64
}

// ReadPlaces reads a CSV of name,lat,lon (header row) naming places people recognize.
//
// Columns may come in any order, header names case-insensitive; names are
// non-empty printable text of at most MaxLabelBytes bytes (they become
// labels). Problems are reported like ReadCSV's.
func ReadPlaces(name string, r io.Reader) ([]Place, error) {
	errs := &errList{name: name}
	cr := newCSVReader(r)
	known := []string{"name", "lat", "lon"}
	cols, hl := readHeader(cr, errs, known, "name,lat,lon")
	if cols == nil {
		return nil, errs.err()
	}
	for _, c := range known {
		if !hasKey(cols, c) {
			errs.add(hl, "no %s column: want name,lat,lon", c)
		}
	}
	if len(errs.errs) > 0 {
		return nil, errs.err()
	}
	var places []Place
	eachRecord(cr, errs, func(rec []string, line int) {
		if allEmpty(rec) {
			return
		}
		if len(rec) != len(cols) {
			errs.add(line, "%d cells, but the header has %d columns", len(rec), len(cols))
			return
		}
		p := Place{Name: strings.TrimSpace(rec[cols["name"]])}
		n := len(errs.errs) + errs.more
		switch {
		case p.Name == "":
			errs.add(line, "name is empty")
		case len(p.Name) > MaxLabelBytes:
			errs.add(line, "name is %d bytes, more than %d", len(p.Name), MaxLabelBytes)
		case !printable(p.Name):
			errs.add(line, "name %q is not printable UTF-8 text", p.Name)
		}
		latS, lonS := strings.TrimSpace(rec[cols["lat"]]), strings.TrimSpace(rec[cols["lon"]])
		var lat, lon float64
		if errs.coord(line, "lat", latS, &lat) {
			if lat >= -90 && lat <= 90 {
				p.Lat = lat
			} else {
				errs.add(line, "lat %q is not a latitude in [-90, 90]", latS)
			}
		}
		if errs.coord(line, "lon", lonS, &lon) {
			if lon >= -180 && lon <= 180 {
				p.Lon = lon
			} else {
				errs.add(line, "lon %q is not a longitude in [-180, 180]", lonS)
			}
		}
		if len(errs.errs)+errs.more == n {
			places = append(places, p)
		}
	})
	if err := errs.err(); err != nil {
		return nil, err
	}
	return places, nil
}

// Nearest returns the place nearest to (lat, lon) and its great-circle
// distance in km; ok is false when places is empty. Ties go to the first.
func Nearest(places []Place, lat, lon float64) (p Place, km float64, ok bool) {
	best := math.Inf(1)
	for _, q := range places {
		if d := distanceKm(lat, lon, q.Lat, q.Lon); d < best {
			best, p, ok = d, q, true
		}
	}
	return p, best, ok
}

// distanceKm is the haversine great-circle distance on a sphere of the
// Earth's mean radius.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
