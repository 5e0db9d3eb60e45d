package engine

import "slices"

// Preferences are the person's consent and privacy choices. The engine
// enforces them; they can be set before a ruleset is loaded, survive
// load_ruleset and persist in the profile snapshot.
//
// set_preferences replaces every choice at once: a field left out takes its
// default (sharing "on-device", history and location true, no hidden
// interests, frequency "normal", gpc false).
//
//   - Sharing is "off", "on-device" or "cohorts". "off" stores nothing:
//     moving to it erases the profile (events and impressions) at once,
//     the context keeps only now (no location, weather or other signals),
//     observe and record_impressions are refused with CodeConsent, and
//     decide shows every slot's fallback items (fallback: true). Only
//     "cohorts" lets Report make cohort reports (see report.go); "off" also
//     erases the report ledger.
//   - GPC is the browser's Global Privacy Control signal. It forces no
//     reporting: the effective sharing is at most "on-device", whatever
//     was asked, and GPCApplied says when it lowered the level.
//   - History false erases the events at once and refuses observe with
//     CodeConsent; interest, viewed and purchased conditions never hold and
//     every affinity is zero, so only rules and fallbacks pick items.
//   - Location false drops country, subdivision, regions and coordinates
//     from the context, as if the ruleset did not declare location.
//   - HiddenInterests are tags that never influence a decision: their
//     affinity is zero, interest conditions on them never hold, and
//     interest events (all but dismiss) on items carrying only hidden tags
//     are ignored by decide (no affinity, not seen, no viewed or purchased
//     condition, not the time of day). Dismissals are still honored. Tags
//     the ruleset does not know are kept but have no effect.
//   - Frequency "low", "normal" or "high" scales every cap's per_day and
//     per_week: low halves them (rounded down, at least 1), high multiplies
//     them by 1.5 (rounded down).
type Preferences struct {
	Sharing         string   `msgpack:"sharing,omitempty" json:"sharing,omitempty"`
	History         *bool    `msgpack:"history,omitempty" json:"history,omitempty"`
	Location        *bool    `msgpack:"location,omitempty" json:"location,omitempty"`
	HiddenInterests []string `msgpack:"hidden_interests,omitempty" json:"hidden_interests,omitempty"`
	Frequency       string   `msgpack:"frequency,omitempty" json:"frequency,omitempty"`
	GPC             bool     `msgpack:"gpc,omitempty" json:"gpc,omitempty"`
}

// EffectivePreferences are the preferences as the engine applies them.
type EffectivePreferences struct {
	Sharing         string   `msgpack:"sharing" json:"sharing"`
	History         bool     `msgpack:"history" json:"history"`
	Location        bool     `msgpack:"location" json:"location"`
	HiddenInterests []string `msgpack:"hidden_interests" json:"hidden_interests"`
	Frequency       string   `msgpack:"frequency" json:"frequency"`
	GPC             bool     `msgpack:"gpc" json:"gpc"`
	// GPCApplied is true when the GPC signal lowered the sharing asked for.
	GPCApplied bool `msgpack:"gpc_applied" json:"gpc_applied"`
}

// Sharing levels and frequencies.
const (
	SharingOff      = "off"
	SharingOnDevice = "on-device"
	SharingCohorts  = "cohorts"

	FrequencyLow    = "low"
	FrequencyNormal = "normal"
	FrequencyHigh   = "high"
)

var (
	sharingValues   = []string{SharingOff, SharingOnDevice, SharingCohorts}
	frequencyValues = []string{FrequencyLow, FrequencyNormal, FrequencyHigh}
)

// MaxHiddenInterests bounds preferences.hidden_interests.
const MaxHiddenInterests = 256

// prefs are the stored preferences; the zero value is the defaults.
type prefs struct {
	sharing    string // as asked; "" is on-device
	noHistory  bool
	noLocation bool
	hidden     []string
	frequency  string // "" is normal
	gpc        bool
}

func (p *prefs) effectiveSharing() string {
	s := p.sharing
	if s == "" {
		s = SharingOnDevice
	}
	if p.gpc && s == SharingCohorts {
		s = SharingOnDevice
	}
	return s
}

func (p *prefs) off() bool { return p.effectiveSharing() == SharingOff }

// storesEvents reports whether observe may keep events.
func (p *prefs) storesEvents() bool { return !p.off() && !p.noHistory }

func (p *prefs) effective() EffectivePreferences {
	f := p.frequency
	if f == "" {
		f = FrequencyNormal
	}
	s := p.sharing
	if s == "" {
		s = SharingOnDevice
	}
	hidden := slices.Clone(p.hidden)
	if hidden == nil {
		hidden = []string{}
	}
	return EffectivePreferences{
		Sharing: p.effectiveSharing(), History: !p.noHistory, Location: !p.noLocation,
		HiddenInterests: hidden, Frequency: f, GPC: p.gpc,
		GPCApplied: p.gpc && s == SharingCohorts,
	}
}

