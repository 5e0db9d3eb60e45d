package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/internal/sim"
	"github.com/edgewise/edgewise/ruleset"
	"github.com/schollz/progressbar/v3"
	"github.com/tetratelabs/wazero"
	"golang.org/x/term"
)

func init() {
	commands["simulate"] = command{
		usage: "simulate RULESET --personas FILE [--key SITE.pub] [--feed FILE.ewf]... [--format text|json|html] [-o FILE] [--wasm PATH]\n" +
			"      [--population N [--seed S] [--epochs E] [--drift P] [--forge N] [--lift L] [--power-only]] [--base-rate R] [--traffic N]\n" +
			"      Replay each persona's visits in edgewise.wasm and show what each slot shows them, and why.\n" +
			"      --feed loads a signed context feed, signed with --key's key, as the page's SDK would; a visit\n" +
			"      outside the feed's issue and expiry times sees nothing from it.\n" +
			"      With --population, simulate N visitors drawn from the personas over E report epochs: cohort sizes,\n" +
			"      k-anonymity fallbacks, the collector's estimates and the share of unique report sequences; each epoch\n" +
			"      a visitor's dominant interest shifts with probability P. It measures how many forged reports publish a\n" +
			"      cohort nobody is in; --forge N also shows what N of them do.\n" +
			"      A ruleset's experiments get power figures: the weeks each needs to find a lift, at --traffic N answers a\n" +
			"      week (or the population's) and a --base-rate R. With --population, its visitors also run them with a\n" +
			"      known true lift (--lift L, default each experiment's min_lift) through a real collector, and the output\n" +
			"      shows GET /v1/experiments beside the truth; --power-only leaves that run out.",
		run: cmdSimulate,
	}
}

func cmdSimulate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wasmPath := wasmFlag(fs)
	keyPath := fs.String("key", "", "the public key `FILE` a .ewr ruleset must be signed with")
	personasPath := fs.String("personas", "", "the personas `FILE` (YAML; see testdata/personas.yaml)")
	format := fs.String("format", "text", "output `FORMAT`: text, json or html")
	out := fs.String("o", "", "write the output to `FILE` instead of standard output")
	population := fs.Int("population", 0, "simulate `N` visitors drawn from the personas")
	seed := fs.Uint64("seed", 1, "`SEED` of a population's visitors and report noise")
	epochs := fs.Int("epochs", sim.DefaultEpochs, "report `EPOCHS` a population is simulated over")
	drift := fs.Float64("drift", sim.DefaultDrift, "the `P`robability, each epoch, that a visitor's dominant interest shifts (0: never)")
	forge := fs.Int("forge", 0, "an adversary posts `N` forged reports naming a cohort nobody is in, beside the first epoch's real ones")
	var feeds feedFiles
	fs.Var(&feeds, "feed", "a signed context feed `FILE.ewf` the ruleset names, loaded into every engine (repeatable)")
	xf := addExperimentFlags(fs)
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *personasPath == "" {
		return errors.New("simulate needs one ruleset file and --personas FILE (see edgewise help)")
	}
	switch *format {
	case "text", "json", "html":
	default:
		return fmt.Errorf("--format %q: use text, json or html", *format)
	}
	if *population < 0 || *epochs < 1 {
		return errors.New("--population must be 0 or more and --epochs at least 1")
	}
	if !(*drift >= 0 && *drift <= 1) {
		return errors.New("--drift must be a probability, from 0 to 1")
	}
	if *forge < 0 {
		return errors.New("--forge must be 0 or more")
	}
	if err := xf.check(); err != nil {
		return err
	}
	if *population == 0 && xf.liftGiven() {
		return errors.New("--lift is the true lift of a simulated population's run of the experiments: it needs --population")
	}
	t, diags, err := simTarget(pos[0], *keyPath, feeds)
	if err != nil {
		return err
	}
	xopts, err := xf.options(t.Ruleset)
	if err != nil {
		return err
	}
	ps, err := readPersonas(*personasPath, t.Ruleset)
	if err != nil {
		return err
	}
	ctx := context.Background()
	r, closeRunner, err := newRunner(ctx, *wasmPath)
	if err != nil {
		return err
	}
	defer closeRunner()
	var buf bytes.Buffer
	if *population == 0 {
		p, err := r.Preview(ctx, t, ps)
		if err != nil {
			return err
		}
		if xopts.PerWeek > 0 {
			p.Experiments = sim.PlanExperiments(t, xopts)
		}
		switch *format {
		case "json":
			err = p.WriteJSON(&buf)
		case "html":
			err = p.WriteHTML(&buf)
		default:
			err = p.WriteText(&buf)
		}
		if err != nil {
			return err
		}
		return emit(*out, buf.Bytes(), stdout)
	}
	pop, err := runPopulation(ctx, r, t, ps, sim.PopulationOptions{Visitors: *population, Seed: *seed, Epochs: *epochs, Drift: *drift, Forged: *forge, Experiments: xopts}, stderr)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = pop.WriteJSON(&buf)
	case "html":
		err = sim.NewAudit(t, diags, pop).WriteHTML(&buf)
	default:
		err = pop.WriteText(&buf)
		fmt.Fprintf(&buf, "\nsimulated in %.1f s\n", pop.Elapsed.Seconds())
	}
	if err != nil {
		return err
	}
	return emit(*out, buf.Bytes(), stdout)
}

