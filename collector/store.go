package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Where counts live. A store is one of two backends behind one small
// interface: SQLite (sqlite.go), embedded, for one collector process, and
// PostgreSQL (postgres.go), shared by any number of stateless collectors.
// Both keep exactly the same tables (see the migrations of each), and
// nothing else: counts and totals for cohort answers, outcomes for
// experiments' outcome answers, and outcome_only for the reports that
// carried outcome answers but no cohort answer.

// store is a backend. It is used by one writer goroutine (add) and any
// number of readers (load, ping).
type store interface {
	// add counts batches of reports in one transaction. Each group's values
	// are cohort indices in arrival order (noCohort for a report of outcome
	// answers only). With maxN > 0, a group takes its first values only
	// while its (ruleset, epoch) holds fewer than maxN reports, counting
	// what earlier groups and other collectors stored, exactly. The outcome
	// answers of every report taken are counted in the same transaction,
	// after all the groups (outcomeCounts), and those of a report not
	// taken are not: a report counts whole or not at all. add returns how
	// many of each group's values were counted. A nil error means they are
	// durable; any error means none were stored.
	add(ctx context.Context, groups []group, maxN int64) ([]int, error)
	// load reads one ruleset's epoch: the totals by mechanism and the
	// counts by (mechanism, index).
	load(ctx context.Context, ruleset string, epoch int64) ([]storedRow, error)
	// loadOutcomes reads one ruleset's outcome counts, every epoch's,
	// ordered by experiment, epoch and value.
	loadOutcomes(ctx context.Context, ruleset string) ([]outcomeRow, error)
	// prune deletes a ruleset's epochs before the given one (the outcome
	// counts by the epoch they are about), and says how many rows went.
	prune(ctx context.Context, ruleset string, before int64) (int64, error)
	// ping says whether the database answers.
	ping(ctx context.Context) error
	close() error
}

// group is a batch's reports for one (ruleset, epoch, mechanism).
type group struct {
	ruleset   string
	epoch     int64
	mechanism string
	// values are the reports' cohort indices in arrival order, noCohort
	// for a report that carries outcome answers only.
	values []int32
	// outcomes are the outcome answers the reports carry, each with its
	// report's place in values.
	outcomes []groupOutcome
}

// noCohort is the value of a report without a cohort answer.
const noCohort = -1

// outcome is one outcome answer: a noised value in [0, 4) (2·arm + goal)
// about one epoch of one experiment.
type outcome struct {
	experiment string
	epoch      int64
	value      int32
}

// groupOutcome is an outcome answer of the report at values[report].
type groupOutcome struct {
	report int32
	outcome
}

// outcomeRow is the count of one outcome answer's value, as stored.
type outcomeRow struct {
	ruleset, experiment string
	epoch               int64
	value               int32
	n                   int64
}

// storedRow is one row of totals (idx < 0) or counts.
type storedRow struct {
	mechanism string
	idx       int64
	n         int64
}

// groupBatch splits a batch into groups, sorted by (ruleset, epoch,
// mechanism): every transaction takes its locks in this one order, so two
// collectors adding to the same rows wait for each other and never
// deadlock. Within a group the reports keep their arrival order (the cap
// takes the first). at[i] is report i's group and its place in it.
func groupBatch(batch []*op) (groups []group, at [][2]int) {
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := batch[a], batch[b]
		return cmp.Or(strings.Compare(x.ruleset, y.ruleset), cmp.Compare(x.epoch, y.epoch), strings.Compare(x.mechanism, y.mechanism))
	})
	at = make([][2]int, len(batch))
	for _, i := range order {
		o := batch[i]
		if n := len(groups); n == 0 || groups[n-1].ruleset != o.ruleset || groups[n-1].epoch != o.epoch || groups[n-1].mechanism != o.mechanism {
			groups = append(groups, group{ruleset: o.ruleset, epoch: o.epoch, mechanism: o.mechanism})
		}
		g := &groups[len(groups)-1]
		at[i] = [2]int{len(groups) - 1, len(g.values)}
		for _, oc := range o.outcomes {
			g.outcomes = append(g.outcomes, groupOutcome{int32(len(g.values)), oc})
		}
		g.values = append(g.values, int32(o.value))
	}
	return groups, at
}

