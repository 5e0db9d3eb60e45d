package engine

import (
	"math"
	"slices"

	"github.com/edgewise/edgewise/engine/geo"
)

// coarsen replaces c.Location with what the ruleset may use: the country and
// first-level subdivision under the point, and the ids of the ruleset's
// regions that contain it, and its geohash cell of 3 characters. The coordinates themselves go no further than this
// function. Values the host supplied explicitly win over looked-up ones.
func (e *Engine) coarsen(c *Context) error {
	lat, lon := c.Location.Lat, c.Location.Lon
	// Zero the decoded copy too: the host's memory should not keep the
	// coordinates after this call, only what they were coarsened to.
	*c.Location = Coordinates{}
	c.Location = nil
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return &Error{Code: CodeBadRequest, Message: "context.location must be a latitude in [-90, 90] and a longitude in [-180, 180]"}
	}
	if e.rules != nil && !e.rules.declared[SignalLocation] {
		return nil // not declared: not even looked up
	}
	if c.Country == "" {
		if table, err := geo.Default(); err == nil {
			if country, sub, ok := table.Lookup(lat, lon); ok {
				c.Country = country
				if c.Subdivision == "" {
					c.Subdivision = sub
				}
			}
		}
	}
	hash := geohash(lat, lon, 3)
	if c.Geohash == "" {
		c.Geohash = hash
	}
	if e.rules == nil {
		return nil
	}
	for _, r := range e.rules.regions {
		if slices.Contains(c.Regions, r.ID) || len(c.Regions) >= MaxContextRegions {
			continue
		}
		if regionContains(r, lat, lon, hash) {
			c.Regions = append(c.Regions, r.ID)
		}
	}
	return nil
}

// regionContains reports whether a point lies in one of a region's boxes or
// geohash cells. Countries and subdivisions are matched by code elsewhere.
func regionContains(r Region, lat, lon float64, hash string) bool {
	for _, b := range r.Boxes {
		if lat >= b.South && lat <= b.North && lon >= b.West && lon <= b.East {
			return true
		}
	}
	for _, cell := range r.Geohashes {
		if len(cell) <= len(hash) && hash[:len(cell)] == cell {
			return true
		}
	}
	return false
}

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// Geohash encodes a point as a geohash of n characters (1 to 12): Geohash
// (48.86, 2.35, 3) is "u09", the cell a feed keys Paris by. It returns ""
// for n out of range or a point outside [-90, 90] × [-180, 180]. Feed
// builds place points with it, so they and the device agree on every cell.
func Geohash(lat, lon float64, n int) string {
	if n < 1 || n > 12 || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
		return ""
	}
	return geohash(lat, lon, n)
}

// geohash is Geohash for a point and length already checked: coarsen's.
// The checks are not repeated here, where every visitor's engine pays for
// their code (about 2 KiB of brotli, measured).
func geohash(lat, lon float64, n int) string {
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	out := make([]byte, 0, n)
	even, bit, ch := true, 0, 0
	for len(out) < n {
		if even {
			mid := (lonLo + lonHi) / 2
			if lon >= mid {
				ch = ch<<1 | 1
				lonLo = mid
			} else {
				ch <<= 1
				lonHi = mid
			}
		} else {
			mid := (latLo + latHi) / 2
			if lat >= mid {
				ch = ch<<1 | 1
				latLo = mid
			} else {
				ch <<= 1
				latHi = mid
			}
		}
		even = !even
		if bit++; bit == 5 {
			out = append(out, geohashAlphabet[ch])
			bit, ch = 0, 0
		}
	}
	return string(out)
}

// regionOfTimeZone derives the country and, where the zone lies in one, the
// subdivision from the browser's time zone and languages, when neither
// coordinates nor the host gave a place, and drops both inputs: like
// coordinates they go no further than this function.
func (e *Engine) regionOfTimeZone(c *Context) {
	zone, languages := c.TimeZone, c.Languages
	c.TimeZone, c.Languages = "", nil
	if zone == "" || c.Country != "" || c.Subdivision != "" {
		return
	}
	if e.rules != nil && !e.rules.declared[SignalLocation] {
		return // not declared: not even looked up
	}
	if country, sub, ok := geo.RegionOfTimeZone(zone, languages); ok {
		c.Country, c.Subdivision = country, sub
	}
}
