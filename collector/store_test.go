package collector

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
)

// Collectors starting together on a new database all come up, and the
// schema is made once.
func TestMigrationsUnderALock(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": testRuleset("shop", 50, 3)}})
				if err == nil {
					err = c.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("collector %d: %v", i, err)
			}
		}
		want := "2"
		var got []string
		if strings.HasPrefix(db, "postgres://") {
			want = "1,2"
			got = rawQuery(t, db, `SELECT string_agg(version::text, ',' ORDER BY version) FROM edgewise_schema`)
		} else {
			got = rawQuery(t, db, `PRAGMA user_version`)
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("schema versions %q, want %q", got, want)
		}
	})
}

// A database from a newer collector is refused, not written.
func TestNewerSchemaRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		c := newCollector(t, db, testRuleset("shop", 50, 3))
		c.Close()
		if strings.HasPrefix(db, "postgres://") {
			rawQuery(t, db, `INSERT INTO edgewise_schema VALUES (99) RETURNING version::text`)
		} else {
			sdb, _ := sql.Open("sqlite", "file:"+strings.TrimPrefix(db, "sqlite:"))
			if _, err := sdb.Exec(`PRAGMA user_version = 99`); err != nil {
				t.Fatal(err)
			}
			sdb.Close()
		}
		_, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": testRuleset("shop", 50, 3)}})
		if err == nil || !strings.Contains(err.Error(), "schema version 99, newer than this collector knows (2)") {
			t.Fatalf("opening a newer database: %v", err)
		}
	})
}

// A SQLite file made before schema versions were kept (tables, version 0)
// opens with its counts, and is at the newest version after.
func TestUnversionedSQLiteMigrates(t *testing.T) {
	db := backends[0].fresh(t)
	sdb, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(sqliteMigrations[0] + `
		INSERT INTO totals VALUES ('shop', 2921, 'krr', 7);
		INSERT INTO counts VALUES ('shop', 2921, 'krr', 1, 7);`); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	c := newCollector(t, db, testRuleset("shop", 50, 3))
	tl, err := c.load(context.Background(), c.sets["shop"], thisEpoch)
	if err != nil || tl[MechanismKRR].n != 7 || tl[MechanismKRR].counts[1] != 7 {
		t.Fatalf("counts after the migration: %+v, %v", tl[MechanismKRR], err)
	}
	if v := rawQuery(t, db, `PRAGMA user_version`); v[0] != "2" {
		t.Fatalf("user_version %q", v)
	}
}

// Several collectors on one PostgreSQL database, each with its own
// connections and writer, add to the same counters at once: nothing is
// lost, and the per-epoch cap holds across them exactly.
func TestCollectorsShareCountsAndCap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cap      int64
		accepted int64 // of collectors × perCollector reports
	}{{"no cap", -1, 4 * 600}, {"cap", 1000, 1000}} {
		t.Run(tc.name, func(t *testing.T) {
			db := pg.Database(t)
			const collectors, perCollector = 4, 600
			var cs []*Collector
			for range collectors {
				c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": testRuleset("shop", 50, 3, 3)},
					MaxReportsPerEpoch: tc.cap, Now: func() time.Time { return fixedNow }})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				cs = append(cs, c)
			}
			var ok, full atomic.Int64
			perValue := make([]atomic.Int64, 12)
			var wg sync.WaitGroup
			for _, c := range cs {
				for g := range 30 { // 30 senders per collector, so batches form
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range perCollector / 30 {
							v := (g + i) % 12
							err := c.Accept(context.Background(), fmt.Appendf(nil, `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":%d,"epsilon":2}`, v))
							switch ie, _ := err.(*intakeError); {
							case err == nil:
								ok.Add(1)
								perValue[v].Add(1)
							case ie != nil && ie.status == 429:
								full.Add(1)
							default:
								t.Error(err)
							}
						}
					}()
				}
			}
			wg.Wait()
			if ok.Load() != tc.accepted || ok.Load()+full.Load() != collectors*perCollector {
				t.Fatalf("%d counted, %d refused as over the cap; want %d counted", ok.Load(), full.Load(), tc.accepted)
			}
			tl, err := cs[0].load(context.Background(), cs[0].sets["shop"], thisEpoch)
			if err != nil {
				t.Fatal(err)
			}
			if tl[MechanismKRR].n != tc.accepted {
				t.Fatalf("stored %d reports, accepted %d", tl[MechanismKRR].n, tc.accepted)
			}
			for v := range perValue {
				if got, want := tl[MechanismKRR].counts[v], perValue[v].Load(); got != want {
					t.Errorf("cohort %d: stored %d, accepted %d", v, got, want)
				}
			}
		})
	}
}

// KeepEpochs deletes what is older than the epochs it keeps, in every
// ruleset, and nothing else.
func TestKeepEpochs(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		a, b := testRuleset("a", 50, 3), testRuleset("b", 50, 2)
		now := fixedNow
		c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"a": a, "b": b}, KeepEpochs: 3,
			Now: func() time.Time { return now }, MaxReportsPerEpoch: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for e := int64(thisEpoch - 5); e <= thisEpoch; e++ {
			simulate(t, c, a, e, []int{3, 2, 1}, uint64(e))
			simulate(t, c, b, e, []int{1, 1}, uint64(e))
		}
		if _, err := c.prune(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, rs := range []string{"a", "b"} {
			got := rawQuery(t, db, `SELECT DISTINCT CAST(epoch AS text) FROM totals WHERE ruleset = '`+rs+`' ORDER BY 1`)
			if strings.Join(got, ",") != "2919,2920,2921" {
				t.Errorf("ruleset %s keeps epochs %q, want 2919,2920,2921", rs, got)
			}
			if n := rawQuery(t, db, `SELECT CAST(count(*) AS text) FROM counts WHERE ruleset = '`+rs+`' AND epoch < 2919`); n[0] != "0" {
				t.Errorf("ruleset %s: %s count rows of pruned epochs", rs, n[0])
			}
		}
	})
	if _, err := New(Config{Rulesets: map[string]*engine.Ruleset{"a": testRuleset("a", 50, 3)}, KeepEpochs: 1}); err == nil {
		t.Error("KeepEpochs 1 would delete the sizes devices read")
	}
}

// A batch groups by (ruleset, epoch, mechanism) in key order, each group
// keeping its reports' arrival order, and at says where each report went.
func TestGroupBatch(t *testing.T) {
	batch := []*op{
		{ruleset: "b", epoch: 7, mechanism: "krr", value: 1},
		{ruleset: "a", epoch: 8, mechanism: "krr", value: 2},
		{ruleset: "b", epoch: 7, mechanism: "krr", value: 3},
		{ruleset: "a", epoch: 7, mechanism: "krr", value: 4},
		{ruleset: "b", epoch: 7, mechanism: "krr", value: 5},
	}
	groups, at := groupBatch(batch)
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s/%d/%s%v", g.ruleset, g.epoch, g.mechanism, g.values))
	}
	if want := []string{"a/7/krr[4]", "a/8/krr[2]", "b/7/krr[1 3 5]"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("groups %q, want %q", got, want)
	}
	for i, o := range batch {
		if v := groups[at[i][0]].values[at[i][1]]; v != int32(o.value) {
			t.Errorf("report %d (value %d) is at %v, which holds %d", i, o.value, at[i], v)
		}
	}
}
