package main

import (
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/ruleset"
)

// compileRuleset checks a YAML ruleset as `edgewise build` does (parse and
// lint, the privacy policy included). It returns the ruleset when no
// diagnostic is an error; diags holds every diagnostic, warnings included.
func compileRuleset(name string, src []byte) (rs *engine.Ruleset, diags []ruleset.Diagnostic, errs int) {
	diags = ruleset.Lint(name, src)
	for _, d := range diags {
		if d.Severity == ruleset.SeverityError {
			errs++
		}
	}
	if errs > 0 {
		return nil, diags, errs
	}
	rs, _ = ruleset.Parse(name, src)
	if rs == nil {
		// Lint found no error, so Parse decodes; this is only a guard.
		return nil, diags, 1
	}
	return rs, diags, 0
}

// diagnosticsError is a ruleset the demo refuses to serve: every problem,
// printed as edgewise lint prints it (file:line:col, the line, a caret).
type diagnosticsError struct {
	name  string
	errs  int
	diags []ruleset.Diagnostic
}

func (e *diagnosticsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s has %d error(s); the demo serves only a ruleset edgewise build would sign:\n", e.name, e.errs)
	for _, d := range e.diags {
		b.WriteString(ruleset.Format(d))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// shop is what the server makes of its ruleset at startup.
type shop struct {
	rs *engine.Ruleset
	// name is "id@version", for the log line.
	name  string
	key   ed25519.PrivateKey
	keyID engine.KeyID
	// ewr is the signed ruleset the engine loads (/ruleset.ewr).
	ewr []byte
	// config is /config.json: what the page hands to Edgewise.load and
	// where the SDK sends cohort reports.
	config []byte
	// catalogue is /catalogue.json: the shop's public display catalogue.
	catalogue []byte
}

// newShop compiles src, signs it with key and prepares the files the page
// fetches; wasmURL is where the page loads the engine from.
func newShop(name string, src []byte, key ed25519.PrivateKey, wasmURL string) (*shop, error) {
	rs, diags, errs := compileRuleset(name, src)
	if errs > 0 {
		return nil, &diagnosticsError{name: name, errs: errs, diags: diags}
	}
	ewr, err := buildtime.EncodeRuleset(rs, key)
	if err != nil {
		// Lint ran the same validation, so only encoding or signing can fail here.
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pub := key.Public().(ed25519.PublicKey)
	s := &shop{rs: rs, name: rs.ID + "@" + rs.Version, key: key, keyID: engine.KeyIDOf(pub), ewr: ewr}
	if s.config, err = json.Marshal(demoConfig{
		PublicKey: keyfile.Base64(pub),
		KeyID:     s.keyID.String(),
		Ruleset:   s.name,
		Wasm:      wasmURL,
		Collector: collectorConfig{
			Base:        "/",
			Reports:     "/v1/reports",
			CohortSizes: "/v1/cohort-sizes?ruleset=" + rs.ID,
			Cohorts:     "/v1/cohorts?ruleset=" + rs.ID,
			Dashboard:   "/dashboard",
		},
	}); err != nil {
		return nil, err
	}
	if s.catalogue, err = json.Marshal(displayOf(rs)); err != nil {
		return nil, err
	}
	return s, nil
}

// demoConfig is the body of /config.json.
type demoConfig struct {
	// PublicKey is the base64 Ed25519 public key the ruleset is signed with.
	PublicKey string `json:"publicKey"`
	KeyID     string `json:"keyId"`
	// Ruleset is "id@version" of /ruleset.ewr.
	Ruleset string `json:"ruleset"`
	// Wasm is the engine's content-hashed URL, cached for good.
	Wasm      string          `json:"wasm"`
	Collector collectorConfig `json:"collector"`
}

// collectorConfig tells the SDK where cohort reports go: the collector is
// mounted on this same origin, so the page's connect-src 'self' allows it.
type collectorConfig struct {
	// Base is the collector's base URL, Edgewise.load's collector option
	// (the SDK adds /v1/reports and /v1/cohort-sizes).
	Base string `json:"base"`
	// Reports is where report() POSTs.
	Reports string `json:"reports"`
	// CohortSizes are the published sizes the engine's k-anonymity reads.
	CohortSizes string `json:"cohortSizes"`
	// Cohorts are the debiased estimates, as JSON; Dashboard shows them.
	Cohorts   string `json:"cohorts"`
	Dashboard string `json:"dashboard"`
}

// display is the body of /catalogue.json: the shop's public catalogue and
// the public parts of its ruleset, as the page draws them. Everything here
// is in the signed ruleset anyway (edgewise inspect prints it); nothing is
// about the person.
type display struct {
	ID          string `json:"id"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	// Catalogue is every product, with what the page needs to draw it.
	Catalogue []displayItem `json:"catalogue"`
	// Slots, with each slot's fallback items cut to its limit: what the page
	// passes to Edgewise.load as fallback for when the engine cannot run.
	Slots []displaySlot `json:"slots"`
	// Signals are the declared signals with their purpose and retention, for
	// the preference center (the same fields as the SDK's describe()).
	Signals []engine.Signal `json:"signals"`
	// Interests are the groups of tags a person can hide, as describe()
	// gives them: the interest dimension's buckets.
	Interests []displayInterest `json:"interests"`
	Regions   []displayRegion   `json:"regions"`
	// Rules are for "Why am I seeing this?": a pick names its rules by id.
	Rules     []displayRule    `json:"rules"`
	Reporting displayReporting `json:"reporting"`
	// Experiments are for "Why am I seeing this?" in a comparison group
	// (a decision names its experiment) and for the privacy ledger.
	Experiments []displayExperiment `json:"experiments"`
}

// displayExperiment is an experiment as a shopper is told about it, with
// the defaults the engine applies.
type displayExperiment struct {
	ID          string   `json:"id"`
	Description string   `json:"description,omitempty"`
	Slots       []string `json:"slots"`
	Holdout     float64  `json:"holdout"`
	Control     string   `json:"control"`
	Goals       []string `json:"goals"`
	Epsilon     float64  `json:"epsilon"`
}

type displayItem struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Tags     []string `json:"tags"`
	Campaign string   `json:"campaign,omitempty"`
	Price    string   `json:"price,omitempty"`
	Color    string   `json:"color,omitempty"`
	// Swatch is Color as a CSS colour, when the demo knows the name.
	Swatch string `json:"swatch,omitempty"`
	// Art names the inline drawing the page uses for the product.
	Art      string          `json:"art"`
	Regions  []string        `json:"regions,omitempty"`
	Schedule []engine.Window `json:"schedule,omitempty"`
}

type displaySlot struct {
	ID       string   `json:"id"`
	Limit    int      `json:"limit"`
	Fallback []string `json:"fallback"`
}

type displayInterest struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
}

// displayRegion is a region by name, with the codes that place a person in
// it: the engine keeps a person's country and subdivision codes and the ids
// of the box and geohash regions they are in, and the page names them.
type displayRegion struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Countries    []string `json:"countries,omitempty"`
	Subdivisions []string `json:"subdivisions,omitempty"`
}

type displayRule struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Signals are the kinds of signal the rule's condition reads.
	Signals []string `json:"signals"`
}

type displayReporting struct {
	EpochDays int     `json:"epoch_days"`
	Epsilon   float64 `json:"epsilon"`
	MinK      int     `json:"min_k"`
	Cohorts   int     `json:"cohorts"`
}

// displayOf makes the display catalogue of a ruleset that passed lint.
func displayOf(rs *engine.Ruleset) display {
	d := display{ID: rs.ID, Version: rs.Version, Description: rs.Description,
		Catalogue: []displayItem{}, Slots: []displaySlot{}, Signals: slices.Clone(rs.Signals),
		Interests: []displayInterest{}, Regions: []displayRegion{}, Rules: []displayRule{}, Experiments: []displayExperiment{}}
	if d.Signals == nil {
		d.Signals = []engine.Signal{}
	}
	for _, it := range rs.Catalogue {
		color := it.Attributes["color"]
		d.Catalogue = append(d.Catalogue, displayItem{
			ID: it.ID, Title: it.Title, Tags: it.Tags, Campaign: it.Campaign,
			Price: it.Attributes["price"], Color: color, Swatch: swatches[color],
			Art: artFor(it), Regions: it.Regions, Schedule: it.Schedule,
		})
	}
	for _, s := range rs.Slots {
		d.Slots = append(d.Slots, displaySlot{ID: s.ID, Limit: s.Limit, Fallback: s.Fallback[:min(len(s.Fallback), s.Limit)]})
	}
	for _, dim := range rs.Cohorts.Dimensions {
		if dim.From != engine.DimensionInterest {
			continue
		}
		for _, b := range dim.Buckets {
			if len(b.Tags) > 0 {
				d.Interests = append(d.Interests, displayInterest{ID: b.ID, Tags: b.Tags})
			}
		}
		break
	}
	if len(d.Interests) == 0 {
		// Without an interest dimension every tag is an interest of its own.
		var tags []string
		for _, it := range rs.Catalogue {
			tags = append(tags, it.Tags...)
		}
		slices.Sort(tags)
		for _, t := range slices.Compact(tags) {
			d.Interests = append(d.Interests, displayInterest{ID: t, Tags: []string{t}})
		}
	}
	for _, r := range rs.Regions {
		d.Regions = append(d.Regions, displayRegion{ID: r.ID, Name: r.Name, Countries: r.Countries, Subdivisions: r.Subdivisions})
	}
	for _, r := range rs.Rules {
		d.Rules = append(d.Rules, displayRule{ID: r.ID, Description: r.Description, Reason: r.Reason, Signals: conditionSignals(r.When)})
	}
	for _, x := range rs.Experiments {
		dx := displayExperiment{ID: x.ID, Description: x.Description, Slots: x.Slots, Holdout: x.Holdout,
			Control: cmp.Or(x.Control, engine.ControlFallback), Goals: x.Goals, Epsilon: x.Epsilon}
		if !(dx.Epsilon > 0) {
			dx.Epsilon = engine.DefaultOutcomeEpsilon
		}
		d.Experiments = append(d.Experiments, dx)
	}
	d.Reporting = displayReporting{EpochDays: rs.Reporting.EpochDays, Epsilon: rs.Reporting.Epsilon, MinK: rs.Reporting.MinK,
		Cohorts: len(engine.CohortCatalogue(rs))}
	if d.Reporting.EpochDays <= 0 {
		d.Reporting.EpochDays = 7 // collector.DefaultEpochDays
	}
	if d.Reporting.Epsilon <= 0 {
		d.Reporting.Epsilon = engine.DefaultEpsilon
	}
	if d.Reporting.MinK <= 0 {
		d.Reporting.MinK = engine.DefaultMinK
	}
	return d
}

// conditionSignals lists the signal kinds a condition reads, in the order
// engine.SignalKinds gives them.
func conditionSignals(c engine.Condition) []string {
	uses := map[string]bool{
		engine.SignalHistory:  len(c.Interest) > 0 || c.Viewed != nil || c.Purchased != nil,
		engine.SignalLocation: len(c.Region) > 0,
		engine.SignalWeather:  len(c.Weather) > 0,
		engine.SignalTime:     len(c.Daypart) > 0 || len(c.Weekday) > 0,
		engine.SignalDevice:   len(c.Device) > 0,
		engine.SignalReferrer: len(c.Referrer) > 0,
		engine.SignalPage:     len(c.PageSection) > 0,
		engine.SignalVisits:   c.Visits != nil,
	}
	out := []string{}
	for _, k := range engine.SignalKinds {
		if uses[k] {
			out = append(out, k)
		}
	}
	return out
}

// Product art. The page draws each product as an inline SVG (demo/site/art.js);
// artFor picks the drawing from the words of the product's id, then from
// its tags, so a product added in the playground gets a fitting one too.
var artByWord = []struct{ word, art string }{
	{"tent", "tent"}, {"boot", "boot"}, {"snowshoes", "snowshoe"}, {"shoe", "shoe"},
	{"vest", "vest"}, {"parka", "parka"}, {"jacket", "jacket"}, {"shell", "jacket"},
	{"hoodie", "hoodie"}, {"layer", "hoodie"}, {"pants", "pants"},
	{"daypack", "pack"}, {"backpack", "pack"}, {"poles", "poles"}, {"hat", "hat"},
	{"sunglasses", "sunglasses"}, {"sleeping-bag", "sleeping-bag"}, {"pad", "pad"},
	{"stove", "stove"}, {"headlamp", "headlamp"}, {"lantern", "lantern"},
	{"harness", "harness"}, {"rope", "rope"}, {"chalk", "chalk-bag"}, {"axe", "axe"},
	{"crampons", "crampons"}, {"microspikes", "crampons"}, {"gloves", "gloves"},
	{"skins", "skis"}, {"frame-bag", "bike"}, {"bike", "bike"},
	{"paddleboard", "board"}, {"wetsuit", "wetsuit"}, {"dry-bag", "dry-bag"},
}

var artByTag = []struct{ tag, art string }{
	{"shelter", "tent"}, {"footwear", "shoe"}, {"running", "shoe"}, {"climbing", "harness"},
	{"cycling", "bike"}, {"paddling", "board"}, {"surf", "board"}, {"lighting", "headlamp"},
	{"cooking", "stove"}, {"sleeping", "sleeping-bag"}, {"rain", "jacket"}, {"sun", "hat"},
	{"winter", "gloves"}, {"snow", "gloves"}, {"alpine", "axe"}, {"hiking", "boot"}, {"camping", "tent"},
}

func artFor(it engine.Item) string {
	dashed := "-" + it.ID + "-"
	for _, a := range artByWord {
		if strings.Contains(dashed, "-"+a.word+"-") {
			return a.art
		}
	}
	for _, a := range artByTag {
		if slices.Contains(it.Tags, a.tag) {
			return a.art
		}
	}
	return "mountain"
}

// swatches are the catalogue's colour names as CSS colours.
var swatches = map[string]string{
	"slate blue": "#56708f", "moss green": "#5f7a3a", "ember orange": "#d7662b", "charcoal": "#3c4146",
	"glacier blue": "#5aa1c8", "walnut brown": "#7a5236", "storm grey": "#5f666d", "sand": "#c7a978",
	"sky blue": "#5fa8d8", "lime": "#8dbb2d", "deep red": "#a8323a", "heather grey": "#8d8f93",
	"safety yellow": "#e8b910",
}
