package engine

import (
	"slices"
	"strconv"

	"github.com/edgewise/edgewise/internal/mp"
	"github.com/edgewise/edgewise/internal/wire"
)

// profile is the person's event history, oldest first, and the impressions
// caps count, oldest first.
type profile struct {
	events      []Event
	impressions []Impression
	// ledger records every cohort report made; reports holds the last
	// report per ruleset, returned again for the rest of its epoch; answers
	// are the memoized noised answers (see ldp.go).
	ledger  []LedgerEntry
	reports []Report
	answers []answer
	// exposures are the epochs the person saw experiments' slots in.
	exposures []Exposure
}

// addImpression inserts im in time order, then drops impressions more than
// window older than the newest and the oldest past MaxImpressions.
func (p *profile) addImpression(im Impression, window int64) {
	i := len(p.impressions)
	for i > 0 && p.impressions[i-1].At > im.At {
		i--
	}
	p.impressions = append(p.impressions, Impression{})
	copy(p.impressions[i+1:], p.impressions[i:])
	p.impressions[i] = im
	n := len(p.impressions)
	oldest := p.impressions[n-1].At - window
	cut := 0
	for cut < n && p.impressions[cut].At < oldest {
		cut++
	}
	cut = max(cut, n-MaxImpressions)
	if cut > 0 {
		clear(p.impressions[:cut]) // as in trim
		p.impressions = p.impressions[cut:]
	}
}

func (p *profile) keepImpressions(keep func(string) bool) {
	p.impressions = slices.DeleteFunc(p.impressions, func(im Impression) bool { return !keep(im.Item) })
}

func (p *profile) newest() int64 {
	if len(p.events) == 0 {
		return 0
	}
	return p.events[len(p.events)-1].At
}

// newestImpression is the time of the latest impression, or 0.
func (p *profile) newestImpression() int64 {
	var t int64
	for i := range p.impressions {
		t = max(t, p.impressions[i].At)
	}
	return t
}

// add inserts ev in time order, then drops events older than retention
// (measured from the newest event) and the oldest events past maxEvents.
func (p *profile) add(ev Event, retentionMillis int64, maxEvents int) {
	i := len(p.events)
	for i > 0 && p.events[i-1].At > ev.At {
		i--
	}
	p.events = append(p.events, Event{})
	copy(p.events[i+1:], p.events[i:])
	p.events[i] = ev
	p.trim(retentionMillis, maxEvents)
}

func (p *profile) trim(retentionMillis int64, maxEvents int) {
	cut := 0
	if n := len(p.events); n > 0 {
		oldest := p.events[n-1].At - retentionMillis
		for cut < n && p.events[cut].At < oldest {
			cut++
		}
		if n-cut > maxEvents {
			cut = n - maxEvents
		}
	}
	if cut > 0 {
		// Drop from the front by reslicing, not by moving every event
		// down one: events usually arrive in order and trim one at a time.
		// Appending reallocates once the capacity behind is used up, so
		// the copying is amortized, and the dropped events go with the
		// old array.
		clear(p.events[:cut])
		p.events = p.events[cut:]
	}
}

func (p *profile) keepOnly(keep func(Event) bool) {
	kept := p.events[:0]
	for _, ev := range p.events {
		if keep(ev) {
			kept = append(kept, ev)
		}
	}
	p.events = kept
}

// SnapshotVersion is the version of the profile snapshot format. A snapshot
// with a higher version was written by a newer engine and is refused.
// Version 2 added impressions, version 3 the person's preferences, version 4
// the report ledger and the reports of the current epochs, version 5 the
// memoized report answers, version 6 the report pauses that outlive an
// erased profile, version 7 experiment arms and exposures; version 1 to 6
// snapshots still load (versions 1 and 2 leave the preferences as they
// are).
const SnapshotVersion = 7

//go:generate go run ../internal/build/cmd/msgpgen -o msgp_gen.go -decode Ruleset,snapshot,Feed -encode snapshot

