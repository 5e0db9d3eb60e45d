package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/internal/lift"
)

func init() {
	commands["collect"] = command{
		usage: "collect --ruleset FILE.ewr [--ruleset ...] --key SITE.pub [--origin https://SITE ...] [--audience N] [--forgery-margin N] [--experiment-horizon N] [--db sqlite:FILE|postgres://...] [--trusted-proxy CIDR ...] [--keep-epochs N] [--addr HOST:PORT]\n      Run the cohort report collector: POST /v1/reports, GET /v1/cohorts, GET /v1/cohort-sizes,\n      GET /v1/experiments, and GET /metrics, /healthz, /readyz for operators. Any number of collectors\n      may share one PostgreSQL database. It stores only counts, never addresses, user agents, cookies\n      or report bodies.",
		run: func(args []string, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runCollect(ctx, args, stdout, stderr)
		},
	}
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runCollect serves until ctx is done.
func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var paths stringList
	fs.Var(&paths, "ruleset", "a signed ruleset `FILE.ewr` to collect reports for (repeatable)")
	keyPath := fs.String("key", "", "the public key `FILE` the rulesets are signed with (required)")
	dbDefault := "sqlite:edgewise-reports.db"
	if env := os.Getenv("EDGEWISE_DB"); env != "" {
		dbDefault = env
	}
	dbPath := fs.String("db", dbDefault, "where the counts live: `sqlite:FILE` (one collector) or postgres://USER@HOST/DB (any number); default $EDGEWISE_DB, which keeps a password off the command line")
	addr := fs.String("addr", "127.0.0.1:8090", "`HOST:PORT` to listen on")
	maxBody := fs.Int64("max-body", collector.DefaultMaxBodyBytes, "largest report body in `BYTES`")
	maxN := fs.Int64("max-per-epoch", 0, "most reports counted per ruleset and epoch (0: twice --audience, or "+strconv.Itoa(collector.DefaultMaxReportsPerEpoch)+"; -1: no limit)")
	audience := fs.Int64("audience", 0, "how many `PEOPLE` are expected to report per ruleset and epoch; sizes the default --max-per-epoch")
	var origins stringList
	fs.Var(&origins, "origin", "an `ORIGIN` (https://shop.example) whose pages may post reports (repeatable); the collector's own origin always may")
	keep := fs.Int("keep-epochs", 0, "keep the last `N` epochs of counts (this one included) and delete older ones, hourly; 0 keeps them all, otherwise at least 2. Outcome answers go by the epoch they are about: keep an experiment's whole run")
	var proxies stringList
	fs.Var(&proxies, "trusted-proxy", "the `ADDRESS or CIDR` of a load balancer in front of the collector (repeatable): requests from it count against the visitor address it appends to X-Forwarded-For")
	grace := fs.Duration("epoch-grace", collector.DefaultEpochGrace, "how long after an epoch ends its reports are still accepted")
	perSource := fs.Int("per-source-hour", collector.DefaultSourceReportsPerHour, "most reports one address may send an hour (-1: no limit); addresses are counted under a keyed hash, in memory only")
	margin := fs.Int("forgery-margin", collector.DefaultForgeryMargin, "`N` forged reports must not be enough to publish the size of a cohort nobody is in (0: no margin); a larger N withholds more small real cohorts")
	horizon := fs.Float64("experiment-horizon", lift.DefaultHorizon, "the outcome `ANSWERS` at which each experiment's confidence sequences are tightest; set it before an experiment starts, to the answers it plans for, and leave it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("collect takes no arguments, got %q", fs.Args())
	}
	if len(paths) == 0 || *keyPath == "" {
		return errors.New("collect needs --ruleset FILE.ewr and --key SITE.pub")
	}
	pub, err := keyfile.ReadPublic(*keyPath)
	if err != nil {
		return err
	}
	rulesets := map[string]*engine.Ruleset{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rs, err := engine.DecodeRuleset(data, pub)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if _, dup := rulesets[rs.ID]; dup {
			return fmt.Errorf("%s: ruleset %q given twice", p, rs.ID)
		}
		if len(rs.Cohorts.Dimensions) == 0 && len(rs.Experiments) == 0 {
			return fmt.Errorf("%s: ruleset %q defines no cohorts and no experiments, so it has nothing to report", p, rs.ID)
		}
		rulesets[rs.ID] = rs
	}
	if *grace <= 0 {
		*grace = -1 // the current epoch only
	}
	if *margin <= 0 {
		*margin = -1 // Config's 0 is the default
	}
	c, err := collector.New(collector.Config{DB: *dbPath, Rulesets: rulesets, MaxBodyBytes: *maxBody, MaxReportsPerEpoch: *maxN,
		Audience: *audience, Origins: origins, TrustedProxies: proxies, KeepEpochs: *keep, EpochGrace: *grace, SourceReportsPerHour: *perSource, ForgeryMargin: *margin,
		ExperimentHorizon: *horizon,
		Log:               slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		// No logging at all: net/http's own error log names remote
		// addresses, and the collector must not record who reported.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	fmt.Fprintf(stdout, "Edgewise collector listening on http://%s\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
