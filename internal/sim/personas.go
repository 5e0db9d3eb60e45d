package sim

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/suggest"
	"github.com/edgewise/edgewise/ruleset"
)

// Personas is a personas file: people whose visits a simulation replays.
//
//	start: 2026-12-05T09:00:00Z      # the moment offsets count from (RFC 3339)
//	personas:
//	  - id: weekend-hiker            # lowercase letters, digits, dashes
//	    name: Weekend hiker          # optional, for people
//	    weight: 3                    # share in populations (default 1)
//	    preferences: {sharing: cohorts}          # as set_preferences takes them
//	    visits:
//	      - at: 2d18h                # offset from start: d, h, m, s; may be negative
//	        context: {weather: rain, subdivision: US-WA, visits: 2}  # set_context's signals
//	        events:                  # observed in order, a minute apart unless
//	          - {type: view, item: summit-hiking-boot}               # after: is given
//	          - {type: add_to_cart, item: carbon-trekking-poles, after: 5m}
//	        slots: [recommended]     # optional: the slots to decide (default all)
//
// The engine's now for a visit is the time of its last event (the visit's
// time when it has none).
type Personas struct {
	File     string
	Start    time.Time
	Personas []Persona
}

// Persona is one kind of visitor.
type Persona struct {
	ID          string
	Name        string
	Weight      float64
	Preferences engine.Preferences
	Visits      []Visit
	Pos         Pos
}

// Visit is one visit: what the person did and the moment's context.
type Visit struct {
	At      time.Duration // after Personas.Start
	Context engine.Context
	Events  []Event
	Slots   []string // nil: every slot of the ruleset
	Pos     Pos
}

// Event is one interaction, After the start of its visit.
type Event struct {
	Type  string
	Item  string
	After time.Duration
	Pos   Pos
}

// Pos is a place in a file.
type Pos struct {
	File         string
	Line, Column int // 1-based; 0 when unknown
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is a problem in an input file, at a position, with what to do
// about it (Hint) and the source line (LineText) when the file has one.
type Error struct {
	Pos
	Msg      string
	Hint     string
	LineText string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Format renders the problem as lint does: the position and message, the
// source line, a caret under the column, and the hint.
func (e *Error) Format() string {
	return ruleset.Format(ruleset.Diagnostic{File: e.File, Line: e.Line, Column: e.Column, Severity: ruleset.SeverityError,
		Message: e.Msg, Hint: e.Hint, LineText: e.LineText})
}

// Errors is every problem found in a file, in document order.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Format renders every problem as lint does.
func (es Errors) Format() string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Format())
	}
	return b.String()
}

// personasYAML is the file's shape. It is decoded as a ruleset is (see
// ruleset.DecodeFile): an unknown field, a value of the wrong type or a
// duplicate key is reported at its place, with the others.
type personasYAML struct {
	Start    string        `yaml:"start"`
	Personas []personaYAML `yaml:"personas"`
}

type personaYAML struct {
	ID          string             `yaml:"id"`
	Name        string             `yaml:"name"`
	Weight      *float64           `yaml:"weight"`
	Preferences engine.Preferences `yaml:"preferences"`
	Visits      []visitYAML        `yaml:"visits"`
}

type visitYAML struct {
	At      string         `yaml:"at"`
	Context engine.Context `yaml:"context"`
	Events  []eventYAML    `yaml:"events"`
	Slots   []string       `yaml:"slots"`
}