// snapshot is the persisted form of a profile: versioned msgpack, with events
// as compact [type, item, at] triples and impressions as [item, at] pairs.
type snapshot struct {
	Version     int             `msgpack:"v"`
	Ruleset     string          `msgpack:"ruleset"`
	Raw         []rawEvent      `msgpack:"events"`
	Impressions []rawImpression `msgpack:"impressions,omitempty"`
	Preferences *Preferences    `msgpack:"preferences,omitempty"`
	Ledger      []LedgerEntry   `msgpack:"ledger,omitempty"`
	Reports     []Report        `msgpack:"reports,omitempty"`
	Answers     []answer        `msgpack:"answers,omitempty"`
	Pauses      []ReportPause   `msgpack:"pauses,omitempty"`
	Arms        []Arm           `msgpack:"arms,omitempty"`
	Exposures   []Exposure      `msgpack:"exposures,omitempty"`
}

type rawImpression struct {
	_msgpack struct{} `msgpack:",as_array"`
	Item     string
	At       int64
}

type rawEvent struct {
	_msgpack struct{} `msgpack:",as_array"`
	Type     string
	Item     string
	At       int64
}

// Snapshot returns the profile as versioned msgpack that Restore accepts.
func (e *Engine) Snapshot() ([]byte, error) {
	if e.rules == nil {
		return nil, errNoRuleset()
	}
	s := snapshot{Version: SnapshotVersion, Ruleset: e.rules.id, Raw: make([]rawEvent, len(e.profile.events))}
	for i, ev := range e.profile.events {
		s.Raw[i] = rawEvent{Type: ev.Type, Item: ev.Item, At: ev.At}
	}
	for _, im := range e.profile.impressions {
		s.Impressions = append(s.Impressions, rawImpression{Item: im.Item, At: im.At})
	}
	p := e.prefs.public()
	s.Preferences = &p
	s.Ledger, s.Reports, s.Answers, s.Pauses = e.profile.ledger, e.profile.reports, e.profile.answers, e.pauses
	s.Arms, s.Exposures = e.arms, e.profile.exposures
	return mpAppendSnapshot(nil, &s), nil
}

