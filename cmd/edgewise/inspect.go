package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
)

func init() {
	commands["inspect"] = command{
		usage: "inspect RULES.ewr [--key SITE.pub]\n      Print what a signed ruleset holds: its header, key id and hash, then its signals, slots, rules and privacy settings.\n      With --key, check the signature too; exits 1 when it is INVALID or the file is damaged.",
		run:   cmdInspect,
	}
}

// Defaults the model documents for settings a ruleset leaves out.
const (
	defaultEpochDays = 7
	defaultEpsilon   = 2
	defaultMinK      = 50
)

func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "public key `FILE` (from keygen) to check the signature with")
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("inspect needs one .ewr file")
	}
	path := pos[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	info, err := engine.ReadEWRHeader(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, rs, err := engine.InspectRuleset(data)
	w := &tabWriter{w: stdout}
	bad := false
	fmt.Fprintf(stdout, "%s: %d bytes\n", path, info.Size)
	w.row("format", fmt.Sprintf("%s version %d, flags 0x%04x", engine.EWRMagic, info.Version, info.Flags))
	w.row("key id", info.KeyID.String())
	hash := "sha256:" + hex.EncodeToString(info.ContentHash[:])
	switch {
	case info.HashMatches:
		w.row("content hash", hash+" (matches the payload)")
	default:
		w.row("content hash", hash+" DOES NOT MATCH the payload: the file was changed or damaged")
		bad = true
	}
	w.row("payload", fmt.Sprintf("%d bytes of msgpack", info.PayloadSize))
	switch {
	case *keyPath == "":
		w.row("signature", "not checked (pass --key SITE.pub)")
	default:
		pub, kerr := keyfile.ReadPublic(*keyPath)
		if kerr != nil {
			return kerr
		}
		if _, verr := engine.DecodeRuleset(data, pub); verr != nil {
			var e *engine.Error
			msg := verr.Error()
			if errors.As(verr, &e) {
				msg = e.Message
			}
			w.row("signature", "INVALID: "+msg)
			bad = true
		} else {
			w.row("signature", "valid (key id "+engine.KeyIDOf(pub).String()+")")
		}
	}
	if err != nil {
		fmt.Fprintf(stdout, "\n%s: %v\n", path, err)
		return exitCode(1)
	}
	fmt.Fprintln(stdout)
	describeRuleset(stdout, rs)
	if bad {
		return exitCode(1)
	}
	return nil
}

// tabWriter prints "  name  value" rows with the values aligned.
type tabWriter struct{ w io.Writer }

func (t *tabWriter) row(name, value string) { fmt.Fprintf(t.w, "  %-13s %s\n", name, value) }

// describeRuleset prints a ruleset for people reviewing it: what it may
// collect and why, what it shows where, and how it reports.
func describeRuleset(w io.Writer, rs *engine.Ruleset) {
	fmt.Fprintf(w, "ruleset %s, version %s\n", rs.ID, rs.Version)
	if rs.Description != "" {
		fmt.Fprintf(w, "  %s\n", rs.Description)
	}
	halfLife := strconv.Itoa(engine.DefaultHalfLifeDays) + " days (default)"
	if rs.Profile.HalfLifeDays != 0 {
		halfLife = num(rs.Profile.HalfLifeDays) + " days"
	}
	maxEvents := strconv.Itoa(engine.DefaultMaxEvents) + " events (default)"
	if rs.Profile.MaxEvents != 0 {
		maxEvents = countOf(rs.Profile.MaxEvents, "event")
	}
	fmt.Fprintf(w, "profile: interest halves every %s; keeps at most %s\n", halfLife, maxEvents)

	fmt.Fprintf(w, "\nsignals (%d): nothing else is collected\n", len(rs.Signals))
	for _, s := range rs.Signals {
		keep := "used, never stored"
		if s.RetentionDays > 0 {
			keep = "kept " + countOf(s.RetentionDays, "day")
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n    purpose: %q\n", s.ID, s.Kind, keep, s.Purpose)
	}

	fmt.Fprintf(w, "\nregions (%d)\n", len(rs.Regions))
	for _, r := range rs.Regions {
		var parts []string
		for _, p := range []struct {
			what string
			list []string
		}{{"countries", r.Countries}, {"subdivisions", r.Subdivisions}, {"geohashes", r.Geohashes}} {
			if len(p.list) > 0 {
				parts = append(parts, p.what+" "+strings.Join(p.list, ", "))
			}
		}
		if len(r.Boxes) > 0 {
			parts = append(parts, countOf(len(r.Boxes), "box"))
		}
		fmt.Fprintf(w, "  %s (%s): %s\n", r.ID, r.Name, strings.Join(parts, "; "))
	}

	tags, campaigns := map[string]bool{}, map[string]bool{}
	for _, it := range rs.Catalogue {
		for _, t := range it.Tags {
			tags[t] = true
		}
		if it.Campaign != "" {
			campaigns[it.Campaign] = true
		}
	}
	fmt.Fprintf(w, "\ncatalogue: %s, %s, %s\n", countOf(len(rs.Catalogue), "item"), countOf(len(tags), "tag"), countOf(len(campaigns), "campaign"))
	if len(tags) > 0 {
		fmt.Fprintf(w, "  tags: %s\n", strings.Join(sortedKeys(tags), ", "))
	}

	fmt.Fprintf(w, "\nslots (%d)\n", len(rs.Slots))
	for _, s := range rs.Slots {
		parts := []string{"limit " + strconv.Itoa(s.Limit), "candidates: " + selector(s.Candidates, "all items"), "fallback: " + strings.Join(s.Fallback, ", ")}
		if s.ExcludesSeen() {
			parts = append(parts, "leaves out items already seen")
		}
		if s.Diversity.MaxPerTag > 0 {
			parts = append(parts, "at most "+strconv.Itoa(s.Diversity.MaxPerTag)+" per tag")
		}
		if s.Diversity.MaxPerCampaign > 0 {
			parts = append(parts, "at most "+strconv.Itoa(s.Diversity.MaxPerCampaign)+" per campaign")
		}
		fmt.Fprintf(w, "  %s: %s\n", s.ID, strings.Join(parts, "; "))
	}

	fmt.Fprintf(w, "\nrules (%d)\n", len(rs.Rules))
	for _, r := range rs.Rules {
		action := "does nothing"
		switch {
		case r.Exclude:
			action = "excludes"
		case r.Pin > 0:
			action = "pins at position " + strconv.Itoa(r.Pin)
		case r.Boost != 0:
			action = "boosts ×" + num(r.Boost)
		case r.Bury != 0:
			action = "buries ×" + num(r.Bury)
		}
		line := action + " " + selector(r.Items, "every item")
		if len(r.Slots) > 0 {
			line += " in " + strings.Join(r.Slots, ", ")
		}
		line += " " + condition(r.When)
		fmt.Fprintf(w, "  %s: %s\n", r.ID, line)
		if r.Reason != "" {
			fmt.Fprintf(w, "    reason shown: %q\n", r.Reason)
		}
	}

	fmt.Fprintf(w, "\ncaps (%d)\n", len(rs.Caps))
	for _, c := range rs.Caps {
		var limits []string
		if c.PerDay > 0 {
			limits = append(limits, strconv.Itoa(c.PerDay)+" a day")
		}
		if c.PerWeek > 0 {
			limits = append(limits, strconv.Itoa(c.PerWeek)+" a week")
		}
		fmt.Fprintf(w, "  %s: %s, at most %s\n", c.ID, selector(c.Items, "every item"), strings.Join(limits, " and "))
	}

	fmt.Fprintf(w, "\ncohorts (%d dimensions)\n", len(rs.Cohorts.Dimensions))
	for _, d := range rs.Cohorts.Dimensions {
		ids := make([]string, len(d.Buckets))
		for i, b := range d.Buckets {
			ids[i] = b.ID
		}
		fmt.Fprintf(w, "  %s (from %s): %s\n", d.ID, d.From, strings.Join(ids, ", "))
	}

	r := rs.Reporting
	epoch, eps, k := strconv.Itoa(r.EpochDays)+" days", num(r.Epsilon), strconv.Itoa(r.MinK)
	if r.EpochDays == 0 {
		epoch = strconv.Itoa(defaultEpochDays) + " days (default)"
	}
	if r.Epsilon == 0 {
		eps = num(defaultEpsilon) + " (default)"
	}
	if r.MinK == 0 {
		k = strconv.Itoa(defaultMinK) + " (default)"
	}
	fmt.Fprintf(w, "\nreporting: at most one report every %s; epsilon %s; smallest cohort reported %s\n", epoch, eps, k)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func selector(s engine.Selector, empty string) string {
	if s.Empty() {
		return empty
	}
	var parts []string
	if len(s.Items) > 0 {
		parts = append(parts, "items "+strings.Join(s.Items, ", "))
	}
	if len(s.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(s.Tags, ", "))
	}
	if len(s.Campaigns) > 0 {
		parts = append(parts, "campaigns "+strings.Join(s.Campaigns, ", "))
	}
	return strings.Join(parts, " or ")
}

func condition(c engine.Condition) string {
	var parts []string
	for _, l := range []struct {
		what string
		list []string
	}{
		{"weather", c.Weather}, {"region", c.Region}, {"daypart", c.Daypart}, {"weekday", c.Weekday},
		{"device", c.Device}, {"referrer", c.Referrer}, {"page section", c.PageSection},
	} {
		if len(l.list) > 0 {
			parts = append(parts, l.what+" is "+strings.Join(l.list, " or "))
		}
	}
	if c.Visits != nil {
		parts = append(parts, "visits "+rangeText(*c.Visits))
	}
	for _, t := range c.Interest {
		parts = append(parts, "interest in "+t.Tag+" ≥ "+num(t.AtLeast))
	}
	if c.Viewed != nil {
		parts = append(parts, "viewed "+selector(c.Viewed.Selector, "anything")+" in the last "+countOf(c.Viewed.WithinDays, "day"))
	}
	if c.Purchased != nil {
		parts = append(parts, "bought "+selector(c.Purchased.Selector, "anything")+" in the last "+countOf(c.Purchased.WithinDays, "day"))
	}
	if len(parts) == 0 {
		return "always"
	}
	return "when " + strings.Join(parts, " and ")
}

func rangeText(r engine.Range) string {
	switch {
	case r.Min != nil && r.Max != nil:
		return strconv.Itoa(*r.Min) + " to " + strconv.Itoa(*r.Max)
	case r.Min != nil:
		return "at least " + strconv.Itoa(*r.Min)
	case r.Max != nil:
		return "at most " + strconv.Itoa(*r.Max)
	}
	return "any"
}