// public returns p in the form SetPreferences takes, every field given.
func (p *prefs) public() Preferences {
	e := p.effective()
	s := p.sharing
	if s == "" {
		s = SharingOnDevice
	}
	return Preferences{Sharing: s, History: &e.History, Location: &e.Location, HiddenInterests: slices.Clone(p.hidden), Frequency: e.Frequency, GPC: p.gpc}
}

// parsePrefs validates p, naming the first bad field.
func parsePrefs(p Preferences) (prefs, error) {
	bad := func(field, msg string) error {
		return &Error{Code: CodeBadRequest, Message: "preferences." + field + " " + msg}
	}
	var out prefs
	if p.Sharing != "" && !slices.Contains(sharingValues, p.Sharing) {
		return out, bad("sharing", quote(p.Sharing)+" is not one of "+quoteList(sharingValues))
	}
	if p.Frequency != "" && !slices.Contains(frequencyValues, p.Frequency) {
		return out, bad("frequency", quote(p.Frequency)+" is not one of "+quoteList(frequencyValues))
	}
	if len(p.HiddenInterests) > MaxHiddenInterests {
		return out, bad("hidden_interests", "lists "+itoa(len(p.HiddenInterests))+" tags; at most "+itoa(MaxHiddenInterests))
	}
	for _, t := range p.HiddenInterests {
		if t == "" || len(t) > MaxIDBytes {
			return out, bad("hidden_interests", "holds an empty tag or one longer than "+itoa(MaxIDBytes)+" bytes")
		}
		if !slices.Contains(out.hidden, t) {
			out.hidden = append(out.hidden, t)
		}
	}
	if p.Sharing != SharingOnDevice {
		out.sharing = p.Sharing
	}
	if p.Frequency != FrequencyNormal {
		out.frequency = p.Frequency
	}
	out.noHistory = p.History != nil && !*p.History
	out.noLocation = p.Location != nil && !*p.Location
	out.gpc = p.GPC
	return out, nil
}

// SetPreferences replaces the person's preferences (see Preferences) and
// applies them at once: lowering a level erases what it no longer allows.
// It works with or without a ruleset loaded.
func (e *Engine) SetPreferences(p Preferences) (EffectivePreferences, error) {
	np, err := parsePrefs(p)
	if err != nil {
		return EffectivePreferences{}, err
	}
	e.setPrefs(np)
	return e.prefs.effective(), nil
}

// Preferences returns the preferences in effect.
func (e *Engine) Preferences() EffectivePreferences { return e.prefs.effective() }

// setPrefs stores np and enforces it on the profile and context.
func (e *Engine) setPrefs(np prefs) {
	e.prefs = np
	e.gen++
	e.profileGen++
	e.enforcePrefs()
}

// enforcePrefs erases what the preferences do not allow to be kept and
// derives the hidden tags and items for the active ruleset.
func (e *Engine) enforcePrefs() {
	if e.prefs.off() {
		e.endArms(e.now())
		e.profile = profile{}
		e.context = Context{Now: e.context.Now}
	} else if e.prefs.noHistory {
		e.profile.events = nil
	}
	if e.prefs.noLocation {
		e.context = dropLocation(e.context)
	}
	e.hiddenTag, e.hiddenItem = nil, nil
	c := e.rules
	if c == nil || len(e.prefs.hidden) == 0 {
		return
	}
	e.hiddenTag = make([]bool, len(c.tags))
	any := false
	for _, t := range e.prefs.hidden {
		if n, ok := c.tagIndex[t]; ok {
			e.hiddenTag[n], any = true, true
		}
	}
	if !any {
		e.hiddenTag = nil
		return
	}
	e.hiddenItem = make([]bool, len(c.items))
	for i, tags := range c.itemTags {
		all := len(tags) > 0
		for _, t := range tags {
			if !e.hiddenTag[t] {
				all = false
				break
			}
		}
		e.hiddenItem[i] = all
	}
}

// ignored reports whether decide ignores event ev on item number idx: an
// interest event on an item whose tags are all hidden interests.
func (e *Engine) ignored(ev *Event, idx int32) bool {
	return e.hiddenItem != nil && e.hiddenItem[idx] && ev.Type != EventDismiss
}

func dropLocation(c Context) Context {
	c.Country, c.Subdivision, c.Regions, c.Location, c.Geohash = "", "", nil, nil, ""
	c.TimeZone, c.Languages = "", nil
	return c
}

// scaleCap applies the frequency preference to a cap limit n > 0.
func (p *prefs) scaleCap(n int) int {
	switch p.frequency {
	case FrequencyLow:
		return max(1, n/2)
	case FrequencyHigh:
		return n * 3 / 2
	}
	return n
}

func errConsent(what string) error {
	return &Error{Code: CodeConsent, Message: what + " because of the person's preferences"}
}
