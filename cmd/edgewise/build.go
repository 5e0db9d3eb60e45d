package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/ruleset"
)

func init() {
	commands["build"] = command{
		usage: "build RULES.yaml|RULES.json --key SITE.key [-o RULES.ewr] [--catalogue CATALOGUE.json]\n      Check a ruleset, compile it and sign it with the site's key into one .ewr file for Edgewise.load.\n      Refuses a ruleset with errors (lint's, or the privacy policy's), printing them. --catalogue also\n      writes the catalogue as the page renders it (id, title, tags, campaign, attributes per item), from\n      the same ruleset, so the page and the engine never disagree about an item.",
		run:   cmdBuild,
	}
}

func cmdBuild(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the site's private key `FILE` (from edgewise keygen)")
	out := fs.String("o", "", "output `FILE` (default: the input's name with .ewr)")
	catalogueOut := fs.String("catalogue", "", "also write the page's catalogue as JSON to `FILE`")
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *keyPath == "" {
		return errors.New("build needs one ruleset file and --key SITE.key (see edgewise help)")
	}
	src := pos[0]
	if *out == "" {
		*out = strings.TrimSuffix(src, filepath.Ext(src)) + ".ewr"
	}
	priv, err := keyfile.ReadPrivate(*keyPath)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	rs, diags := readRuleset(src, data)
	errs := 0
	for _, d := range diags {
		fmt.Fprint(stderr, ruleset.Format(d))
		if d.Severity == ruleset.SeverityError {
			errs++
		}
	}
	if errs > 0 || rs == nil {
		fmt.Fprintf(stderr, "edgewise build: %s has %s; %s was not written\n", src, countOf(errs, "error"), *out)
		return exitCode(1)
	}
	ewr, err := buildtime.EncodeRuleset(rs, priv)
	if err != nil {
		// Lint ran the same validation, so only encoding or signing can fail here.
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := keyfile.WriteFile(*out, ewr, 0o644); err != nil {
		return err
	}
	if *catalogueOut != "" {
		cat, err := json.MarshalIndent(PageCatalogueOf(rs), "", "  ")
		if err != nil {
			return err
		}
		if err := keyfile.WriteFile(*catalogueOut, append(cat, '\n'), 0o644); err != nil {
			return err
		}
	}
	info, _, _ := engine.InspectRuleset(ewr)
	fmt.Fprintf(stdout, "built %s: ruleset %s@%s, %s, %s, %d bytes, signed with key %s\n",
		*out, rs.ID, rs.Version, countOf(len(rs.Catalogue), "item"), countOf(len(rs.Slots), "slot"), len(ewr), info.KeyID)
	return nil
}

// PageCatalogue is what build --catalogue writes: the ruleset's items as the
// page renders them. The ruleset is the one source of truth for items; the
// page reads their titles, attributes (price, image, link) and tags from
// this file instead of keeping a copy by hand.
type PageCatalogue struct {
	Ruleset string     `json:"ruleset"`
	Version string     `json:"version"`
	Items   []PageItem `json:"items"`
}

// PageItem is one item as the page renders it.
type PageItem struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Tags       []string          `json:"tags"`
	Campaign   string            `json:"campaign,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// PageCatalogueOf is the page's catalogue of a ruleset.
func PageCatalogueOf(rs *engine.Ruleset) PageCatalogue {
	c := PageCatalogue{Ruleset: rs.ID, Version: rs.Version, Items: make([]PageItem, len(rs.Catalogue))}
	for i, it := range rs.Catalogue {
		c.Items[i] = PageItem{ID: it.ID, Title: it.Title, Tags: it.Tags, Campaign: it.Campaign, Attributes: it.Attributes}
	}
	return c
}

// readRuleset decodes a ruleset file and checks it as lint does. YAML goes
// through package ruleset, which places problems at lines and columns; JSON
// is decoded strictly, and problems are placed by their JSONPath.
func readRuleset(path string, data []byte) (*engine.Ruleset, []ruleset.Diagnostic) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		diags := ruleset.Lint(path, data)
		rs, _ := ruleset.Parse(path, data)
		return rs, diags
	case ".json":
		var rs engine.Ruleset
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rs); err != nil {
			return nil, []ruleset.Diagnostic{{File: path, Severity: ruleset.SeverityError, Category: ruleset.CategorySyntax, Message: err.Error()}}
		}
		if dec.More() {
			return nil, []ruleset.Diagnostic{{File: path, Severity: ruleset.SeverityError, Category: ruleset.CategorySyntax, Message: "more than one JSON value in the file"}}
		}
		var diags []ruleset.Diagnostic
		for _, p := range buildtime.Validate(&rs) {
			diags = append(diags, ruleset.Diagnostic{File: path, Severity: string(p.Severity), Category: p.Category, Message: p.Path + ": " + p.Message, Hint: p.Hint})
		}
		return &rs, diags
	}
	return nil, []ruleset.Diagnostic{{File: path, Severity: ruleset.SeverityError, Category: ruleset.CategorySyntax,
		Message: "a ruleset file must end in .yaml, .yml or .json"}}
}

// loadRequest is the load_ruleset request for a ruleset file: a signed .ewr
// as it is, with the public key at keyPath; or YAML or JSON, checked as
// build checks it and signed in memory with a throwaway key, for previews.
func loadRequest(path, keyPath string) (abi.LoadRulesetRequest, error) {
	return loadRequestTrusting(path, keyPath, nil)
}

// loadRequestTrusting is loadRequest where a YAML or JSON ruleset, signed
// with a throwaway key, names feedKey for its feeds that name no key.
func loadRequestTrusting(path, keyPath string, feedKey []byte) (abi.LoadRulesetRequest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return abi.LoadRulesetRequest{}, err
	}
	if bytes.HasPrefix(data, []byte(engine.EWRMagic)) {
		if keyPath == "" {
			return abi.LoadRulesetRequest{}, fmt.Errorf("%s is a signed ruleset: pass --key SITE.pub to check its signature", path)
		}
		pub, err := keyfile.ReadPublic(keyPath)
		if err != nil {
			return abi.LoadRulesetRequest{}, err
		}
		return abi.LoadRulesetRequest{EWR: data, PublicKey: pub}, nil
	}
	rs, diags := readRuleset(path, data)
	var errs []string
	for _, d := range diags {
		if d.Severity == ruleset.SeverityError {
			errs = append(errs, strings.TrimSuffix(ruleset.Format(d), "\n"))
		}
	}
	if len(errs) > 0 || rs == nil {
		return abi.LoadRulesetRequest{}, fmt.Errorf("%s has %s (edgewise lint shows them all):\n%s", path, countOf(len(errs), "error"), strings.Join(errs, "\n"))
	}
	if feedKey != nil {
		for i := range rs.Feeds {
			if rs.Feeds[i].Key == "" {
				rs.Feeds[i].Key = base64.StdEncoding.EncodeToString(feedKey)
			}
		}
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return abi.LoadRulesetRequest{}, err
	}
	ewr, err := buildtime.EncodeRuleset(rs, priv)
	if err != nil {
		return abi.LoadRulesetRequest{}, fmt.Errorf("%s: %w", path, err)
	}
	return abi.LoadRulesetRequest{EWR: ewr, PublicKey: pub}, nil
}

func countOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// parseArgsAnyOrder parses flags wherever they appear among the positional
// arguments (`build rules.yaml --key site.key` as well as the other way
// round), and returns the positional ones. Everything after "--" is positional.
func parseArgsAnyOrder(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
