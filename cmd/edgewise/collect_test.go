package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/keyfile"
)

func TestCollectServesReports(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	ewr := filepath.Join(t.TempDir(), "outdoor.ewr")
	if _, errOut, code := runCLI(t, "build", "../../examples/outdoor-shop.yaml", "--key", keyPath, "-o", ewr); code != 0 {
		t.Fatalf("build: %d %s", code, errOut)
	}
	data, _ := os.ReadFile(ewr)
	pub, _ := keyfile.ReadPublic(pubPath)
	rs, err := engine.DecodeRuleset(data, pub)
	if err != nil {
		t.Fatal(err)
	}
	k := len(collector.Catalogue(rs))
	epochDays := rs.Reporting.EpochDays
	if epochDays == 0 {
		epochDays = 7
	}
	eps := rs.Reporting.Epsilon
	if eps == 0 {
		eps = engine.DefaultEpsilon
	}
	epoch := time.Now().UnixMilli() / (int64(epochDays) * 86_400_000)

	base, stop := startCollect(t, "--ruleset", ewr, "--key", pubPath, "--db", filepath.Join(t.TempDir(), "reports.db"))

	body := fmt.Sprintf(`{"ruleset":%q,"epoch":%d,"mechanism":"krr","value":%d,"epsilon":%g}`, rs.ID, epoch, k-1, eps)
	resp, err := http.Post(base+"/v1/reports", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || len(resp.Cookies()) > 0 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("report: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Get(fmt.Sprintf("%s/v1/estimates?ruleset=%s&epoch=%d", base, rs.ID, epoch))
	if err != nil {
		t.Fatal(err)
	}
	var est collector.Estimates
	json.NewDecoder(resp.Body).Decode(&est)
	resp.Body.Close()
	if resp.StatusCode != 200 || est.N != 1 || len(est.Cohorts) != k {
		t.Fatalf("estimates: %d n=%d cohorts=%d (K=%d)", resp.StatusCode, est.N, len(est.Cohorts), k)
	}
	stop()
}

// startCollect runs collect with args on a free port and returns its base
// URL, and a function that stops it and checks it exited cleanly.
func startCollect(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runCollect(ctx, append(args, "--addr", "127.0.0.1:0"), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no banner: %v (exit %v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	const prefix = "Edgewise collector listening on "
	if !strings.HasPrefix(line, prefix) {
		cancel()
		t.Fatalf("banner %q", line)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, prefix)), func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("collect: %v", err)
		}
	}
}

// A signed ruleset with an experiment: collect takes reports with its
// outcome answers and serves their analysis, with the horizon it was
// given.
func TestCollectServesExperiments(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	ewr := filepath.Join(t.TempDir(), "outdoor.ewr")
	if _, errOut, code := runCLI(t, "build", "../../examples/outdoor-shop.yaml", "--key", keyPath, "-o", ewr); code != 0 {
		t.Fatalf("build: %d %s", code, errOut)
	}
	data, _ := os.ReadFile(ewr)
	pub, _ := keyfile.ReadPublic(pubPath)
	rs, err := engine.DecodeRuleset(data, pub)
	if err != nil {
		t.Fatal(err)
	}
	rs.Experiments = []engine.Experiment{{ID: "hero-lift", Slots: []string{"home-hero"}, Holdout: 0.1, Goals: []string{engine.GoalPurchase}}}
	priv, err := keyfile.ReadPrivate(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if data, err = buildtime.EncodeRuleset(rs, priv); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ewr, data, 0o644); err != nil {
		t.Fatal(err)
	}
	base, stop := startCollect(t, "--ruleset", ewr, "--key", pubPath, "--db", filepath.Join(t.TempDir(), "reports.db"), "--experiment-horizon", "20000")
	defer stop()

	epoch := time.Now().UnixMilli() / (int64(rs.Reporting.EpochDays) * 86_400_000)
	body := fmt.Sprintf(`{"ruleset":%q,"epoch":%d,"mechanism":"krr","epsilon":%g,"outcomes":[{"experiment":"hero-lift","epoch":%d,"value":3,"epsilon":1}]}`,
		rs.ID, epoch, rs.Reporting.Epsilon, epoch-1)
	resp, err := http.Post(base+"/v1/reports", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("a report with an outcome answer: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/v1/experiments?ruleset=" + rs.ID)
	if err != nil {
		t.Fatal(err)
	}
	var res collector.Experiments
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(res.Experiments) != 1 {
		t.Fatalf("experiments: %d %+v", resp.StatusCode, res)
	}
	x := res.Experiments[0]
	if x.ID != "hero-lift" || x.Horizon != 20000 || len(x.Epochs) != 1 || x.Epochs[0].Epoch != epoch-1 || x.Cumulative.Reports != 1 || x.Cumulative.Verdict == "" {
		t.Errorf("hero-lift: %+v", x)
	}
}

func TestCollectErrors(t *testing.T) {
	good := newSite(t)
	goodEWR, goodPub := good.ewr, good.pub
	_, pubPath := keygen(t, "site")
	otherKey, _ := keygen(t, "other")
	ewr := filepath.Join(t.TempDir(), "outdoor.ewr")
	if _, errOut, code := runCLI(t, "build", "../../examples/outdoor-shop.yaml", "--key", otherKey, "-o", ewr); code != 0 {
		t.Fatalf("build: %d %s", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"collect"}, "collect needs --ruleset"},
		{[]string{"collect", "--ruleset", ewr}, "collect needs --ruleset"},
		{[]string{"collect", "--ruleset", ewr, "--key", pubPath}, ewr},
		{[]string{"collect", "--ruleset", "missing.ewr", "--key", pubPath}, "missing.ewr"},
		{[]string{"collect", "--ruleset", goodEWR, "--key", goodPub, "--db", "mysql://u:secret@db/x"}, `unknown scheme "mysql"; use sqlite:FILE or postgres://`},
		{[]string{"collect", "--ruleset", goodEWR, "--key", goodPub, "--db", "sqlite:"}, "sqlite: needs a file"},
		{[]string{"collect", "--ruleset", goodEWR, "--key", goodPub, "--db", "postgres://u:secret@/nodb?host=/nonexistent&connect_timeout=1"}, "postgres://u:xxxxx@/nodb"},
		{[]string{"collect", "--ruleset", goodEWR, "--key", goodPub, "--keep-epochs", "1"}, "KeepEpochs 1"},
		{[]string{"collect", "--ruleset", goodEWR, "--key", goodPub, "--trusted-proxy", "lb.internal"}, `trusted proxy "lb.internal"`},
		{[]string{"collect", "--ruleset", goodEWR, "--key", goodPub, "--experiment-horizon", "-5"}, "ExperimentHorizon -5"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "secret") {
			t.Errorf("%q: code %d, stderr %q", tc.args, code, errOut)
		}
	}
}

// collect's help names exactly the collector paths the README documents.
func TestCollectHelpMatchesTheReadme(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	paths := regexp.MustCompile(`/v1/[a-z-]+`)
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, p := range paths.FindAllString(s, -1) {
			m[p] = true
		}
		return m
	}
	documented, help := set(string(readme)), set(commands["collect"].usage)
	if len(documented) == 0 {
		t.Fatal("the README names no collector path")
	}
	for p := range help {
		if !documented[p] {
			t.Errorf("collect --help names %s, which the README does not document", p)
		}
	}
	for p := range documented {
		if !help[p] {
			t.Errorf("the README documents %s, which collect --help does not name", p)
		}
	}
}
