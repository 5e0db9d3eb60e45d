package geo

// tz_table.go is generated from this machine's tzdata (Debian's tzdata
// package, /usr/share/zoneinfo) and the curated tables of gen/tz/main.go; a
// test fails when it is not what the generator makes of the tzdata here.
//go:generate go run ./gen/tz

// RegionOfTimeZone returns the ISO 3166-1 alpha-2 country and, when the zone lies wholly inside one
// ISO 3166-2 first-level subdivision, that subdivision ("" otherwise), for an IANA time zone name
// as browsers report it (canonical or a backward link name). languages are BCP 47 tags in the
// person's order of preference; they only choose among the countries a zone is shared by, never
// add a country the zone does not cover. ok is false for unknown zones and for zones that say
// nothing about a country (Etc/UTC, Etc/GMT+3, UTC, "").
//
// A name zone.tab lists has that one country (Europe/Amsterdam is NL,
// Asia/Kuwait is KW, whatever tzdb links them to now), and languages do not
// change it. Only a link name zone.tab does not list can be shared: it gets
// the countries of the zone it links to (GB → Europe/London: GB, GG, IM, JE),
// and the first language whose region subtag is one of them picks it ("GB"
// with "en-JE" is JE); with none, the zone's main country (zone1970.tab lists
// the most populous first) is the answer. The subdivision belongs to the
// main country only. Names match exactly, as browsers report them (case
// included); language tags in any case. No allocation; never panics.
func RegionOfTimeZone(zone string, languages []string) (country, subdivision string, ok bool) {
	d := tzFind(zone)
	if d == "" {
		return "", "", false
	}
	// d is the main country, "-SUB" if it has a subdivision, then ",CC"
	// for every other country the name is shared by.
	end := 2
	for end < len(d) && d[end] != ',' {
		end++
	}
	if end < len(d) {
		for _, tag := range languages {
			r := tagRegion(tag)
			if r == "" {
				continue
			}
			if r[0]&^0x20 == d[0] && r[1]&^0x20 == d[1] { // &^0x20: upper case
				break
			}
			for i := end + 1; i+1 < len(d); i += 3 {
				if r[0]&^0x20 == d[i] && r[1]&^0x20 == d[i+1] {
					return d[i : i+2], "", true
				}
			}
		}
	}
	if end > 2 {
		subdivision = d[:end]
	}
	return d[:2], subdivision, true
}

// tzFind returns the data part of zone's record in tzTable, or "". The
// records are front-coded and sorted (see gen/tz/main.go), so the scan keeps
// m, the length of the prefix zone shares with the previous name, and
// compares only suffixes that start there: a name sharing more than m bytes
// with the previous one still sorts before zone, one sharing fewer after it.
func tzFind(zone string) string {
	t := tzTable
	m := 0
	for i := 0; i < len(t); {
		p := int(t[i]) - 'a'
		if p < m {
			break
		}
		i++
		j := i
		for j < len(t) && t[j] != '=' {
			j++
		}
		k := j + 1
		for k < len(t) && (t[k] < 'a' || t[k] > 'z') {
			k++
		}
		if p == m && k <= len(t) {
			s := t[i:j]
			n := 0
			for n < len(s) && m+n < len(zone) && s[n] == zone[m+n] {
				n++
			}
			if n < len(s) && (m+n == len(zone) || s[n] > zone[m+n]) {
				break // this name sorts after zone
			}
			m += n
			if n == len(s) && m == len(zone) {
				return t[j+1 : k]
			}
		}
		i = k
	}
	return ""
}

// tagRegion returns the region subtag of a BCP 47 language tag ("en-US",
// "zh-Hant-TW", "sr-Latn-RS"; "_" is taken for "-") if it is two letters,
// else "". Numeric regions ("es-419") are no country.
func tagRegion(tag string) string {
	for i, n := 0, 0; i < len(tag); n++ {
		j := i
		for j < len(tag) && tag[j]|0x20 >= 'a' && tag[j]|0x20 <= 'z' { // ASCII letters
			j++
		}
		if j < len(tag) && tag[j] != '-' && tag[j] != '_' {
			return ""
		}
		switch l := j - i; {
		case n == 0:
			if l < 2 || l > 8 { // "x-…", "i-…": no language subtag
				return ""
			}
		case l == 2:
			return tag[i:j]
		case l != 3 && l != 4: // only extlang or script come before the region
			return ""
		}
		i = j + 1
	}
	return ""
}
