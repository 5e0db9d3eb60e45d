package engine

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Severity says whether a problem stops a ruleset (error) or only deserves a
// look (warning). The engine refuses rulesets with errors; lint shows both.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem categories, stable for tests and tooling.
const (
	CategorySchema    = "schema"    // a value of the wrong shape or out of range
	CategoryReference = "reference" // an unknown item, tag, slot, region or signal
	CategoryDuplicate = "duplicate" // an id defined twice
	CategorySignal    = "signal"    // a rule uses a signal the ruleset does not declare
	CategoryRule      = "rule"      // a contradictory or unreachable rule
	CategoryPolicy    = "policy"    // the privacy policy: sensitive categories, precision, retention, cohort size
)

// Problem is one thing wrong with a ruleset. Path locates it in the ruleset's
// YAML/JSON tree in JSONPath form ($.catalogue[3].tags[1]), so the YAML front
// end can turn it into FILE:LINE:COL and the engine can name it without a file.
type Problem struct {
	Path     string   `json:"path"`
	Severity Severity `json:"severity"`
	Category string   `json:"category"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
	// DependsOn is the path of another value the problem was found from
	// (a warning comparing two fields), or "". A front end that could not
	// read that value drops the problem, which would only mislead.
	DependsOn string `json:"depends_on,omitempty"`
}

// SensitiveHit is a sensitive category a text reveals, as the lexicon
// found it.
type SensitiveHit struct {
	Category string // the category's name, for messages
	Term     string // the lexicon term that matched, as written there
}

// A SensitiveFunc returns the sensitive categories a text reveals, each
// once, in the order they first appear in it. The one implementation is the
// lexicon in engine/lexicon, which engine/buildtime passes in; the engine
// itself never links it.
type SensitiveFunc func(text string) []SensitiveHit

// Validate checks a ruleset against the format's rules and the privacy
// policy, and returns every problem found, in document order.
//
// sensitive is the sensitive-category check. Build-time code (lint, build,
// the playground, the collector) calls engine/buildtime.Validate, which
// passes the lexicon, so they all refuse the same things. With nil, the
// problems are exactly the full validation's minus the sensitive-category
// ones. The engine's load does not call Validate: it runs only the policy's
// numeric guards (guard.go), the same checks in the same words, and trusts
// the signature for the rest, since only a ruleset that passed them all is
// ever signed (RATIONALE.md, "Why does the device check only the policy's
// numbers?").
//
// It never panics, whatever the ruleset holds, and it is deterministic: the
// same ruleset gives the same problems in the same order.
func Validate(rs *Ruleset, sensitive SensitiveFunc) []Problem {
	return ValidateWith(rs, ValidateOptions{Sensitive: sensitive})
}

// ValidateOptions are the build-time helpers Validate can use; each may be
// nil. They live outside the engine so that it links none of them.
type ValidateOptions struct {
	// Sensitive is the sensitive-category check (see Validate).
	Sensitive SensitiveFunc
	// Suggest returns the option a misspelt name most likely meant, or "",
	// for the hints of unknown references ("did you mean ...?").
	Suggest func(name string, options []string) string
}

// ValidateWith is Validate with opts.
func ValidateWith(rs *Ruleset, opts ValidateOptions) []Problem {
	if rs == nil {
		rs = &Ruleset{}
	}
	v := newValidator(rs, opts.Sensitive)
	v.suggest = opts.Suggest
	v.ruleset()
	return v.ps
}

// Enumerations from the keywords in ruleset/schema_tags.go.
var (
	weatherValues  = []string{"clear", "cloudy", "rain", "snow", "storm", "hot", "cold"}
	daypartValues  = []string{"morning", "afternoon", "evening", "night"}
	weekdayValues  = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	deviceValues   = []string{"mobile", "tablet", "desktop"}
	referrerValues = []string{"direct", "search", "social", "email", "partner"}
	dimensionFroms = []string{DimensionInterest, DimensionRegion, DimensionEngagement}
)

// Length limits from the keywords in ruleset/schema_tags.go, in characters.
const (
	maxVersionChars     = 64
	maxTitleChars       = 256
	maxDescriptionChars = 500
	minPurposeChars     = 10
	maxPurposeChars     = 300
	maxReasonChars      = 200
	minDimensionBuckets = 2
	maxDimensionBuckets = 16
)

type validator struct {
	rs *Ruleset
	ps []Problem

	items     map[string]int // first catalogue index of each item id
	tags      map[string]bool
	campaigns map[string]bool
	regions   map[string]int
	slots     map[string]int
	kinds     map[string]int  // first signal index of each kind
	used      map[string]bool // signal kinds something uses
	history   *Signal

	// slotCands holds each slot's candidates as catalogue indexes, in
	// catalogue order; nil when its selector names something unknown.
	slotCands [][]int

	// lexicon is the sensitive-category check, nil on the device;
	// sensitive holds its answers per distinct text, within one call.
	lexicon SensitiveFunc
	// suggest finds a misspelt name's likely meaning (ValidateOptions).
	suggest   func(name string, options []string) string
	sensitive map[string][]SensitiveHit
}

func newValidator(rs *Ruleset, lexicon SensitiveFunc) *validator {
	v := &validator{
		rs:        rs,
		items:     make(map[string]int, len(rs.Catalogue)),
		tags:      map[string]bool{},
		campaigns: map[string]bool{},
		regions:   map[string]int{},
		slots:     map[string]int{},
		kinds:     map[string]int{},
		used:      map[string]bool{},
		lexicon:   lexicon,
	}
	if lexicon != nil {
		v.sensitive = make(map[string][]SensitiveHit, 2*len(rs.Catalogue))
	}
	for i, s := range rs.Signals {
		if _, ok := v.kinds[s.Kind]; !ok {
			v.kinds[s.Kind] = i
			if s.Kind == SignalHistory {
				v.history = &rs.Signals[i]
			}
		}
	}
	for i, r := range rs.Regions {
		if _, ok := v.regions[r.ID]; !ok {
			v.regions[r.ID] = i
		}
	}
	for i, it := range rs.Catalogue {
		if _, ok := v.items[it.ID]; !ok {
			v.items[it.ID] = i
		}
		for _, t := range it.Tags {
			v.tags[t] = true
		}
		if it.Campaign != "" {
			v.campaigns[it.Campaign] = true
		}
		if len(it.Regions) > 0 {
			v.used[SignalLocation] = true
		}
	}
	for i, s := range rs.Slots {
		if _, ok := v.slots[s.ID]; !ok {
			v.slots[s.ID] = i
		}
		var cands []int
		if v.known(s.Candidates) {
			cands = v.selectItems(s.Candidates, true)
		}
		v.slotCands = append(v.slotCands, cands)
	}
	// The engine learns interests from history whenever it ranks a slot.
	v.used[SignalHistory] = true
	for _, r := range rs.Rules {
		for kind := range conditionSignals(r.When) {
			v.used[kind] = true
		}
	}
	for _, f := range rs.Feeds {
		// A feed is joined with the person's region.
		v.used[SignalLocation] = true
		if f.Kind == FeedWeather {
			v.used[SignalWeather] = true
		}
	}
	for _, d := range rs.Cohorts.Dimensions {
		if k := dimensionSignal(d.From); k != "" {
			v.used[k] = true
		}
	}
	return v
}

// conditionSignals returns the signal kinds a condition reads.
func conditionSignals(c Condition) map[string]bool {
	k := map[string]bool{}
	if len(c.Weather) > 0 {
		k[SignalWeather] = true
	}
	if len(c.Region) > 0 {
		k[SignalLocation] = true
	}
	if len(c.Daypart) > 0 || len(c.Weekday) > 0 {
		k[SignalTime] = true
	}
	if len(c.Device) > 0 {
		k[SignalDevice] = true
	}
	if len(c.Referrer) > 0 {
		k[SignalReferrer] = true
	}
	if len(c.PageSection) > 0 {
		k[SignalPage] = true
	}
	if c.Visits != nil {
		k[SignalVisits] = true
	}
	if len(c.Interest) > 0 || c.Viewed != nil || c.Purchased != nil {
		k[SignalHistory] = true
	}
	if len(c.Feed) > 0 {
		k[SignalLocation] = true
	}
	return k
}

func dimensionSignal(from string) string {
	switch from {
	case DimensionInterest:
		return SignalHistory
	case DimensionRegion:
		return SignalLocation
	case DimensionEngagement:
		return SignalVisits
	}
	return ""
}

// Reporting problems.

// add is kept out of line: inlined, its append would be copied into each of
// the few hundred places that report a problem, and wasm pays for every copy.
//
//go:noinline
func (v *validator) add(path string, sev Severity, cat, msg, hint string) {
	v.ps = append(v.ps, Problem{Path: path, Severity: sev, Category: cat, Message: msg, Hint: hint})
}

func (v *validator) err(path, cat, msg, hint string)  { v.add(path, SeverityError, cat, msg, hint) }
func (v *validator) warn(path, cat, msg, hint string) { v.add(path, SeverityWarning, cat, msg, hint) }

// Paths and names.

//go:noinline
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// key appends an object key to a path: $.a.b, or $.a['b c'] when b is not
// a plain name.
func key(path, k string) string {
	plain := k != ""
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')) {
			plain = false
			break
		}
	}
	if plain {
		return path + "." + k
	}
	var b []byte
	for i := 0; i < len(k); i++ {
		if k[i] == '\\' || k[i] == '\'' {
			b = append(b, '\\')
		}
		b = append(b, k[i])
	}
	return path + "['" + string(b) + "']"
}

// name names a thing in messages: item "tent", or item catalogue[3] when
// it has no id.
func name(kind, id, path string) string {
	if id != "" {
		return kind + " " + quote(id)
	}
	return kind + " " + strings.TrimPrefix(path, "$.")
}

// idWho names a thing by its id, for problems with the id itself.
func idWho(kind, id string) string { return kind + " id " + quote(id) }

// clip shortens long texts quoted in messages.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return quote(s)
	}
	r := []rune(s)
	return quote(string(r[:57]) + "…")
}

func chars(s string) int { return utf8.RuneCountInString(s) }

// Helpers called from many places are kept out of line: wasm pays for every
// inlined copy.
//
//go:noinline
func itoa(i int) string { return strconv.Itoa(i) }

// count says n things: 1 bucket, 2 buckets.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return itoa(n) + " " + thing + "s"
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id)
	}
	return strings.Join(q, ", ")
}

// Ids.

const idHint = "use lowercase letters, digits, '-' and '_', starting with a letter or digit"
const idDotHint = "use lowercase letters, digits, '.', '-' and '_', starting with a letter or digit"

// validID matches ^[a-z0-9][a-z0-9_-]*$, or with dots ^[a-z0-9][a-z0-9._-]*$.
func validID(id string, dots bool) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || (i > 0 && (c == '_' || c == '-' || (dots && c == '.')))
		if !ok {
			return false
		}
	}
	return true
}

// checkID reports a missing, malformed or overlong id at path.
func (v *validator) checkID(path, what, id string, dots bool) {
	hint := idHint
	if dots {
		hint = idDotHint
	}
	switch {
	case id == "":
		v.err(path, CategorySchema, what+" has no id", "add an id: "+hint)
	case len(id) > MaxIDBytes:
		v.err(path, CategorySchema, what+" has an id longer than "+itoa(MaxIDBytes)+" characters", "shorten the id")
	case !validID(id, dots):
		v.err(path, CategorySchema, what+" has an invalid id "+quote(id), hint)
	}
}

// checkDup reports id at path when an earlier entry in seen has it.
func (v *validator) checkDup(path, kind, id string, seen map[string]string) {
	if id == "" {
		return
	}
	if first, ok := seen[id]; ok {
		v.err(path, CategoryDuplicate, kind+" id "+quote(id)+" is already used by "+strings.TrimPrefix(first, "$."), "give each "+kind+" its own id")
		return
	}
	seen[id] = strings.TrimSuffix(path, ".id")
}

// checkText reports invalid UTF-8 and lengths out of [min,max] characters; a
// zero max means no upper bound.
func (v *validator) checkText(path, what, s string, min, max int) {
	switch {
	case !utf8.ValidString(s):
		v.err(path, CategorySchema, what+" is not valid UTF-8", "save the file as UTF-8")
	case min > 0 && s == "":
		v.err(path, CategorySchema, what+" is missing", "add it")
	case chars(s) < min:
		v.err(path, CategorySchema, what+" is shorter than "+itoa(min)+" characters", "write at least "+itoa(min)+" characters")
	case max > 0 && chars(s) > max:
		v.err(path, CategorySchema, what+" is longer than "+itoa(max)+" characters ("+itoa(chars(s))+")", "shorten it to "+itoa(max)+" characters")
	}
}

func (v *validator) checkEnum(path, what, val string, allowed []string) {
	if !slices.Contains(allowed, val) {
		known := map[string]bool{}
		for _, a := range allowed {
			known[a] = true
		}
		v.err(path, CategorySchema, what+" "+quote(val)+" is not one of "+strings.Join(allowed, ", "), v.meant(val, known, "use one of "+strings.Join(allowed, ", ")))
	}
}

// boostHint fits the hint to a boost out of range: one above 10 is lowered,
// one at 1 or below was meant to lower scores, which is bury.
func boostHint(b float64) string {
	if b > 10 {
		return "lower boost to 10 or less; to lift items further, pin them"
	}
	return "boost multiplies scores by more than 1; to lower scores, use bury with a factor between 0 and 1"
}

// The privacy policy on texts.

// checkSensitive reports each sensitive category text reveals (nothing on
// the device, which has no lexicon). who names the thing, field the text
// within it ("" for the thing's id); verb is "reveals" for content and
// "targets" for conditions.
func (v *validator) checkSensitive(path, who, field, text, verb string) {
	if text == "" {
		return
	}
	hits := v.hits(text)
	if len(hits) == 0 {
		return
	}
	subject := who
	if field != "" {
		subject = who + " " + field + " " + clip(text)
	}
	for _, h := range hits {
		v.err(path, CategoryPolicy, subject+" "+verb+" a sensitive category: "+h.Category+" (matched "+quote(h.Term)+")",
			"Edgewise never personalizes on "+h.Category+"; reword or remove it. If the word means something harmless here, the lexicon's allowlist is in engine/lexicon (see its README)")
	}
}

// hits returns the sensitive categories text reveals, once per distinct
// text; none without a lexicon.
func (v *validator) hits(text string) []SensitiveHit {
	if v.lexicon == nil {
		return nil
	}
	hits, ok := v.sensitive[text]
	if !ok {
		hits = v.lexicon(text)
		v.sensitive[text] = hits
	}
	return hits
}

// clean reports whether text passes both text checks, so a caller can skip
// building the paths and names a problem would need.
func (v *validator) clean(text string) bool {
	return text == "" || (len(v.hits(text)) == 0 && locationIn(text, false) == "")
}

// checkLocation reports coordinates and postcodes in text.
func (v *validator) checkLocation(path, who, field, text string, loose bool) {
	if text == "" {
		return
	}
	if what := locationIn(text, loose); what != "" {
		subject := who
		if field != "" {
			subject = who + " " + field + " " + clip(text)
		}
		v.err(path, CategoryPolicy, subject+" contains "+what+"; rulesets may not hold precise locations",
			"name coarse areas only: countries, subdivisions, boxes of at least 1 degree, geohashes of at most 3 characters")
	}
}

// checkPolicyText runs both text checks: a thing's id or text field.
func (v *validator) checkPolicyText(path, who, field, text string) {
	v.checkSensitive(path, who, field, text, "reveals")
	v.checkLocation(path, who, field, text, false)
}

// Signals a thing needs.

func (v *validator) needSignal(path, who, uses, kind string) {
	if _, ok := v.kinds[kind]; ok {
		return
	}
	v.err(path, CategorySignal, who+" "+uses+", which needs a signal of kind "+kind+", and none is declared",
		"declare a "+kind+" signal under signals, with a purpose people will see, or remove the test")
}

// Selectors.

// known reports whether every name in sel exists.
func (v *validator) known(sel Selector) bool {
	for _, id := range sel.Items {
		if _, ok := v.items[id]; !ok {
			return false
		}
	}
	for _, t := range sel.Tags {
		if !v.tags[t] {
			return false
		}
	}
	for _, c := range sel.Campaigns {
		if !v.campaigns[c] {
			return false
		}
	}
	return true
}

// selectItems returns the catalogue indexes sel picks, in catalogue order.
// An empty selector picks everything when emptyAll, else nothing.
func (v *validator) selectItems(sel Selector, emptyAll bool) []int {
	cat := v.rs.Catalogue
	var out []int
	if sel.Empty() {
		if !emptyAll {
			return nil
		}
		out = make([]int, len(cat))
		for i := range cat {
			out[i] = i
		}
		return out
	}
	ids := setOf(sel.Items)
	tags := setOf(sel.Tags)
	camps := setOf(sel.Campaigns)
	for i, it := range cat {
		pick := ids[it.ID] || (it.Campaign != "" && camps[it.Campaign])
		for _, t := range it.Tags {
			if pick {
				break
			}
			pick = tags[t]
		}
		if pick {
			out = append(out, i)
		}
	}
	return out
}

func setOf(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// meant is the hint for an unknown name: "did you mean X?" when one of the
// known names is close, else otherwise.
func (v *validator) meant(name string, known map[string]bool, otherwise string) string {
	if v.suggest == nil || len(known) == 0 {
		return otherwise
	}
	options := make([]string, 0, len(known))
	for k := range known {
		options = append(options, k)
	}
	slices.Sort(options) // ties go to the same name every time
	if s := v.suggest(name, options); s != "" {
		return "did you mean " + quote(s) + "?"
	}
	return otherwise
}

// keysOf is the set of a map's keys.
func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// checkSelector reports names in sel that match nothing; names starts the
// messages (slot "hero" candidates name).
func (v *validator) checkSelector(path, names string, sel Selector) {
	for k, id := range sel.Items {
		if _, ok := v.items[id]; !ok {
			v.err(index(path+".items", k), CategoryReference, names+" item "+quote(id)+", which is not in the catalogue",
				v.meant(id, keysOf(v.items), "add the item to the catalogue, or fix the id"))
		}
	}
	for k, t := range sel.Tags {
		v.checkTag(index(path+".tags", k), names, t)
	}
	for k, c := range sel.Campaigns {
		if !v.campaigns[c] {
			v.err(index(path+".campaigns", k), CategoryReference, names+" campaign "+quote(c)+", which no catalogue item belongs to",
				v.meant(c, v.campaigns, "set campaign: "+c+" on the items, or fix the name"))
		}
	}
}

func (v *validator) checkTag(path, what, tag string) {
	if !v.tags[tag] {
		v.err(path, CategoryReference, what+" tag "+quote(tag)+", which no catalogue item carries",
			v.meant(tag, v.tags, "check the spelling, or tag an item with it"))
	}
}

func (v *validator) checkRegionRef(path, what, id string) {
	if _, ok := v.regions[id]; !ok {
		v.err(path, CategoryReference, what+" region "+quote(id)+", which is not declared under regions",
			v.meant(id, keysOf(v.regions), "declare the region under regions, or fix the id"))
	}
}

// The walk, in document order.

func (v *validator) ruleset() {
	rs := v.rs
	v.checkID("$.id", "the ruleset", rs.ID, true)
	if rs.Version == "" {
		v.err("$.version", CategorySchema, "the ruleset has no version", "add version, such as \"2025.1\"; previews and reports show it")
	} else {
		v.checkText("$.version", "the ruleset's version", rs.Version, 1, maxVersionChars)
	}
	v.checkText("$.description", "the ruleset's description", rs.Description, 0, maxDescriptionChars)
	v.profile()
	v.signals()
	v.regionList()
	v.feedList()
	v.catalogue()
	v.slotList()
	v.rules()
	v.caps()
	v.cohorts()
	v.reporting()
	v.experiments()
}

func (v *validator) profile() {
	p := v.rs.Profile
	if h := p.HalfLifeDays; h != 0 && !(h > 0 && h <= 365) {
		v.err("$.profile.half_life_days", CategorySchema, "profile half_life_days is "+ftoa(h)+"; it must be more than 0 and at most 365",
			"leave it out for the default of "+itoa(DefaultHalfLifeDays)+" days")
	}
	switch m := p.MaxEvents; {
	case m < 0:
		v.err("$.profile.max_events", CategorySchema, "profile max_events is "+itoa(m)+"; it must be at least 1",
			"leave it out for the default of "+itoa(DefaultMaxEvents))
	case m > MaxEventsLimit:
		v.err("$.profile.max_events", CategoryPolicy, "profile max_events is "+itoa(m)+"; the privacy policy keeps at most "+itoa(MaxEventsLimit)+" events on a device",
			"lower it to "+itoa(MaxEventsLimit)+" or less, or leave it out for the default of "+itoa(DefaultMaxEvents))
	}
}

func (v *validator) signals() {
	seen := map[string]string{}
	kinds := map[string]int{}
	for i, s := range v.rs.Signals {
		p := index("$.signals", i)
		who := name("signal", s.ID, p)
		if slices.Contains(SignalKinds, s.Kind) && !v.used[s.Kind] {
			if first, ok := v.kinds[s.Kind]; ok && first == i {
				v.warn(p, CategorySignal, who+" ("+s.Kind+") is declared but nothing uses it",
					"remove it: declare only the signals a rule, region or cohort needs")
			}
		}
		v.checkID(p+".id", who, s.ID, false)
		v.checkDup(p+".id", "signal", s.ID, seen)
		v.checkPolicyText(p+".id", idWho("signal", s.ID), "", s.ID)
		switch {
		case s.Kind == "":
			v.err(p+".kind", CategorySchema, who+" has no kind", "set kind to one of "+strings.Join(SignalKinds, ", "))
		case !slices.Contains(SignalKinds, s.Kind):
			v.checkEnum(p+".kind", who+" kind", s.Kind, SignalKinds)
		default:
			if first, dup := kinds[s.Kind]; dup {
				v.err(p+".kind", CategoryDuplicate, who+" declares kind "+s.Kind+" again; "+name("signal", v.rs.Signals[first].ID, index("$.signals", first))+" already does",
					"declare each kind once")
			} else {
				kinds[s.Kind] = i
			}
		}
		if s.Purpose == "" {
			v.err(p+".purpose", CategorySchema, who+" has no purpose", "say in one sentence what the signal is used for; people see it")
		} else {
			v.checkText(p+".purpose", who+" purpose", s.Purpose, minPurposeChars, maxPurposeChars)
			v.checkPolicyText(p+".purpose", who, "purpose", s.Purpose)
		}
		v.retention(p, who, s.RetentionDays)
	}
}

// retention checks a signal's retention_days, a policy guard.
func (v *validator) retention(p, who string, r int) {
	switch {
	case r < 0:
		v.err(p+".retention_days", CategorySchema, who+" retention_days is "+itoa(r)+"; it must be 0 or more", "use 0 to use the signal without storing it")
	case r > MaxRetentionDays:
		v.err(p+".retention_days", CategoryPolicy, who+" keeps data for "+itoa(r)+" days; the privacy policy allows at most "+itoa(MaxRetentionDays),
			"lower retention_days to "+itoa(MaxRetentionDays)+" or less")
	}
}

func (v *validator) regionList() {
	seen := map[string]string{}
	for i, r := range v.rs.Regions {
		p := index("$.regions", i)
		who := name("region", r.ID, p)
		if len(r.Countries)+len(r.Subdivisions)+len(r.Boxes)+len(r.Geohashes) == 0 {
			v.err(p, CategorySchema, who+" names no area", "list countries, subdivisions, boxes or geohashes")
		}
		v.checkID(p+".id", who, r.ID, false)
		v.checkDup(p+".id", "region", r.ID, seen)
		v.checkSensitive(p+".id", idWho("region", r.ID), "", r.ID, "reveals")
		v.checkLocation(p+".id", idWho("region", r.ID), "", r.ID, true)
		if r.Name == "" {
			v.err(p+".name", CategorySchema, who+" has no name", "add the name people see, such as Pacific Northwest")
		} else {
			v.checkText(p+".name", who+" name", r.Name, 1, 0)
			v.checkSensitive(p+".name", who, "name", r.Name, "reveals")
			v.checkLocation(p+".name", who, "name", r.Name, true)
		}
		for k, c := range r.Countries {
			if len(c) != 2 || !isUpper(c[0]) || !isUpper(c[1]) {
				v.err(index(p+".countries", k), CategorySchema, who+" country "+quote(c)+" is not an ISO 3166-1 alpha-2 code", "use two capital letters, such as US or DE")
			}
		}
		for k, s := range r.Subdivisions {
			if !validSubdivision(s) {
				v.err(index(p+".subdivisions", k), CategorySchema, who+" subdivision "+quote(s)+" is not an ISO 3166-2 code", "use a code such as US-WA or DE-BY")
			}
		}
		v.areas(p, who, r)
	}
}

// areas checks a region's boxes and geohashes, the policy guard on
// location precision.
func (v *validator) areas(p, who string, r Region) {
	for k, b := range r.Boxes {
		v.box(index(p+".boxes", k), who, b)
	}
	for k, g := range r.Geohashes {
		gp := index(p+".geohashes", k)
		switch {
		case !validGeohash(g):
			v.err(gp, CategorySchema, who+" geohash "+quote(g)+" is not a geohash", "use the geohash alphabet 0-9 and b-z without a, i, l and o")
		case len(g) > MaxGeohashLength:
			v.err(gp, CategoryPolicy, who+" geohash "+quote(g)+" has "+itoa(len(g))+" characters; the privacy policy allows at most "+itoa(MaxGeohashLength)+" (about 156 km)",
				"shorten it to "+quote(g[:MaxGeohashLength]))
		}
	}
}

func validGeohash(g string) bool {
	for i := 0; i < len(g); i++ {
		if !strings.Contains("0123456789bcdefghjkmnpqrstuvwxyz", g[i:i+1]) {
			return false
		}
	}
	return g != ""
}

func validSubdivision(s string) bool {
	if len(s) < 4 || len(s) > 6 || !isUpper(s[0]) || !isUpper(s[1]) || s[2] != '-' {
		return false
	}
	for i := 3; i < len(s); i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func (v *validator) box(p, who string, b Box) {
	ok := true
	for _, c := range []struct {
		field string
		val   float64
		limit float64
	}{{"south", b.South, 90}, {"west", b.West, 180}, {"north", b.North, 90}, {"east", b.East, 180}} {
		if !(c.val >= -c.limit && c.val <= c.limit) {
			v.err(p+"."+c.field, CategorySchema, who+" box "+c.field+" is "+ftoa(c.val)+"; it must be between "+ftoa(-c.limit)+" and "+ftoa(c.limit), "use degrees")
			ok = false
		}
	}
	if !ok {
		return
	}
	switch {
	case b.South >= b.North:
		v.err(p, CategorySchema, who+" box has south "+ftoa(b.South)+" not below north "+ftoa(b.North), "swap south and north")
	case b.West >= b.East:
		v.err(p, CategorySchema, who+" box has west "+ftoa(b.West)+" not below east "+ftoa(b.East), "swap west and east; a box may not cross the antimeridian, so split such an area in two")
	case b.North-b.South < MinBoxDegrees || b.East-b.West < MinBoxDegrees:
		v.err(p, CategoryPolicy, who+" box is "+ftoa(round3(b.North-b.South))+"° by "+ftoa(round3(b.East-b.West))+"°; the privacy policy needs at least 1 degree on each side (about 100 km)",
			"widen the box, or name the country or subdivision instead")
	}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func (v *validator) catalogue() {
	cat := v.rs.Catalogue
	switch {
	case len(cat) == 0:
		v.err("$.catalogue", CategorySchema, "the catalogue is empty", "list at least one item under catalogue")
	case len(cat) > MaxItems:
		v.err("$.catalogue", CategorySchema, "the catalogue has "+itoa(len(cat))+" items; the engine takes at most "+itoa(MaxItems), "split the ruleset, or leave out items no slot shows")
	}
	seen := make(map[string]string, len(cat))
	for i := range cat {
		v.item(i, &cat[i], seen)
	}
}

func (v *validator) item(i int, it *Item, seen map[string]string) {
	p := index("$.catalogue", i)
	who := name("item", it.ID, p)
	v.checkID(p+".id", who, it.ID, true)
	v.checkDup(p+".id", "item", it.ID, seen)
	if !v.clean(it.ID) {
		v.checkPolicyText(p+".id", idWho("item", it.ID), "", it.ID)
	}
	if it.Title == "" {
		v.err(p+".title", CategorySchema, who+" has no title", "add the title people see, as in: Because you viewed <title>")
	} else {
		v.checkText(p+".title", who+" title", it.Title, 1, maxTitleChars)
		if !v.clean(it.Title) {
			v.checkPolicyText(p+".title", who, "title", it.Title)
		}
	}
	switch {
	case len(it.Tags) == 0:
		v.err(p+".tags", CategorySchema, who+" has no tags", "add at least one tag saying what the item is about; interests are learned per tag")
	case len(it.Tags) > MaxTagsPerItem:
		v.err(p+".tags", CategorySchema, who+" has "+itoa(len(it.Tags))+" tags; the most is "+itoa(MaxTagsPerItem), "keep the tags that say most about the item")
	}
	for k, t := range it.Tags {
		// Most tags are fine, and shared by many items: the path is built
		// only for a problem.
		// A tag listed twice counts once, so it is no problem; it is
		// checked once.
		shape := t == "" || len(t) > MaxIDBytes || !utf8.ValidString(t)
		policy := !v.clean(t) && !slices.Contains(it.Tags[:k], t)
		if !shape && !policy {
			continue
		}
		tp := index(p+".tags", k)
		switch {
		case t == "":
			v.err(tp, CategorySchema, who+" has an empty tag", "remove it")
			continue
		case len(t) > MaxIDBytes:
			v.err(tp, CategorySchema, who+" has a tag longer than "+itoa(MaxIDBytes)+" characters", "shorten it")
		case !utf8.ValidString(t):
			v.err(tp, CategorySchema, who+" has a tag that is not valid UTF-8", "save the file as UTF-8")
		}
		if policy {
			v.checkPolicyText(tp, who, "tag", t)
		}
	}
	if !v.clean(it.Campaign) {
		v.checkPolicyText(p+".campaign", who, "campaign", it.Campaign)
	}
	keys := make([]string, 0, len(it.Attributes))
	for k := range it.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ap := key(p+".attributes", k)
		val := it.Attributes[k]
		v.checkSensitive(ap, who, "attribute", k, "reveals")
		if locationKey(k) {
			v.err(ap, CategoryPolicy, who+" attribute "+quote(k)+" names a precise location; rulesets may not hold one",
				"remove the attribute; to limit an item to an area, list coarse regions under its regions")
		} else {
			v.checkLocation(ap, who, "attribute "+quote(k)+" value", val, false)
		}
		v.checkSensitive(ap, who, "attribute "+quote(k)+" value", val, "reveals")
	}
	if len(it.Regions) > 0 {
		v.needSignal(p+".regions", who, "is available only in some regions", SignalLocation)
	}
	for k, r := range it.Regions {
		v.checkRegionRef(index(p+".regions", k), who+" names", r)
	}
	for k, w := range it.Schedule {
		v.window(index(p+".schedule", k), who, w)
	}
}

func (v *validator) window(p, who string, w Window) {
	if w.From == "" && w.Until == "" {
		v.err(p, CategorySchema, who+" has a schedule window with neither from nor until", "set from, until or both, as YYYY-MM-DD")
		return
	}
	from, fok := parseDate(w.From)
	until, uok := parseDate(w.Until)
	if w.From != "" && !fok {
		v.err(p+".from", CategorySchema, who+" schedule from "+quote(w.From)+" is not a date", "write dates as YYYY-MM-DD, such as 2025-12-01")
	}
	if w.Until != "" && !uok {
		v.err(p+".until", CategorySchema, who+" schedule until "+quote(w.Until)+" is not a date", "write dates as YYYY-MM-DD, such as 2025-12-31")
	}
	if fok && uok && until < from {
		v.err(p+".until", CategorySchema, who+" schedule ends on "+w.Until+", before it starts on "+w.From, "swap from and until")
	}
}

// digitsValue is the value of a short run of ASCII digits. It is not
// strconv.Atoi, whose error links strconv's quoting and Unicode tables
// into edgewise.wasm.
func digitsValue(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseDate reads YYYY-MM-DD as a comparable number, checking the calendar.
func parseDate(s string) (int, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	if !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return 0, false
	}
	y, m, d := digitsValue(s[:4]), digitsValue(s[5:7]), digitsValue(s[8:])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return y*10000 + m*100 + d, true
}

func (v *validator) slotList() {
	slots := v.rs.Slots
	switch {
	case len(slots) == 0:
		v.err("$.slots", CategorySchema, "the ruleset has no slots", "add a slot: a place on a page that shows picks")
	case len(slots) > MaxSlots:
		v.err("$.slots", CategorySchema, "the ruleset has "+itoa(len(slots))+" slots; the engine takes at most "+itoa(MaxSlots), "merge slots that show the same things")
	}
	seen := map[string]string{}
	for i, s := range slots {
		p := index("$.slots", i)
		who := name("slot", s.ID, p)
		v.checkID(p+".id", who, s.ID, false)
		v.checkDup(p+".id", "slot", s.ID, seen)
		v.checkPolicyText(p+".id", idWho("slot", s.ID), "", s.ID)
		// Candidates whose every name exists select at least one item, so
		// unknown names are the only way to select none.
		v.checkSelector(p+".candidates", who+" candidates name", s.Candidates)
		switch {
		case s.Limit == 0:
			v.err(p+".limit", CategorySchema, who+" has no limit", "set limit: how many items the slot shows, 1 to "+itoa(MaxSlotLimit))
		case s.Limit < 1 || s.Limit > MaxSlotLimit:
			v.err(p+".limit", CategorySchema, who+" limit is "+itoa(s.Limit)+"; it must be between 1 and "+itoa(MaxSlotLimit), "set limit between 1 and "+itoa(MaxSlotLimit))
		}
		if len(s.Fallback) == 0 {
			v.err(p+".fallback", CategorySchema, who+" has no fallback items, shown when nothing personal qualifies", "list at least one item under fallback")
		}
		for k, id := range s.Fallback {
			fp := index(p+".fallback", k)
			idx, ok := v.items[id]
			switch {
			case !ok:
				v.err(fp, CategoryReference, who+" fallback names item "+quote(id)+", which is not in the catalogue", v.meant(id, keysOf(v.items), "add the item to the catalogue, or fix the id"))
			case slices.Contains(s.Fallback[:k], id):
				v.warn(fp, CategoryDuplicate, who+" fallback lists item "+quote(id)+" twice", "remove the second one")
			case v.slotCands[i] != nil && !containsSorted(v.slotCands[i], idx):
				v.warn(fp, CategoryReference, who+" fallback item "+quote(id)+" is not among the slot's candidates", "add it to the candidates, or pick a fallback the slot may show")
			}
		}
		if s.Diversity.MaxPerTag < 0 {
			v.err(p+".diversity.max_per_tag", CategorySchema, who+" diversity max_per_tag is "+itoa(s.Diversity.MaxPerTag)+"; it must be at least 1", "leave it out for no limit")
		}
		if s.Diversity.MaxPerCampaign < 0 {
			v.err(p+".diversity.max_per_campaign", CategorySchema, who+" diversity max_per_campaign is "+itoa(s.Diversity.MaxPerCampaign)+"; it must be at least 1", "leave it out for no limit")
		}
		if s.ExcludeSeen != nil && *s.ExcludeSeen && v.history == nil {
			v.warn(p+".exclude_seen", CategorySignal, who+" leaves out items already seen, which needs a signal of kind history, and none is declared, so it has no effect",
				"declare a history signal, or remove exclude_seen")
		}
	}
}

func containsSorted(list []int, x int) bool {
	_, ok := slices.BinarySearch(list, x)
	return ok
}

// Rules.

type ruleInfo struct {
	action string // boost, bury, pin or exclude; "" when not exactly one
	items  []int  // selected catalogue indexes; nil when unknown names
	slots  []int  // targeted slot indexes
	cond   string // canonical condition, for comparing rules
	always bool   // the condition is empty
}

func (v *validator) rules() {
	rules := v.rs.Rules
	seen := map[string]string{}
	infos := make([]ruleInfo, len(rules))
	// Per slot, the candidates some unconditional exclude has removed.
	excluded := make([][]bool, len(v.rs.Slots))
	for i := range rules {
		r := &rules[i]
		p := index("$.rules", i)
		who := name("rule", r.ID, p)
		info := &infos[i]
		v.ruleActionCount(p, who, r, info)
		v.checkID(p+".id", who, r.ID, false)
		v.checkDup(p+".id", "rule", r.ID, seen)
		v.checkPolicyText(p+".id", idWho("rule", r.ID), "", r.ID)
		v.checkText(p+".description", who+" description", r.Description, 0, 0)
		v.checkPolicyText(p+".description", who, "description", r.Description)
		v.checkText(p+".reason", who+" reason", r.Reason, 0, maxReasonChars)
		v.checkPolicyText(p+".reason", who, "reason", r.Reason)
		v.condition(p+".when", who, &r.When)
		info.cond = conditionKey(&r.When)
		info.always = emptyCondition(&r.When)

		// Resolve the slots first: whether the rule reaches anything is
		// reported at its items or at its slots, whichever narrows it.
		slotsKnown := true
		for k, id := range r.Slots {
			idx, ok := v.slots[id]
			if !ok {
				slotsKnown = false
			} else if !slices.Contains(r.Slots[:k], id) {
				info.slots = append(info.slots, idx)
			}
		}
		if len(r.Slots) == 0 {
			for s := range v.rs.Slots {
				info.slots = append(info.slots, s)
			}
		}
		if r.Items.Empty() {
			v.err(p+".items", CategorySchema, who+" names no items", "list the items, tags or campaigns the rule applies to")
		} else {
			v.checkSelector(p+".items", who+" items name", r.Items)
			if v.known(r.Items) {
				info.items = v.selectItems(r.Items, false)
			}
		}
		reaches := info.items == nil || !slotsKnown || v.reaches(info)
		if !reaches && len(r.Slots) == 0 {
			v.warn(p+".items", CategoryRule, who+" selects no candidate of any slot, so it never has an effect", "name items some slot may show")
		}
		for k, id := range r.Slots {
			sp := index(p+".slots", k)
			if _, ok := v.slots[id]; !ok {
				v.err(sp, CategoryReference, who+" names slot "+quote(id)+", which is not declared under slots", v.meant(id, keysOf(v.slots), "fix the slot id, or leave slots out to apply the rule everywhere"))
			} else if slices.Contains(r.Slots[:k], id) {
				v.warn(sp, CategoryDuplicate, who+" lists slot "+quote(id)+" twice", "remove the second one")
			}
		}
		if !reaches && len(r.Slots) > 0 {
			slots := "slots " + quoteList(r.Slots) + ", and none of their candidates is"
			if len(r.Slots) == 1 {
				slots = "slot " + quote(r.Slots[0]) + ", and none of its candidates is"
			}
			v.warn(p+".slots", CategoryRule, who+" applies only to "+slots+" among its items, so it never has an effect",
				"add its items to those slots' candidates, or target other slots")
		}
		live := info.items != nil && slotsKnown && reaches

		// The actions, in field order, each with what it can undo.
		if r.Boost != 0 && !(r.Boost > 1 && r.Boost <= 10) {
			v.err(p+".boost", CategorySchema, who+" boost is "+ftoa(r.Boost)+"; it must be more than 1 and at most 10", boostHint(r.Boost))
		}
		if live && info.action == "boost" {
			v.ruleConflicts(p, who, i, infos)
		}
		if r.Bury != 0 && !(r.Bury > 0 && r.Bury < 1) {
			v.err(p+".bury", CategorySchema, who+" bury is "+ftoa(r.Bury)+"; it must be between 0 and 1", "to raise scores, use boost with a factor above 1")
		}
		if live && info.action == "bury" {
			v.ruleConflicts(p, who, i, infos)
		}
		if r.Pin != 0 && (r.Pin < 1 || r.Pin > MaxSlotLimit) {
			v.err(p+".pin", CategorySchema, who+" pin is "+itoa(r.Pin)+"; it must be a position from 1 to "+itoa(MaxSlotLimit), "1 is the first position")
		}
		if live && info.action == "pin" {
			v.pinReach(p, who, r, info)
			v.ruleConflicts(p, who, i, infos)
		}
		if live && info.action == "exclude" {
			v.ruleConflicts(p, who, i, infos)
			if info.always {
				v.excludesAll(p, who, info, excluded)
			}
		}
		if !live {
			info.items = nil // nothing to compare later rules with
		}
	}
}

// excludesAll reports an unconditional exclude that, with the ones before
// it, leaves a slot no candidate.
func (v *validator) excludesAll(p, who string, info *ruleInfo, excluded [][]bool) {
	for _, s := range info.slots {
		cands := v.slotCands[s]
		if len(cands) == 0 {
			continue
		}
		if excluded[s] == nil {
			excluded[s] = make([]bool, len(v.rs.Catalogue))
		}
		before := coversAll(excluded[s], cands)
		for _, it := range info.items {
			excluded[s][it] = true
		}
		if !before && coversAll(excluded[s], cands) {
			slot := name("slot", v.rs.Slots[s].ID, index("$.slots", s))
			v.err(p+".exclude", CategoryRule, who+" always excludes every remaining candidate of "+slot+", so the slot can never show anything",
				"give the rule a condition under when, narrow its items, or leave this slot out of its slots")
		}
	}
}

func coversAll(marked []bool, list []int) bool {
	for _, i := range list {
		if !marked[i] {
			return false
		}
	}
	return true
}

// ruleActionCount checks that exactly one action is set.
func (v *validator) ruleActionCount(p, who string, r *Rule, info *ruleInfo) {
	var set []string
	if r.Boost != 0 {
		set = append(set, "boost")
	}
	if r.Bury != 0 {
		set = append(set, "bury")
	}
	if r.Pin != 0 {
		set = append(set, "pin")
	}
	if r.Exclude {
		set = append(set, "exclude")
	}
	switch len(set) {
	case 0:
		v.err(p, CategorySchema, who+" has no action", "set exactly one of boost, bury, pin or exclude")
	case 1:
		info.action = set[0]
	default:
		v.err(p, CategorySchema, who+" has "+itoa(len(set))+" actions ("+strings.Join(set, ", ")+"); a rule has exactly one", "split it into one rule per action")
	}
}

func (v *validator) condition(p, who string, c *Condition) {
	enumList := func(field, what, signal, uses string, list, allowed []string) {
		if len(list) == 0 {
			return
		}
		v.needSignal(p+"."+field, who, uses, signal)
		for k, x := range list {
			if !slices.Contains(allowed, x) {
				v.checkEnum(index(p+"."+field, k), who+" "+what, x, allowed)
			}
		}
	}
	enumList("weather", "weather", SignalWeather, "tests the weather", c.Weather, weatherValues)
	if len(c.Region) > 0 {
		v.needSignal(p+".region", who, "tests the region", SignalLocation)
		for k, r := range c.Region {
			v.checkRegionRef(index(p+".region", k), who+" tests", r)
		}
	}
	enumList("daypart", "daypart", SignalTime, "tests the time of day", c.Daypart, daypartValues)
	enumList("weekday", "weekday", SignalTime, "tests the weekday", c.Weekday, weekdayValues)
	enumList("device", "device", SignalDevice, "tests the device", c.Device, deviceValues)
	enumList("referrer", "referrer", SignalReferrer, "tests the referrer", c.Referrer, referrerValues)
	if len(c.PageSection) > 0 {
		v.needSignal(p+".page_section", who, "tests the page section", SignalPage)
		for k, s := range c.PageSection {
			sp := index(p+".page_section", k)
			if s == "" {
				v.err(sp, CategorySchema, who+" tests an empty page section", "name a section of the site, or remove the entry")
				continue
			}
			v.checkSensitive(sp, who, "page section", s, "targets")
			v.checkLocation(sp, who, "page section", s, false)
		}
	}
	if c.Visits != nil {
		v.needSignal(p+".visits", who, "tests the visit count", SignalVisits)
		v.visitRange(p+".visits", who+" visits", c.Visits, CategoryRule)
	}
	if len(c.Interest) > 0 {
		v.needSignal(p+".interest", who, "tests interests", SignalHistory)
	}
	for k, t := range c.Interest {
		ip := index(p+".interest", k)
		if t.Tag == "" {
			v.err(ip+".tag", CategorySchema, who+" tests interest without a tag", "name the tag")
		} else {
			v.checkTag(ip+".tag", who+" tests interest in", t.Tag)
			v.checkSensitive(ip+".tag", who, "interest in tag", t.Tag, "targets")
		}
		if !(t.AtLeast > 0 && t.AtLeast <= 100) {
			v.err(ip+".at_least", CategorySchema, who+" interest at_least is "+ftoa(t.AtLeast)+"; it must be more than 0 and at most 100", "1 is one fresh view")
		}
	}
	v.recent(p+".viewed", who, "viewed", "views", c.Viewed)
	v.recent(p+".purchased", who, "purchased", "purchases", c.Purchased)
	v.feedCondition(p+".feed", who, c.Feed)
}

// visitRange checks a visit range; an inverted one can never hold.
func (v *validator) visitRange(p, what string, r *Range, inverted string) {
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		v.err(p, inverted, what+" min "+itoa(*r.Min)+" is above max "+itoa(*r.Max)+", so it can never hold", "swap min and max")
	}
	if r.Min != nil && *r.Min < 0 {
		v.err(p+".min", CategorySchema, what+" min is "+itoa(*r.Min)+"; it must be 0 or more", "use 0 or leave min out")
	}
	if r.Max != nil && *r.Max < 0 {
		v.err(p+".max", CategorySchema, what+" max is "+itoa(*r.Max)+"; it must be 0 or more", "leave max out for no upper bound")
	}
}

func (v *validator) recent(p, who, field, events string, t *RecentTest) {
	if t == nil {
		return
	}
	v.needSignal(p, who, "tests what the person "+field, SignalHistory)
	v.checkSelector(p, who+" "+field+" test names", t.Selector)
	switch d := t.WithinDays; {
	case d == 0:
		v.err(p+".within_days", CategorySchema, who+" "+field+" has no within_days", "set within_days: how many days back to look, 1 to 90")
	case d < 1 || d > MaxRetentionDays:
		v.err(p+".within_days", CategorySchema, who+" "+field+" within_days is "+itoa(d)+"; it must be between 1 and "+itoa(MaxRetentionDays), "set within_days between 1 and "+itoa(MaxRetentionDays))
	case v.history != nil && v.history.RetentionDays == 0:
		v.ps = append(v.ps, Problem{Path: p + ".within_days", Severity: SeverityWarning, Category: CategoryRule,
			Message:   who + " looks back " + itoa(d) + " days for " + events + ", but the history signal keeps no events (retention_days is 0), so the test never holds",
			Hint:      "raise the history signal's retention_days to " + itoa(d) + " or more, or remove the test",
			DependsOn: index("$.signals", v.kinds[SignalHistory]) + ".retention_days"})
	case v.history != nil && d > v.history.RetentionDays && v.history.RetentionDays > 0 && v.history.RetentionDays <= MaxRetentionDays:
		v.ps = append(v.ps, Problem{Path: p + ".within_days", Severity: SeverityWarning, Category: CategoryRule,
			Message:   who + " looks back " + itoa(d) + " days for " + events + ", but the history signal keeps events for only " + itoa(v.history.RetentionDays),
			Hint:      "lower within_days to " + itoa(v.history.RetentionDays) + ", or raise the history signal's retention_days",
			DependsOn: index("$.signals", v.kinds[SignalHistory]) + ".retention_days"})
	}
}

// reaches reports whether a rule selects a candidate of a slot it targets.
func (v *validator) reaches(info *ruleInfo) bool {
	if len(info.slots) == 0 {
		return true // no slots: reported at $.slots
	}
	for _, s := range info.slots {
		if v.slotCands[s] == nil {
			return true // unknown candidates: reported at the slot
		}
		for _, it := range info.items {
			if containsSorted(v.slotCands[s], it) {
				return true
			}
		}
	}
	return false
}

// pinReach warns about a pin past the end of every slot it targets.
func (v *validator) pinReach(p, who string, r *Rule, info *ruleInfo) {
	if r.Pin < 1 || r.Pin > MaxSlotLimit {
		return
	}
	most := 0
	for _, s := range info.slots {
		limit := v.rs.Slots[s].Limit
		if limit < 1 || limit > MaxSlotLimit {
			return // reported at the slot
		}
		most = max(most, limit)
	}
	if r.Pin > most {
		v.warn(p+".pin", CategoryRule, who+" pins to position "+itoa(r.Pin)+", but its slots show at most "+itoa(most)+" items, so it never has an effect",
			"pin to position "+itoa(most)+" or earlier")
	}
}

// ruleConflicts warns when rule i undoes an earlier rule under the same
// condition: one excludes what the other boosts or pins, or one boosts what
// the other buries. An exclude with no condition undoes every later boost.
func (v *validator) ruleConflicts(p, who string, i int, infos []ruleInfo) {
	me := infos[i]
	if me.action == "" {
		return
	}
	for j := 0; j < i; j++ {
		o := infos[j]
		if o.action == "" || o.items == nil {
			continue
		}
		a, b := o.action, me.action
		clash := false
		switch {
		case a == "exclude" && (b == "boost" || b == "pin"):
			clash = o.cond == me.cond || o.always
		case b == "exclude" && (a == "boost" || a == "pin"):
			clash = o.cond == me.cond || me.always
		case (a == "boost" && b == "bury") || (a == "bury" && b == "boost"):
			clash = o.cond == me.cond
		}
		if !clash {
			continue
		}
		item, ok := v.sharedCandidate(o, me)
		if !ok {
			continue
		}
		other := v.rs.Rules[j]
		oname := name("rule", other.ID, index("$.rules", j))
		itemName := quote(v.rs.Catalogue[item].ID)
		var msg string
		if o.cond == me.cond {
			msg = who + " contradicts " + oname + ": under the same condition " + oname + " " + verbs[a] + " item " + itemName + " and " + who + " " + verbs[b] + " it"
		} else {
			msg = who + " contradicts " + oname + ": " + oname + " " + verbs[a] + " item " + itemName + " and " + who + " " + verbs[b] + " it, and the exclude holds always"
		}
		v.warn(p+"."+b, CategoryRule, msg, "remove one of the two rules, or give them different conditions or items")
		return
	}
}

var verbs = map[string]string{"boost": "boosts", "bury": "buries", "pin": "pins", "exclude": "excludes"}

// sharedCandidate finds an item both rules select in a slot both target.
func (v *validator) sharedCandidate(a, b ruleInfo) (int, bool) {
	for _, s := range a.slots {
		if !slices.Contains(b.slots, s) {
			continue
		}
		for _, it := range a.items {
			if containsSorted(b.items, it) && containsSorted(v.slotCands[s], it) {
				return it, true
			}
		}
	}
	return 0, false
}

// conditionKey is a canonical form of a condition: two conditions that hold
// at the same times have the same key (lists compare as sets).
func conditionKey(c *Condition) string {
	parts := []string{
		setKey(c.Weather), setKey(c.Region), setKey(c.Daypart), setKey(c.Weekday),
		setKey(c.Device), setKey(c.Referrer), setKey(c.PageSection),
	}
	if r := c.Visits; r != nil {
		parts = append(parts, bound(r.Min), bound(r.Max))
	} else {
		parts = append(parts, "-", "-")
	}
	var tests []string
	for _, t := range c.Interest {
		tests = append(tests, t.Tag+">="+ftoa(t.AtLeast))
	}
	parts = append(parts, setKey(tests))
	for _, t := range []*RecentTest{c.Viewed, c.Purchased} {
		if t == nil {
			parts = append(parts, "-")
			continue
		}
		parts = append(parts, itoa(t.WithinDays), setKey(t.Items), setKey(t.Tags), setKey(t.Campaigns))
	}
	return strings.Join(parts, "\x1e")
}

// emptyCondition reports whether a condition tests nothing, so it always holds.
func emptyCondition(c *Condition) bool {
	return len(c.Weather)+len(c.Region)+len(c.Daypart)+len(c.Weekday)+len(c.Device)+len(c.Referrer)+len(c.PageSection)+len(c.Interest) == 0 &&
		c.Visits == nil && c.Viewed == nil && c.Purchased == nil
}

// setKey joins a list's distinct values in order.
func setKey(l []string) string {
	s := slices.Clone(l)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), "\x1f")
}

func bound(p *int) string {
	if p == nil {
		return "_"
	}
	return itoa(*p)
}

// Caps.

func (v *validator) caps() {
	seen := map[string]string{}
	for i, c := range v.rs.Caps {
		p := index("$.caps", i)
		who := name("cap", c.ID, p)
		if c.PerDay == 0 && c.PerWeek == 0 {
			v.err(p, CategorySchema, who+" sets neither per_day nor per_week", "set per_day, per_week or both")
		}
		v.checkID(p+".id", who, c.ID, false)
		v.checkDup(p+".id", "cap", c.ID, seen)
		v.checkPolicyText(p+".id", idWho("cap", c.ID), "", c.ID)
		if c.Items.Empty() {
			v.err(p+".items", CategorySchema, who+" names no items", "list the items, tags or campaigns the cap limits")
		} else {
			v.checkSelector(p+".items", who+" items name", c.Items)
		}
		dayOK := c.PerDay >= 1 && c.PerDay <= 100
		weekOK := c.PerWeek >= 1 && c.PerWeek <= 500
		if c.PerDay != 0 && !dayOK {
			v.err(p+".per_day", CategorySchema, who+" per_day is "+itoa(c.PerDay)+"; it must be between 1 and 100", "set per_day between 1 and 100")
		}
		if dayOK && weekOK && c.PerWeek < c.PerDay {
			v.ps = append(v.ps, Problem{Path: p + ".per_day", Severity: SeverityWarning, Category: CategoryRule,
				Message: who + " per_day " + itoa(c.PerDay) + " can never be reached, because per_week is " + itoa(c.PerWeek),
				Hint:    "lower per_day to at most per_week", DependsOn: p + ".per_week"})
		}
		if c.PerWeek != 0 && !weekOK {
			v.err(p+".per_week", CategorySchema, who+" per_week is "+itoa(c.PerWeek)+"; it must be between 1 and 500", "set per_week between 1 and 500")
		}
	}
}

// Cohorts and reporting.

func (v *validator) cohorts() {
	dims := v.rs.Cohorts.Dimensions
	const p0 = "$.cohorts.dimensions"
	v.cohortCount()
	seen := map[string]string{}
	for i, d := range dims {
		p := index(p0, i)
		who := name("cohort dimension", d.ID, p)
		v.checkID(p+".id", who, d.ID, false)
		v.checkDup(p+".id", "cohort dimension", d.ID, seen)
		v.checkSensitive(p+".id", idWho("cohort dimension", d.ID), "", d.ID, "targets")
		switch {
		case d.From == "":
			v.err(p+".from", CategorySchema, who+" has no from", "set from to one of "+strings.Join(dimensionFroms, ", "))
		case !slices.Contains(dimensionFroms, d.From):
			v.checkEnum(p+".from", who+" from", d.From, dimensionFroms)
		default:
			v.needSignal(p+".from", who, "groups people by "+d.From, dimensionSignal(d.From))
		}
		switch n := len(d.Buckets); {
		case n < minDimensionBuckets:
			v.err(p+".buckets", CategorySchema, who+" has "+count(n, "bucket")+"; a dimension needs at least "+itoa(minDimensionBuckets), "add buckets, or drop the dimension")
		case n > maxDimensionBuckets:
			v.err(p+".buckets", CategorySchema, who+" has "+itoa(n)+" buckets; the most is "+itoa(maxDimensionBuckets), "merge buckets")
		}
		bseen := map[string]string{}
		for k := range d.Buckets {
			v.bucket(index(p+".buckets", k), who, d.From, &d.Buckets[k], k == len(d.Buckets)-1, bseen)
		}
	}
}

// cohortCount checks how many dimensions cohorts combine and how many
// cohorts they make, the policy guard on cohort size.
func (v *validator) cohortCount() {
	dims := v.rs.Cohorts.Dimensions
	const p0 = "$.cohorts.dimensions"
	if len(dims) > MaxCohortDimensions {
		v.err(p0, CategoryPolicy, "cohorts combine "+itoa(len(dims))+" dimensions; the privacy policy allows at most "+itoa(MaxCohortDimensions),
			"drop the dimensions reports need least")
	}
	size := 1
	for _, d := range dims {
		size *= max(len(d.Buckets), 1)
		if size > MaxCohorts*MaxCohorts {
			break // large enough to refuse; stop before it overflows
		}
	}
	switch {
	case size > MaxCohorts:
		v.err(p0, CategoryPolicy, "cohorts make "+cohortCount(size)+" combinations; the privacy policy allows at most MaxCohorts = "+itoa(MaxCohorts),
			"use fewer buckets or dimensions; small cohorts come close to naming people")
	case size > WarnCohorts:
		v.warn(p0, CategoryPolicy, "cohorts make "+itoa(size)+" combinations; above "+itoa(WarnCohorts)+" few of them reach min_k people, so most reports say little",
			"use fewer buckets or dimensions")
	}
}

func cohortCount(n int) string {
	if n > MaxCohorts*MaxCohorts {
		return "more than " + itoa(MaxCohorts*MaxCohorts)
	}
	return itoa(n)
}

func (v *validator) bucket(p, dim, from string, b *Bucket, last bool, seen map[string]string) {
	who := dim + " bucket " + quote(b.ID)
	if b.ID == "" {
		who = dim + " bucket " + p[strings.LastIndexByte(p, '['):]
	}
	var empty bool
	switch from {
	case DimensionInterest:
		empty = len(b.Tags) == 0
	case DimensionRegion:
		empty = len(b.Regions) == 0
	case DimensionEngagement:
		empty = b.Visits == nil
	}
	if empty && !last {
		v.err(p, CategorySchema, who+" says nothing about who is in it; only the last bucket may be a catch-all", "fill it in, or move it last")
	}
	v.checkID(p+".id", who, b.ID, false)
	v.checkDup(p+".id", "bucket", b.ID, seen)
	v.checkSensitive(p+".id", dim+" bucket id "+quote(b.ID), "", b.ID, "targets")
	wrong := func(field, applies string) {
		v.err(p+"."+field, CategorySchema, who+" sets "+field+", which apply only to "+applies+" dimensions", "remove "+field+" from this bucket")
	}
	if !slices.Contains(dimensionFroms, from) {
		return // reported at the dimension's from
	}
	// The fields in their order: tags, regions, visits.
	if from == DimensionInterest {
		for k, t := range b.Tags {
			tp := index(p+".tags", k)
			v.checkTag(tp, who+" names", t)
			v.checkSensitive(tp, who, "tag", t, "targets")
		}
	} else if len(b.Tags) > 0 {
		wrong("tags", "interest")
	}
	if from == DimensionRegion {
		for k, r := range b.Regions {
			v.checkRegionRef(index(p+".regions", k), who+" names", r)
		}
	} else if len(b.Regions) > 0 {
		wrong("regions", "region")
	}
	if from == DimensionEngagement {
		if b.Visits != nil {
			v.visitRange(p+".visits", who+" visits", b.Visits, CategorySchema)
		}
	} else if b.Visits != nil {
		wrong("visits", "engagement")
	}
}

func (v *validator) reporting() {
	r := v.rs.Reporting
	const p = "$.reporting"
	switch e := r.EpochDays; {
	case e == 0:
	case e < 1 || e > MaxEpochDays:
		v.err(p+".epoch_days", CategorySchema, "reporting epoch_days is "+itoa(e)+"; it must be between "+itoa(MinEpochDays)+" and "+itoa(MaxEpochDays), "leave it out for the default of 7 days")
	case e < MinEpochDays:
		v.err(p+".epoch_days", CategoryPolicy, "reporting epoch_days is "+itoa(e)+"; the privacy policy needs at least "+itoa(MinEpochDays)+" days between a person's reports",
			"raise it to "+itoa(MinEpochDays)+" or more, or leave it out for the default of 7 days")
	}
	switch e := r.Epsilon; {
	case e == 0:
	case !(e > 0) || math.IsInf(e, 0):
		v.err(p+".epsilon", CategorySchema, "reporting epsilon is "+ftoa(e)+"; it must be more than 0", "leave it out for the default of "+itoa(DefaultEpsilon))
	case e > MaxEpsilon:
		v.err(p+".epsilon", CategoryPolicy, "reporting epsilon is "+ftoa(e)+"; the privacy policy allows at most "+itoa(MaxEpsilon),
			"lower it to "+itoa(MaxEpsilon)+" or less; the default is "+itoa(DefaultEpsilon))
	case e > DefaultEpsilon:
		v.warn(p+".epsilon", CategoryPolicy, "reporting epsilon is "+ftoa(e)+", above the default of "+itoa(DefaultEpsilon)+"; reports say more about each person",
			"keep the default of "+itoa(DefaultEpsilon)+" unless reports are too noisy to use")
	}
	if k := r.MinK; k != 0 && k < MinK {
		v.err(p+".min_k", CategoryPolicy, "reporting min_k is "+itoa(k)+"; the privacy policy needs at least "+itoa(MinK)+" people in a reported cohort",
			"raise it to "+itoa(MinK)+" or more, or leave it out for the default of "+itoa(DefaultMinK))
	}
}
