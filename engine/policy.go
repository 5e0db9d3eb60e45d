package engine

import (
	"strings"

	"github.com/edgewise/edgewise/engine/textnorm"
)

// The privacy policy. Validate enforces it, so lint, build and the engine's
// load all refuse a ruleset that breaks it. The limits below are the ones the
// policy promises people; a ruleset cannot loosen them. Its sensitive
// categories are the one part checked only where rulesets are written and
// served (engine/lexicon, through engine/buildtime): the engine's load
// trusts the signature for them.
const (
	// MaxCohorts bounds the cohort catalogue: the product of the
	// dimensions' bucket counts. More cohorts means smaller ones, and a small
	// cohort comes close to naming a person.
	MaxCohorts = 256
	// WarnCohorts is where Validate starts warning: past it, few cohorts
	// reach min_k people, so most reports are suppressed or noise.
	WarnCohorts = 64
	// MaxCohortDimensions bounds how many properties of a person a cohort
	// combines.
	MaxCohortDimensions = 3
	// DefaultEpsilon is the local differential privacy budget per report
	// when a ruleset sets none; MaxEpsilon is the most a ruleset may set.
	DefaultEpsilon = 2
	MaxEpsilon     = 4
	// DefaultOutcomeEpsilon is the ε of one experiment outcome answer when
	// the experiment sets none; MaxOutcomeEpsilon bounds the ε of all of a
	// ruleset's outcome answers in one epoch together (RATIONALE.md, "How
	// much privacy does a year of reports spend?").
	DefaultOutcomeEpsilon = 1
	MaxOutcomeEpsilon     = 2
	// MaxExperiments bounds a ruleset's experiments.
	MaxExperiments = 8
	// MinK is the smallest min_k a ruleset may set; DefaultMinK applies when
	// it sets none.
	MinK        = 10
	DefaultMinK = 50
	// MinEpochDays is the shortest reporting epoch: at most one report a
	// week, whatever a ruleset says, so a person's reports spend at most
	// MaxEpsilon a week (RATIONALE.md, "Why a seven-day floor on the epoch?").
	// MaxEpochDays bounds reporting.epoch_days.
	MinEpochDays = 7
	MaxEpochDays = 90
	// MinBoxDegrees is the smallest side of a region box, about 100 km.
	MinBoxDegrees = 1
	// MaxGeohashLength is the longest geohash cell a region may name
	// (3 characters is about 156 km).
	MaxGeohashLength = 3
)

// Precise locations. Regions must be coarse, and no text may carry
// coordinates or a postcode.

// locationIn says what precise location s holds ("coordinates", "a
// postcode"), or "". Loose also counts bare 4- and 5-digit numbers, for
// texts that name places (region names, location attributes).
func locationIn(s string, loose bool) string {
	if !strings.ContainsAny(s, "0123456789") {
		return "" // every coordinate and postcode has a digit
	}
	if hasCoordinates(s) {
		return "coordinates"
	}
	if hasPostcode(s, loose) {
		return "a postcode"
	}
	return ""
}

// hasCoordinates finds two decimal numbers with at least three decimals,
// close together, that could be a latitude and a longitude.
func hasCoordinates(s string) bool {
	type num struct {
		v          float64
		start, end int
	}
	var prev *num
	for i := 0; i < len(s); {
		start := i
		j := i
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		d := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == d {
			i++
			continue
		}
		if j < len(s) && s[j] == '.' {
			f := j + 1
			k := f
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k-f >= 3 {
				// Degrees: the whole part is enough to tell a latitude.
				v := 0
				for _, c := range []byte(s[d:j]) {
					v = min(v*10+int(c-'0'), 1000)
				}
				n := num{float64(v), start, k}
				if prev != nil && n.start-prev.end <= 6 && prev.v < 90 && n.v < 180 {
					return true
				}
				prev = &n
				i = k
				continue
			}
		}
		i = j
	}
	return false
}

// Not "zip" alone: half-zip fleeces and zip pockets.
var postcodeWords = map[string]bool{"zipcode": true, "postcode": true, "postalcode": true, "plz": true, "postleitzahl": true, "codepostal": true, "codigopostal": true}

