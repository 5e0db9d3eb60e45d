package engine

import "slices"

// Context signals. The page supplies them with set_context; the engine
// validates the enumerations and keeps only the fields whose signal kind the
// active ruleset declares (see minimize). Which kind each field belongs to:
//
//	weather                               weather
//	daypart, weekday, tz_offset_minutes   time
//	device                                device
//	referrer                              referrer
//	page_section                          page
//	visits                                visits
//	country, subdivision, regions,        location
//	geohash (time_zone and languages
//	become country and subdivision)
//
// now is always kept: decay and retention need it whatever the ruleset says.

// MaxContextRegions bounds context.regions.
const MaxContextRegions = 64

// Bounds on what a browser says about its time zone and languages.
const (
	maxTimeZoneBytes = 64
	maxLanguages     = 16
	maxLanguageBytes = 35
)

// maxTZOffsetMinutes is the widest offset from UTC any time zone uses (UTC+14).
const maxTZOffsetMinutes = 14 * 60

// validateContext checks a context's values, naming the first bad field.
func validateContext(c Context) error {
	bad := func(field, msg string) error {
		return &Error{Code: CodeBadRequest, Message: "context." + field + " " + msg}
	}
	if c.Now < 0 {
		return bad("now", "must not be negative")
	}
	enums := []struct {
		field, val string
		allowed    []string
	}{
		{"weather", c.Weather, weatherValues},
		{"daypart", c.Daypart, daypartValues},
		{"weekday", c.Weekday, weekdayValues},
		{"device", c.Device, deviceValues},
		{"referrer", c.Referrer, referrerValues},
	}
	for _, e := range enums {
		if e.val != "" && !slices.Contains(e.allowed, e.val) {
			return bad(e.field, quote(e.val)+" is not one of "+quoteList(e.allowed))
		}
	}
	if c.TZOffsetMinutes < -maxTZOffsetMinutes || c.TZOffsetMinutes > maxTZOffsetMinutes {
		return bad("tz_offset_minutes", "is "+itoa(c.TZOffsetMinutes)+"; it must be between -840 and 840")
	}
	if c.Visits != nil && *c.Visits < 0 {
		return bad("visits", "must not be negative")
	}
	if c.Country != "" && !validCountry(c.Country) {
		return bad("country", quote(c.Country)+" is not an ISO 3166-1 alpha-2 code such as DE")
	}
	if c.Subdivision != "" && !validSubdivision(c.Subdivision) {
		return bad("subdivision", quote(c.Subdivision)+" is not an ISO 3166-2 code such as US-WA")
	}
	if c.Geohash != "" && (!validGeohash(c.Geohash) || len(c.Geohash) > MaxGeohashLength) {
		return bad("geohash", quote(c.Geohash)+" is not a geohash of 1 to 3 characters such as u09")
	}
	long := len(c.TimeZone) > maxTimeZoneBytes || len(c.Languages) > maxLanguages
	for _, l := range c.Languages {
		long = long || len(l) > maxLanguageBytes
	}
	if long {
		return bad("time_zone", "or languages is too long: a zone name of at most 64 bytes, and at most 16 language tags of 35")
	}
	if len(c.PageSection) > MaxIDBytes {
		return bad("page_section", "is longer than "+itoa(MaxIDBytes)+" bytes")
	}
	if len(c.Regions) > MaxContextRegions {
		return bad("regions", "lists "+itoa(len(c.Regions))+" regions; at most "+itoa(MaxContextRegions))
	}
	for _, r := range c.Regions {
		if len(r) > MaxIDBytes {
			return bad("regions", "holds an id longer than "+itoa(MaxIDBytes)+" bytes")
		}
	}
	return nil
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// minimize returns c with every field whose signal kind the ruleset does not
// declare cleared, so an undeclared signal is neither stored nor used.
func (c *compiledRuleset) minimize(ctx Context) Context {
	out := Context{Now: ctx.Now}
	if c.declared[SignalWeather] {
		out.Weather = ctx.Weather
	}
	if c.declared[SignalTime] {
		out.Daypart, out.Weekday, out.TZOffsetMinutes = ctx.Daypart, ctx.Weekday, ctx.TZOffsetMinutes
	}
	if c.declared[SignalDevice] {
		out.Device = ctx.Device
	}
	if c.declared[SignalReferrer] {
		out.Referrer = ctx.Referrer
	}
	if c.declared[SignalPage] {
		out.PageSection = ctx.PageSection
	}
	if c.declared[SignalVisits] && ctx.Visits != nil {
		v := *ctx.Visits
		out.Visits = &v
	}
	if c.declared[SignalLocation] {
		out.Country, out.Subdivision, out.Geohash = ctx.Country, ctx.Subdivision, ctx.Geohash
		out.Regions = slices.Clone(ctx.Regions)
	}
	return out
}

// sameContext reports whether a and b are the same context, field by
// field, including whether Regions and Visits are nil.
func sameContext(a, b Context) bool {
	return a.Now == b.Now && a.TZOffsetMinutes == b.TZOffsetMinutes &&
		a.Daypart == b.Daypart && a.Weekday == b.Weekday && a.Weather == b.Weather &&
		a.Device == b.Device && a.Referrer == b.Referrer && a.PageSection == b.PageSection &&
		(a.Visits == nil) == (b.Visits == nil) && (a.Visits == nil || *a.Visits == *b.Visits) &&
		a.Country == b.Country && a.Subdivision == b.Subdivision && a.Geohash == b.Geohash &&
		a.TimeZone == b.TimeZone && slices.Equal(a.Languages, b.Languages) &&
		(a.Regions == nil) == (b.Regions == nil) && slices.Equal(a.Regions, b.Regions) &&
		(a.Location == nil) == (b.Location == nil) && (a.Location == nil || *a.Location == *b.Location)
}

// moment is the context as decide reads it: the minimized context plus what
// the engine derives from now in the person's time zone.
type moment struct {
	Context
	now   int64 // the effective now (context's, else the newest event's)
	date  int   // the local date as YYYYMMDD, 0 when the time is unknown
	inReg []bool
	// feeds are what each of the ruleset's feeds says for the person now
	// (nil: none says anything); weatherFrom is the feed the weather came
	// from, nil when the host supplied it or nothing did.
	feeds       []feedValues
	weatherFrom *FeedSource
}

// newMoment derives daypart, weekday and the local date from now and the
// time zone offset. Values the host supplied win over derived ones. With no
// time at all (now 0 and no events) nothing is derived: daypart and weekday
// tests fail and scheduled items are not available.
func (e *Engine) newMoment() moment {
	m := moment{Context: e.rules.minimize(e.context), now: e.now()}
	if m.now > 0 {
		local := localTimeOf(m.now, m.TZOffsetMinutes)
		m.date = local.date()
		if m.Daypart == "" && e.rules.declared[SignalTime] {
			m.Daypart = daypartOf(local.hour)
		}
		if m.Weekday == "" && e.rules.declared[SignalTime] {
			m.Weekday = weekdayValues[local.weekday]
		}
	}
	m.inReg = e.rules.personRegions(m.Context)
	m.feeds = e.lookupFeeds(&m)
	if wf := e.rules.weatherFeed; m.Weather == "" && wf >= 0 && m.feeds != nil && e.rules.declared[SignalWeather] {
		if fv := m.feeds[wf]; len(fv.values) > 0 {
			m.Weather, m.weatherFrom = fv.values[0], &fv.source[0]
		}
	}
	return m
}

// daypartOf maps a local hour to a daypart: morning 5-12, afternoon 12-17,
// evening 17-22, night 22-5.
func daypartOf(hour int) string {
	switch {
	case hour >= 5 && hour < 12:
		return "morning"
	case hour >= 12 && hour < 17:
		return "afternoon"
	case hour >= 17 && hour < 22:
		return "evening"
	}
	return "night"
}

// personRegions says, per ruleset region, whether the person is in it: the
// host resolved it (context.regions), or the region lists the person's
// country or subdivision. A subdivision implies its country (US-WA is in
// US). With no location known, the person is in no region.
func (c *compiledRuleset) personRegions(ctx Context) []bool {
	if len(c.regions) == 0 {
		return nil
	}
	in := make([]bool, len(c.regions))
	country := ctx.Country
	if country == "" && len(ctx.Subdivision) > 2 {
		country = ctx.Subdivision[:2]
	}
	for i, r := range c.regions {
		in[i] = slices.Contains(ctx.Regions, r.ID) ||
			(ctx.Geohash != "" && slices.ContainsFunc(r.Geohashes, func(cell string) bool {
				return len(cell) <= len(ctx.Geohash) && ctx.Geohash[:len(cell)] == cell
			})) ||
			(country != "" && slices.Contains(r.Countries, country)) ||
			(ctx.Subdivision != "" && slices.Contains(r.Subdivisions, ctx.Subdivision))
	}
	return in
}
