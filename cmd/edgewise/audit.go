package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/edgewise/edgewise/internal/sim"
)

func init() {
	commands["audit"] = command{
		usage: "audit RULESET [--personas FILE] [--population N | --full] [--epochs N] [--drift P] [--forge N] [--seed S] [--out DIR] [--key SITE.pub] [--wasm PATH]\n" +
			"      [--base-rate R] [--lift L] [--traffic N] [--power-only]\n" +
			"      Write a privacy report, DIR/ID-audit.md and DIR/ID-audit.html: signals and purposes, the privacy policy's\n" +
			"      findings, cohorts and k, ε per report and per year, and a simulated population's cohort sizes and\n" +
			"      re-identification curve, and how many forged reports publish a cohort nobody is in. Without --personas,\n" +
			"      visitors are drawn from the catalogue. A ruleset's experiments get a section: the weeks each needs to find\n" +
			"      a lift, and the population's run of them with a known true lift through a real collector (see simulate).",
		run: cmdAudit,
	}
}

func cmdAudit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wasmPath := wasmFlag(fs)
	keyPath := fs.String("key", "", "the public key `FILE` a .ewr ruleset must be signed with")
	personasPath := fs.String("personas", "", "the personas `FILE` visitors are drawn from (default: one per catalogue item)")
	population := fs.Int("population", sim.QuickPopulation, "simulated `VISITORS` (default a quick check; --full for the reference population)")
	full := fs.Bool("full", false, "simulate the reference population of "+strconv.Itoa(sim.FullPopulation)+" visitors that the privacy targets are stated for (slower)")
	epochs := fs.Int("epochs", sim.DefaultEpochs, "report `EPOCHS` to simulate")
	drift := fs.Float64("drift", sim.DefaultDrift, "the `P`robability, each epoch, that a visitor's dominant interest shifts (0: never)")
	forge := fs.Int("forge", 0, "an adversary posts `N` forged reports naming a cohort nobody is in, beside the first epoch's real ones")
	seed := fs.Uint64("seed", 1, "`SEED` of the visitors and the report noise")
	outDir := fs.String("out", ".", "`DIR` to write the report to")
	var feeds feedFiles
	fs.Var(&feeds, "feed", "a signed context feed `FILE.ewf` the ruleset names, loaded into every engine (repeatable)")
	xf := addExperimentFlags(fs)
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("audit needs one ruleset file (see edgewise help)")
	}
	if *full {
		explicit := false
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "population" })
		if explicit {
			return errors.New("--full and --population both set the population: give one")
		}
		*population = sim.FullPopulation
	}
	if *population < 1 || *epochs < 1 {
		return errors.New("--population and --epochs must be at least 1")
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
	t, diags, err := simTarget(pos[0], *keyPath, feeds)
	if err != nil {
		return err
	}
	xopts, err := xf.options(t.Ruleset)
	if err != nil {
		return err
	}
	if len(t.Ruleset.Cohorts.Dimensions) == 0 {
		// No cohort reports. Without experiments nothing leaves at all,
		// the most private kind of ruleset: its audit has the signals and
		// the policy's findings, and says so. With experiments, their
		// outcome answers leave: the audit says so and has their power
		// figures at --traffic (no population to simulate).
		a := sim.NewAudit(t, diags, nil)
		summary := "no cohorts: nothing leaves the device"
		if a.Experiments = sim.PlanExperiments(t, xopts); a.Experiments != nil {
			summary = "no cohorts: only experiments' outcome answers leave the device"
		}
		return writeAudit(a, t.Ruleset.ID, *outDir, stdout, summary)
	}
	var ps *sim.Personas
	if *personasPath != "" {
		if ps, err = readPersonas(*personasPath, t.Ruleset); err != nil {
			return err
		}
	} else {
		ps = sim.CataloguePersonas(t.Ruleset, time.Now().UTC().Truncate(24*time.Hour))
	}
	ctx := context.Background()
	r, closeRunner, err := newRunner(ctx, *wasmPath)
	if err != nil {
		return err
	}
	defer closeRunner()
	pop, err := runPopulation(ctx, r, t, ps, sim.PopulationOptions{Visitors: *population, Seed: *seed, Epochs: *epochs, Drift: *drift, Forged: *forge, Experiments: xopts}, stderr)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("%d visitors, %d epochs, %.1f s", pop.Visitors, pop.Epochs, pop.Elapsed.Seconds())
	if err := writeAudit(sim.NewAudit(t, diags, pop), t.Ruleset.ID, *outDir, stdout, summary); err != nil {
		return err
	}
	if v := pop.Verdict(); v != "" {
		fmt.Fprintln(stdout, v)
	}
	if pop.Visitors < sim.FullPopulation {
		fmt.Fprintf(stdout, "A quick check of %d visitors: --full simulates the %d the privacy targets are stated for.\n", pop.Visitors, sim.FullPopulation)
	}
	return nil
}

// writeAudit writes a's Markdown and HTML into dir, and says so.
func writeAudit(a *sim.Audit, id, dir string, stdout io.Writer, summary string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stem := filepath.Join(dir, pathStem(id)+"-audit")
	var md, html bytes.Buffer
	if err := a.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := a.WriteHTML(&html); err != nil {
		return err
	}
	if err := os.WriteFile(stem+".md", md.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(stem+".html", html.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s.md and %s.html (%s)\n", stem, stem, summary)
	return nil
}
