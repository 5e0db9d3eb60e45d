package engine

import (
	"math/rand/v2"
	"testing"
	"time"
)

// wantLocal is what the time package says about ms at offsetMinutes: the
// reference localTimeOf must match.
func wantLocal(ms int64, offsetMinutes int) localTime {
	t := time.UnixMilli(ms).In(time.FixedZone("", offsetMinutes*60))
	return localTime{
		year: t.Year(), month: int(t.Month()), day: t.Day(),
		hour:    t.Hour(),
		weekday: (int(t.Weekday()) + 6) % 7, // time's week starts on Sunday
	}
}

// TestLocalTimeOfMatchesTime holds the civil-date arithmetic to the time
// package: around every day boundary of chosen years (leap and not,
// centuries, before 1970 and before year 1), at every offset from -14 h to
// +14 h in quarter hours, and at random instants across ±30,000 years.
func TestLocalTimeOfMatchesTime(t *testing.T) {
	check := func(ms int64, off int) {
		t.Helper()
		if got, want := localTimeOf(ms, off), wantLocal(ms, off); got != want {
			t.Fatalf("localTimeOf(%d, %d) = %+v, want %+v (%s)", ms, off, got, want,
				time.UnixMilli(ms).In(time.FixedZone("", off*60)).Format(time.RFC3339Nano))
		}
	}
	offsets := []int{0, 1, -1, 59, 60, -60, 330, 345, -210, 525, 780, -599, 840, -840}
	for off := -maxTZOffsetMinutes; off <= maxTZOffsetMinutes; off += 15 {
		offsets = append(offsets, off)
	}
	years := []int{-4801, -401, -400, -1, 0, 1, 4, 100, 1582, 1600, 1899, 1900, 1969, 1970, 1971,
		1972, 1999, 2000, 2023, 2024, 2025, 2026, 2100, 2400, 9999, 10000, 29999}
	for _, y := range years {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {6, 30}, {12, 31}} {
			day := time.Date(y, time.Month(md[0]), md[1], 0, 0, 0, 0, time.UTC).UnixMilli()
			for _, off := range offsets {
				for _, d := range []int64{-dayMillis - 1, -1, 0, 1, 3599999, 3600000, dayMillis - 1, dayMillis} {
					check(day+d-int64(off)*60000, off)
				}
			}
		}
	}
	// Every hour of four years around a leap day and a year boundary.
	from := time.Date(2023, 12, 30, 0, 0, 0, 0, time.UTC).UnixMilli()
	for ms := from; ms < from+4*366*dayMillis; ms += 3600000 {
		check(ms, 60)
		check(ms, -300)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const span = 30000 * 366 * dayMillis
	for range 200000 {
		check(r.Int64N(2*span)-span, r.IntN(2*maxTZOffsetMinutes+1)-maxTZOffsetMinutes)
	}
	// The instants the engine sees: now from a browser, this century.
	for range 200000 {
		check(r.Int64N(4102444800000), r.IntN(2*maxTZOffsetMinutes+1)-maxTZOffsetMinutes)
	}
}

// TestLocalTimeDate: the date is the number parseDate makes of the same
// day, so schedules compare with it.
func TestLocalTimeDate(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		off  int
		want string
	}{
		{0, 0, "1970-01-01"},
		{-1, 0, "1969-12-31"},
		{-1, 1, "1970-01-01"},
		{951782400000, 0, "2000-02-29"},
		{1767225599999, 0, "2025-12-31"},
		{1767225599999, 1, "2026-01-01"},
		{1767225600000, -840, "2025-12-31"},
		{1767225600000 - 14*3600000, 840, "2026-01-01"},
	} {
		want, ok := parseDate(tc.want)
		if !ok {
			t.Fatalf("parseDate(%q) failed", tc.want)
		}
		if got := localTimeOf(tc.ms, tc.off).date(); got != want {
			t.Errorf("localTimeOf(%d, %d).date() = %d, want %d", tc.ms, tc.off, got, want)
		}
	}
}

func TestFloorDiv(t *testing.T) {
	for _, tc := range []struct{ n, d, q, r int64 }{
		{7, 7, 1, 0}, {6, 7, 0, 6}, {0, 7, 0, 0}, {-1, 7, -1, 6}, {-7, 7, -1, 0}, {-8, 7, -2, 6},
	} {
		if q, r := floorDiv(tc.n, tc.d); q != tc.q || r != tc.r {
			t.Errorf("floorDiv(%d, %d) = %d, %d; want %d, %d", tc.n, tc.d, q, r, tc.q, tc.r)
		}
	}
}