// Restore replaces the profile with a snapshot. A corrupted, truncated or
// future-version snapshot leaves an empty profile and returns an error the
// host can report: a bad snapshot must never leave a half-restored profile.
// Events for items the active catalogue lacks are dropped, and retention is
// applied as on every write. A version 3 snapshot also restores the
// preferences, which then apply to what it holds (sharing off keeps nothing);
// an older one keeps the preferences in effect. A refused snapshot leaves the
// preferences as they were. A version 4 snapshot also restores the report
// ledger and the reports of the current epochs.
func (e *Engine) Restore(data []byte) (int, error) {
	if e.rules == nil {
		return 0, errNoRuleset()
	}
	e.gen++
	e.profileGen++
	e.profile = profile{}
	var s snapshot
	if err := wire.Read(data, func(r *mp.Reader) error { return mpDecodeSnapshot(r, &s) }); err != nil {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot cannot be decoded (" + err.Error() + "); the profile was reset"}
	}
	if s.Version > SnapshotVersion {
		return 0, &Error{Code: CodeSnapshotVersion, Message: "the profile snapshot has version " + strconv.Itoa(s.Version) + ", newer than this engine's " + strconv.Itoa(SnapshotVersion) + "; the profile was reset"}
	}
	if s.Version < 1 {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot has no version; the profile was reset"}
	}
	var p profile
	for _, r := range s.Raw {
		ev := Event{Type: r.Type, Item: r.Item, At: r.At}
		if _, ok := eventWeights[ev.Type]; !ok || ev.At <= 0 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid event; the profile was reset"}
		}
		if _, ok := e.rules.itemIndex[ev.Item]; !ok {
			continue
		}
		p.add(ev, e.rules.retentionMillis, e.rules.maxEvents)
	}
	if s.Version < 2 && len(s.Impressions) > 0 {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the version 1 profile snapshot holds impressions; the profile was reset"}
	}
	np := e.prefs
	if s.Preferences != nil {
		if s.Version < 3 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the version " + strconv.Itoa(s.Version) + " profile snapshot holds preferences; the profile was reset"}
		}
		var err error
		if np, err = parsePrefs(*s.Preferences); err != nil {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds invalid preferences; the profile was reset"}
		}
	}
	for _, r := range s.Impressions {
		if r.At <= 0 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid impression; the profile was reset"}
		}
		if i, ok := e.rules.itemIndex[r.Item]; ok && e.rules.capped[i] {
			p.addImpression(Impression{Item: r.Item, At: r.At}, e.rules.impressionWindow())
		}
	}
	if s.Version < 4 && (len(s.Ledger) > 0 || len(s.Reports) > 0) {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the version " + strconv.Itoa(s.Version) + " profile snapshot holds reports; the profile was reset"}
	}
	if s.Version < 5 && len(s.Answers) > 0 {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the version " + strconv.Itoa(s.Version) + " profile snapshot holds report answers; the profile was reset"}
	}
	for _, le := range s.Ledger {
		if le.Mechanism == "" || le.Epsilon < 0 || le.Epsilon > MaxEpsilon || le.Epoch < 0 || (le.Level < 1) == (le.Experiment == "") {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid ledger entry; the profile was reset"}
		}
		p.addLedger(le)
	}
	for _, r := range s.Reports {
		if r.Mechanism != MechanismKRR {
			continue // from an engine that sent other reports: drawn again
		}
		if !(r.Epsilon > 0) || r.Epoch < 0 || r.Value == nil || *r.Value < 0 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid report; the profile was reset"}
		}
		if len(p.reports) < maxStoredReports {
			p.reports = append(p.reports, r)
		}
	}
	for _, a := range s.Answers {
		if a.K < 1 || a.Cohort < 0 || a.Cohort >= a.K || a.Value < 0 || a.Value >= a.K || !(a.Epsilon > 0) {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid report answer; the profile was reset"}
		}
		if len(p.answers) < maxAnswers {
			p.answers = append(p.answers, a)
		}
	}
	if s.Version < 6 && len(s.Pauses) > 0 {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the version " + strconv.Itoa(s.Version) + " profile snapshot holds report pauses; the profile was reset"}
	}
	var pauses []ReportPause
	for _, pz := range s.Pauses {
		if pz.Ruleset == "" || pz.Until <= 0 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid report pause; the profile was reset"}
		}
		if len(pauses) < maxPauses {
			pauses = append(pauses, pz)
		}
	}
	if s.Version < 7 && len(s.Arms)+len(s.Exposures) > 0 {
		return 0, &Error{Code: CodeCorruptSnapshot, Message: "the version " + strconv.Itoa(s.Version) + " profile snapshot holds experiment arms; the profile was reset"}
	}
	for _, a := range s.Arms {
		if a.Ruleset == "" || a.Experiment == "" || a.Until < 0 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid experiment arm; the profile was reset"}
		}
	}
	for _, x := range s.Exposures {
		if x.Ruleset == "" || x.Experiment == "" || x.Epoch < 0 || x.Since <= 0 {
			return 0, &Error{Code: CodeCorruptSnapshot, Message: "the profile snapshot holds an invalid experiment exposure; the profile was reset"}
		}
	}
	if len(s.Arms) > maxArms {
		s.Arms = s.Arms[len(s.Arms)-maxArms:]
	}
	if len(s.Exposures) > maxExposures {
		s.Exposures = s.Exposures[len(s.Exposures)-maxExposures:]
	}
	p.exposures = s.Exposures
	e.profile = p
	e.prefs = np
	e.pauses = pauses
	e.arms = s.Arms
	e.enforcePrefs()
	return len(e.profile.events), nil
}