// runPopulation runs a population with a progress bar when stderr is a
// terminal.
func runPopulation(ctx context.Context, r *sim.Runner, t sim.Target, ps *sim.Personas, opts sim.PopulationOptions, stderr io.Writer) (*sim.Population, error) {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(opts.Steps(t.Ruleset),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("simulating"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		opts.Progress = func(k int) { bar.Add(k) }
		defer bar.Finish()
	}
	return r.Population(ctx, t, ps, opts)
}

// experimentFlags are simulate's and audit's flags for a ruleset's
// experiments.
type experimentFlags struct {
	fs        *flag.FlagSet
	baseRate  *float64
	lift      *float64
	traffic   *float64
	powerOnly *bool
}

func addExperimentFlags(fs *flag.FlagSet) *experimentFlags {
	return &experimentFlags{
		fs:        fs,
		baseRate:  fs.Float64("base-rate", sim.DefaultBaseRate, "experiments: the comparison group's `RATE` of reaching a goal in an epoch, for power figures and the simulated run"),
		lift:      fs.Float64("lift", 0, "experiments: the true relative `LIFT` of the simulated run's personalized arm (0.1 is 10%; 0 an A/A test; default each experiment's min_lift)"),
		traffic:   fs.Float64("traffic", 0, "experiments: the outcome `ANSWERS` a week the power figures assume (default the simulated population's)"),
		powerOnly: fs.Bool("power-only", false, "experiments: power figures only, without the population's run through a collector (faster)"),
	}
}

func (f *experimentFlags) liftGiven() bool {
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == "lift" })
	return given
}

// check refuses values that make no sense whatever the ruleset.
func (f *experimentFlags) check() error {
	if b := *f.baseRate; !(b > 0 && b < 1) {
		return errors.New("--base-rate must be a rate between 0 and 1, such as 0.05 for 5%")
	}
	if l := *f.lift; f.liftGiven() && (!(l > -1) || math.IsInf(l, 1)) {
		return errors.New("--lift must be a relative lift above -1, such as 0.1 for 10% (0: no difference)")
	}
	if n := *f.traffic; !(n >= 0) || math.IsInf(n, 1) {
		return errors.New("--traffic must be a number of outcome answers a week, 0 or more")
	}
	return nil
}

// options are the sim's options for rs's experiments; an error names the
// flags that make some person's chance of a goal impossible.
func (f *experimentFlags) options(rs *engine.Ruleset) (sim.ExperimentOptions, error) {
	o := sim.ExperimentOptions{BaseRate: *f.baseRate, PerWeek: *f.traffic, Skip: *f.powerOnly}
	if f.liftGiven() {
		o.Lift = f.lift
	}
	if err := sim.CheckExperiments(rs, o); err != nil {
		return o, fmt.Errorf("--base-rate and --lift: %w", err)
	}
	return o, nil
}

