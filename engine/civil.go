package engine

// Civil time from Unix milliseconds, without the time package: the engine
// needs only the local date, hour and weekday of now, and the time package
// costs the wasm about 35 KB brotli (see RATIONALE.md, "Why civil-date
// arithmetic instead of the time package?").
//
// Dates are proleptic Gregorian, as the time package has them, with year 0
// before year 1. civilFromDays is Howard Hinnant's civil_from_days
// (https://howardhinnant.github.io/date_algorithms.html): days count in
// 400-year eras of 146,097 days, each starting on 1 March so that the leap
// day falls at the end of a year.

// localTime is a moment's wall clock in a fixed offset from UTC.
type localTime struct {
	year, month, day int // month 1-12, day 1-31
	hour             int // 0-23
	weekday          int // 0 is Monday, 6 Sunday, as weekdayValues
}

// localTimeOf returns the wall clock at Unix time ms (milliseconds, may be
// negative) in the zone offsetMinutes east of UTC.
func localTimeOf(ms int64, offsetMinutes int) localTime {
	ms += int64(offsetMinutes) * 60 * 1000
	days, rem := floorDiv(ms, dayMillis)
	var t localTime
	t.year, t.month, t.day = civilFromDays(days)
	t.hour = int(rem / (60 * 60 * 1000))
	_, wd := floorDiv(days+3, 7) // 1970-01-01 was a Thursday, 3 days after a Monday
	t.weekday = int(wd)
	return t
}

// date is t's date as the number YYYYMMDD, comparable with parseDate's.
func (t localTime) date() int { return t.year*10000 + t.month*100 + t.day }

// civilFromDays returns the date days after 1970-01-01.
func civilFromDays(days int64) (year, month, day int) {
	z := days + 719468 // days since 0000-03-01
	era, _ := floorDiv(z, 146097)
	doe := z - era*146097                                  // day of era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from 1 March, [0, 365]
	mp := (5*doy + 2) / 153                                // month from March, [0, 11]
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// floorDiv returns the quotient rounded toward negative infinity and the
// remainder, which is then never negative (d > 0).
func floorDiv(n, d int64) (q, r int64) {
	q, r = n/d, n%d
	if r < 0 {
		q, r = q-1, r+d
	}
	return q, r
}

// daysIn is the number of days in month m (1 to 12) of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