// outcomeCounts sums the outcome answers of the reports taken (the first
// taken[i] of group i), sorted by (ruleset, experiment, epoch, value):
// the order every transaction locks their rows in, after all the groups'
// rows. The rows are shared by groups (answers about one epoch come with
// reports of several), so adding them group by group would lock them in
// no one order, and two collectors could deadlock.
func outcomeCounts(groups []group, taken []int) []outcomeRow {
	var rows []outcomeRow
	for gi, g := range groups {
		for _, o := range g.outcomes {
			if int(o.report) < taken[gi] {
				rows = append(rows, outcomeRow{ruleset: g.ruleset, experiment: o.experiment, epoch: o.epoch, value: o.value, n: 1})
			}
		}
	}
	order := func(a, b outcomeRow) int {
		return cmp.Or(strings.Compare(a.ruleset, b.ruleset), strings.Compare(a.experiment, b.experiment),
			cmp.Compare(a.epoch, b.epoch), cmp.Compare(a.value, b.value))
	}
	slices.SortFunc(rows, order)
	out := rows[:0]
	for _, r := range rows {
		if n := len(out); n > 0 && order(out[n-1], r) == 0 {
			out[n-1].n += r.n
			continue
		}
		out = append(out, r)
	}
	return out
}

// countsOf sums values by cohort index, in index order, leaving out the
// reports without a cohort answer, which it counts apart (bare).
func countsOf(values []int32) (idx []int32, n []int64, bare int64) {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	for _, v := range sorted {
		if v == noCohort {
			bare++
			continue
		}
		if len(idx) > 0 && idx[len(idx)-1] == v {
			n[len(n)-1]++
			continue
		}
		idx = append(idx, v)
		n = append(n, 1)
	}
	return idx, n, bare
}

// openStore opens the database a Config names:
//
//	"" or ":memory:"                 SQLite in memory (tests)
//	sqlite:PATH, or a bare PATH      a SQLite file
//	postgres://… or postgresql://…   PostgreSQL (a pgx connection string)
//
// and brings its schema up to date (migrations run under a lock, so
// collectors starting together are safe).
func openStore(ctx context.Context, db string) (store, error) {
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return openPostgres(ctx, db)
	case strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(db, "sqlite:")
		if path == "" {
			return nil, errors.New("collector: sqlite: needs a file, as in sqlite:counts.db")
		}
		return openSQLite(ctx, path)
	case strings.Contains(db, "://"):
		scheme, _, _ := strings.Cut(db, "://")
		return nil, fmt.Errorf("collector: database %q: unknown scheme %q; use sqlite:FILE or postgres://…", redactDSN(db), scheme)
	}
	return openSQLite(ctx, db)
}

// redactDSN hides a connection string's password, for errors and logs.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@')
	if at < 0 {
		return dsn
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return dsn
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

var errEpochFull = errors.New("this epoch has all the reports it accepts")

// newerSchema refuses a database that a newer collector migrated: its
// tables may mean what this one does not know.
func newerSchema(have, know int) error {
	return fmt.Errorf("the database is at schema version %d, newer than this collector knows (%d); run a newer collector", have, know)
}

// errStore marks a failure of the database, as opposed to a refused
// report: the intake answers it with 503 and Retry-After.
type errStore struct{ err error }

func (e *errStore) Error() string { return "collector: database: " + e.err.Error() }
func (e *errStore) Unwrap() error { return e.err }

// commit applies a batch of reports in one transaction and returns each
// report's outcome: nil (counted), errEpochFull (refused by the per-epoch
// cap, not counted) or the transaction's error (nothing in the batch
// counted).
func (c *Collector) commit(batch []*op) []error {
	errs := make([]error, len(batch))
	groups, at := groupBatch(batch)
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	start := time.Now()
	taken, err := c.store.add(ctx, groups, c.maxN)
	c.metrics.commitDone(len(batch), time.Since(start), err)
	if err != nil {
		err = &errStore{err}
	}
	answers := 0
	for i, o := range batch {
		switch {
		case err != nil:
			errs[i] = err
		case at[i][1] >= taken[at[i][0]]:
			errs[i] = errEpochFull
		default:
			answers += len(o.outcomes)
		}
	}
	c.metrics.outcomeAnswers.Add(float64(answers))
	return errs
}

// tally is what is stored for one (ruleset, epoch, mechanism).
type tally struct {
	n      int64
	counts []int64 // by cohort index
}

// load reads the tallies of one ruleset and epoch, by mechanism.
func (c *Collector) load(ctx context.Context, s *set, epoch int64) (map[string]*tally, error) {
	rows, err := c.store.load(ctx, s.id, epoch)
	if err != nil {
		return nil, &errStore{err}
	}
	out := map[string]*tally{}
	for _, r := range rows {
		t := out[r.mechanism]
		if t == nil {
			t = &tally{counts: make([]int64, len(s.catalogue))}
			out[r.mechanism] = t
		}
		switch {
		case r.idx < 0:
			t.n = r.n
		case r.idx < int64(len(s.catalogue)):
			t.counts[r.idx] = r.n
		}
	}
	return out, nil
}