func emit(path string, data []byte, stdout io.Writer) error {
	if path == "" {
		_, err := stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// simTarget reads a ruleset for simulation: a signed .ewr checked against
// keyPath, or YAML or JSON, checked as build checks it and signed in
// memory with a throwaway key. It also returns the ruleset's diagnostics
// (lint's for YAML, buildtime.Validate's otherwise).
// feedFiles is a repeatable --feed flag.
type feedFiles []string

func (f *feedFiles) String() string     { return strings.Join(*f, ",") }
func (f *feedFiles) Set(v string) error { *f = append(*f, v); return nil }

// simTarget reads the ruleset to simulate and the feeds to load with it.
// Feeds are signed with the site's key (or the one the ruleset names for
// them): a YAML ruleset, signed in memory with a throwaway key, then trusts
// keyPath's key for the feeds that name none, as the site's signed ruleset
// would.
func simTarget(path, keyPath string, feedPaths []string) (sim.Target, []ruleset.Diagnostic, error) {
	t, diags, err := simRuleset(path, keyPath, len(feedPaths) > 0)
	if err != nil {
		return t, diags, err
	}
	for _, fp := range feedPaths {
		ewf, err := os.ReadFile(fp)
		if err != nil {
			return t, diags, err
		}
		if _, err := engine.ReadFeedHeader(ewf); err != nil {
			return t, diags, fmt.Errorf("%s: %w", fp, err)
		}
		t.Feeds = append(t.Feeds, sim.FeedFile{Name: fp, EWF: ewf})
	}
	return t, diags, nil
}

func simRuleset(path, keyPath string, feeds bool) (sim.Target, []ruleset.Diagnostic, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sim.Target{}, nil, err
	}
	if bytes.HasPrefix(data, []byte(engine.EWRMagic)) {
		if keyPath == "" {
			return sim.Target{}, nil, fmt.Errorf("%s is a signed ruleset: pass --key SITE.pub to check its signature", path)
		}
		pub, err := keyfile.ReadPublic(keyPath)
		if err != nil {
			return sim.Target{}, nil, err
		}
		rs, err := engine.DecodeRuleset(data, pub)
		if err != nil {
			return sim.Target{}, nil, fmt.Errorf("%s: %w", path, err)
		}
		var diags []ruleset.Diagnostic
		for _, p := range buildtime.Validate(rs) {
			diags = append(diags, ruleset.Diagnostic{File: path, Severity: string(p.Severity), Category: p.Category, Message: p.Path + ": " + p.Message, Hint: p.Hint})
		}
		return sim.Target{Load: abi.LoadRulesetRequest{EWR: data, PublicKey: pub}, Ruleset: rs}, diags, nil
	}
	var feedKey []byte
	if feeds {
		if keyPath == "" {
			return sim.Target{}, nil, errors.New("--feed needs --key SITE.pub: the key the feeds are signed with")
		}
		if feedKey, err = keyfile.ReadPublic(keyPath); err != nil {
			return sim.Target{}, nil, err
		}
	}
	load, err := loadRequestTrusting(path, keyPath, feedKey)
	if err != nil {
		return sim.Target{}, nil, err
	}
	rs, diags := readRuleset(path, data)
	return sim.Target{Load: load, Ruleset: rs}, diags, nil
}

func readPersonas(path string, rs *engine.Ruleset) (*sim.Personas, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ps, err := sim.ParsePersonas(path, src, rs)
	var errs sim.Errors
	if errors.As(err, &errs) {
		// Every problem at once, as lint prints them.
		return nil, fmt.Errorf("%s has %s:\n%s", path, countOf(len(errs), "problem"), strings.TrimSuffix(errs.Format(), "\n"))
	}
	return ps, err
}

// newRunner compiles edgewise.wasm, keeping the compiled code in the
// user's cache directory so later runs skip the compile.
func newRunner(ctx context.Context, explicit string) (*sim.Runner, func(), error) {
	wasm, err := readWasm(explicit)
	if err != nil {
		return nil, nil, err
	}
	var cache wazero.CompilationCache
	if dir, err := os.UserCacheDir(); err == nil {
		if c, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "edgewise", "wazero")); err == nil {
			cache = c
		}
	}
	r, err := sim.NewRunner(ctx, wasm, sim.Config{Cache: cache})
	if err != nil {
		if cache != nil {
			cache.Close(ctx)
		}
		return nil, nil, err
	}
	return r, func() {
		r.Close(ctx)
		if cache != nil {
			cache.Close(ctx)
		}
	}, nil
}

// pathStem is a ruleset's id for output file names.
func pathStem(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' {
			return '-'
		}
		return r
	}, id)
}