type eventYAML struct {
	Type  string `yaml:"type"`
	Item  string `yaml:"item"`
	After string `yaml:"after"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// MaxPersonaEvents bounds the events of one persona, so a population stays
// quick to simulate.
const MaxPersonaEvents = 1000

// ParsePersonas reads a personas file. Problems come back as Errors, each
// at its line and column; rs, when not nil, is the ruleset the personas are
// for, and items and slots they name must be in it.
func ParsePersonas(filename string, src []byte, rs *engine.Ruleset) (*Personas, error) {
	var raw personasYAML
	f := ruleset.DecodeFile(filename, src, "personas", "start with start: (when visits count from) and personas: (the list)", &raw)
	c := checker{file: filename, f: f}
	if !f.Decoded() {
		return nil, c.errors()
	}
	var err error
	out := &Personas{File: filename}
	if raw.Start == "" {
		c.errorf("$", "start is missing: add the moment visits count from, such as start: 2026-12-05T09:00:00Z")
	} else if out.Start, err = time.Parse(time.RFC3339, raw.Start); err != nil {
		c.errorf("$.start", "start %q is not an RFC 3339 time such as 2026-12-05T09:00:00Z", raw.Start)
	}
	if len(raw.Personas) == 0 {
		c.errorf("$", "personas is missing or empty: list at least one persona")
	}
	var items, slots map[string]bool
	if rs != nil {
		items, slots = map[string]bool{}, map[string]bool{}
		for _, it := range rs.Catalogue {
			items[it.ID] = true
		}
		for _, s := range rs.Slots {
			slots[s.ID] = true
		}
	}
	seen := map[string]string{}
	for i, rp := range raw.Personas {
		path := fmt.Sprintf("$.personas[%d]", i)
		p := Persona{ID: rp.ID, Name: rp.Name, Weight: 1, Preferences: rp.Preferences, Pos: c.pos(path)}
		switch {
		case rp.ID == "":
			c.errorf(path, "persona %d has no id", i+1)
		case !idPattern.MatchString(rp.ID):
			c.errorf(path+".id", "persona id %q must be lowercase letters, digits, - and _", rp.ID)
		case seen[rp.ID] != "":
			c.errorf(path+".id", "persona id %q is already used at %s", rp.ID, seen[rp.ID])
		default:
			seen[rp.ID] = c.pos(path + ".id").String()
		}
		if rp.Weight != nil {
			p.Weight = *rp.Weight
			if !(p.Weight >= 0) || math.IsInf(p.Weight, 0) {
				c.errorf(path+".weight", "weight must be a number 0 or more, got %v", p.Weight)
			}
		}
		if len(rp.Visits) == 0 {
			c.errorf(path, "persona %q has no visits", rp.ID)
		}
		events := 0
		for j, rv := range rp.Visits {
			vpath := fmt.Sprintf("%s.visits[%d]", path, j)
			v := Visit{Context: rv.Context, Slots: rv.Slots, Pos: c.pos(vpath)}
			if rv.At == "" {
				c.errorf(vpath, "visit %d has no at: give its time after start, such as at: 2d18h", j+1)
			} else if v.At, err = parseOffset(rv.At); err != nil {
				c.errorf(vpath+".at", "%v", err)
			}
			if rv.Context.Now != 0 {
				c.errorf(vpath+".context.now", "context has no now in a personas file: the visit's at and its events' times set it")
			}
			for k, s := range rv.Slots {
				if slots != nil && !slots[s] {
					c.hintf(fmt.Sprintf("%s.slots[%d]", vpath, k), didYouMean(s, slots), "slot %q is not in the ruleset", s)
				}
			}
			last := time.Duration(0)
			for k, re := range rv.Events {
				epath := fmt.Sprintf("%s.events[%d]", vpath, k)
				ev := Event{Type: re.Type, Item: re.Item, After: last + time.Minute, Pos: c.pos(epath)}
				if re.After != "" {
					if ev.After, err = parseOffset(re.After); err != nil {
						c.errorf(epath+".after", "%v", err)
					} else if ev.After < 0 {
						c.errorf(epath+".after", "after must not be negative")
					}
				}
				last = ev.After
				if re.Type == "" {
					c.errorf(epath, "event has no type (view, click, add_to_cart, purchase, custom or dismiss)")
				} else if !slices.Contains(engine.EventTypes, re.Type) {
					known := map[string]bool{}
					for _, t := range engine.EventTypes {
						known[t] = true
					}
					c.hintf(epath+".type", didYouMean(re.Type, known), "unknown event type %q; want one of %s", re.Type, strings.Join(engine.EventTypes, ", "))
				}
				if re.Item == "" {
					c.errorf(epath, "event has no item")
				} else if items != nil && !items[re.Item] {
					c.hintf(epath+".item", didYouMean(re.Item, items), "item %q is not in the ruleset's catalogue", re.Item)
				}
				v.Events = append(v.Events, ev)
			}
			events += len(rv.Events)
			p.Visits = append(p.Visits, v)
		}
		if events > MaxPersonaEvents {
			c.errorf(path, "persona %q has %d events; at most %d", rp.ID, events, MaxPersonaEvents)
		}
		out.Personas = append(out.Personas, p)
	}
	if total := weights(out.Personas); len(out.Personas) > 0 && total <= 0 {
		c.errorf("$.personas", "every persona has weight 0: give at least one a positive weight")
	}
	if errs := c.errors(); errs != nil {
		return nil, errs
	}
	return out, nil
}

func weights(ps []Persona) float64 {
	t := 0.0
	for _, p := range ps {
		if p.Weight > 0 {
			t += p.Weight
		}
	}
	return t
}

// checker places the personas' problems in the file (see
// ruleset.File.Errorf), with the problems decoding found.
type checker struct {
	file string
	f    *ruleset.File
}

func (c *checker) errorf(path, format string, args ...any) {
	c.f.Errorf(path, "", format, args...)
}

func (c *checker) hintf(path, hint, format string, args ...any) {
	c.f.Errorf(path, hint, format, args...)
}

// didYouMean is a hint naming the known name closest to name, or "".
func didYouMean(name string, known map[string]bool) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	if s := suggest.Closest(name, names); s != "" {
		return "did you mean " + strconv.Quote(s) + "?"
	}
	return ""
}

// errors is every problem found, in document order, or nil.
func (c *checker) errors() error {
	diags := c.f.Diagnostics()
	if len(diags) == 0 {
		return nil
	}
	errs := make(Errors, len(diags))
	for i, d := range diags {
		errs[i] = &Error{Pos{d.File, d.Line, d.Column}, d.Message, d.Hint, d.LineText}
	}
	return errs
}

// pos is the position of the value at path, or of the nearest enclosing
// one that exists.
func (c *checker) pos(path string) Pos {
	line, col := c.f.Position(path)
	return Pos{c.file, line, col}
}

// parseOffset reads a duration with days: 2d18h, 90m, -1d, 0.
func parseOffset(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%q is not a duration such as 2d18h, 45m or 30s", s)
	}
	if t == "0" {
		return 0, nil
	}
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	var d time.Duration
	if i := strings.IndexByte(t, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(t[:i], 64)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not a duration such as 2d18h, 45m or 30s", s)
		}
		d = time.Duration(n * float64(24*time.Hour))
		t = t[i+1:]
	}
	if t != "" {
		rest, err := time.ParseDuration(t)
		if err != nil || rest < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 2d18h, 45m or 30s", s)
		}
		d += rest
	}
	if neg {
		d = -d
	}
	return d, nil
}

// slotsOf is the slots a visit decides.
func (v *Visit) slotsOf(rs *engine.Ruleset) []string {
	if v.Slots != nil {
		return v.Slots
	}
	out := make([]string, len(rs.Slots))
	for i, s := range rs.Slots {
		out[i] = s.ID
	}
	return out
}

// CataloguePersonas stands in for personas when a ruleset has none: one
// persona per catalogue item, who viewed it twice a minute apart at start,
// sharing cohorts, placed in the ruleset's regions in turn (every
// (regions+1)th in none) and with 1 to 7 visits in turn.
func CataloguePersonas(rs *engine.Ruleset, start time.Time) *Personas {
	ps := &Personas{File: "(the catalogue of " + rs.ID + ")", Start: start}
	for i, it := range rs.Catalogue {
		visits := 1 + i%7
		c := engine.Context{Visits: &visits}
		if r := i % (len(rs.Regions) + 1); r < len(rs.Regions) {
			c.Regions = []string{rs.Regions[r].ID}
		}
		ps.Personas = append(ps.Personas, Persona{
			ID: "viewer-" + it.ID, Weight: 1,
			Preferences: engine.Preferences{Sharing: engine.SharingCohorts},
			Visits: []Visit{{Context: c, Events: []Event{
				{Type: "view", Item: it.ID, After: time.Minute},
				{Type: "view", Item: it.ID, After: 2 * time.Minute},
			}}},
		})
	}
	return ps
}