// hasPostcode finds US ZIP+4, UK and Canadian postcodes, any number next
// to a word such as "zip" or "postcode", and, when loose, bare 4- and
// 5-digit numbers (most of Europe's postcodes) that are not years.
func hasPostcode(s string, loose bool) bool {
	type tok struct {
		t          string
		start, end int
	}
	var toks []tok
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		toks = append(toks, tok{s[i:j], i, j})
		i = j
	}
	word := false
	var buf [32]byte
	for i, t := range toks {
		b := appendLower(buf[:0], t.t)
		if postcodeWords[string(b)] {
			word = true
		} else if i+1 < len(toks) && postcodeWords[string(appendLower(b, toks[i+1].t))] {
			word = true
		}
	}
	for i, t := range toks {
		digits := allDigits(t.t)
		// A number inside a decimal (12.50) is not a postcode.
		decimal := (t.start > 0 && (s[t.start-1] == '.' || s[t.start-1] == ',') && t.start > 1 && isDigit(s[t.start-2])) ||
			(t.end+1 < len(s) && (s[t.end] == '.' || s[t.end] == ',') && isDigit(s[t.end+1]))
		if digits && word && len(t.t) >= 3 && len(t.t) <= 6 {
			return true
		}
		var next tok
		gap := ""
		if i+1 < len(toks) {
			next = toks[i+1]
			gap = s[t.end:next.start]
		}
		if digits && len(t.t) == 5 && gap == "-" && allDigits(next.t) && len(next.t) == 4 {
			return true // ZIP+4
		}
		if gap == " " && ukOutward(t.t) && ukInward(next.t) {
			return true
		}
		if gap == " " && caPart(t.t, false) && caPart(next.t, true) {
			return true
		}
		if len(t.t) == 6 && caPart(t.t[:3], false) && caPart(t.t[3:], true) {
			return true
		}
		if !loose || !digits || decimal {
			continue
		}
		if len(t.t) == 5 {
			return true
		}
		if len(t.t) == 4 {
			if y := digitsValue(t.t); y < 1900 || y > 2099 {
				return true
			}
			if gap == " " && len(next.t) == 2 && isUpper(next.t[0]) && isUpper(next.t[1]) {
				return true // Dutch 1234 AB
			}
		}
	}
	return false
}

// ukOutward matches A9, A99, A9A, AA9, AA99, AA9A.
func ukOutward(t string) bool {
	if len(t) < 2 || len(t) > 4 || !isUpper(t[0]) {
		return false
	}
	i := 1
	if isUpper(t[i]) {
		i++
	}
	if i >= len(t) || !isDigit(t[i]) {
		return false
	}
	i++
	if i < len(t) && (isDigit(t[i]) || isUpper(t[i])) {
		i++
	}
	return i == len(t)
}

// ukInward matches 9AA, except clothing sizes like 2XL.
func ukInward(t string) bool {
	return len(t) == 3 && isDigit(t[0]) && isUpper(t[1]) && isUpper(t[2]) && t[1:] != "XL" && t[1:] != "XS"
}

// caPart matches a Canadian postcode half: A9A, or 9A9 for the second.
func caPart(t string, second bool) bool {
	if len(t) != 3 {
		return false
	}
	if second {
		return isDigit(t[0]) && isUpper(t[1]) && isDigit(t[2])
	}
	return isUpper(t[0]) && isDigit(t[1]) && isUpper(t[2])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isUpper(c) || ('a' <= c && c <= 'z') }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// appendLower appends s in lowercase ASCII, or nothing past 32 bytes: no
// postcode word is that long.
func appendLower(b []byte, s string) []byte {
	if len(b)+len(s) > 32 {
		return b[:0]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// locationKeys are attribute keys that name a precise location.
var locationKeys = map[string]bool{
	"zipcode": true, "postcode": true, "postalcode": true, "plz": true, "postleitzahl": true,
	"codepostal": true, "codigopostal": true, "lat": true, "latitude": true, "lon": true, "lng": true,
	"longitude": true, "latlng": true, "latlon": true, "latlong": true, "coords": true, "coordinates": true,
	"geolocation": true,
}

// locationKey reports whether an attribute key names a precise location.
func locationKey(k string) bool {
	var n textnorm.Normalizer
	var b strings.Builder
	for _, w := range n.Words(k) {
		b.WriteString(w.Squash)
	}
	return locationKeys[b.String()]
}
