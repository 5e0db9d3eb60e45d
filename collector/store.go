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
// Both keep exactly the same two tables (counts and totals, see the
// migrations of each), and nothing else.

// store is a backend. It is used by one writer goroutine (add) and any
// number of readers (load, ping).
type store interface {
	// add counts batches of reports in one transaction. Each group's values
	// are cohort indices in arrival order. With maxN > 0, a group takes its
	// first values only while its (ruleset, epoch) holds fewer than maxN
	// reports, counting what earlier groups and other collectors stored,
	// exactly. add returns how many of each group's values were counted.
	// A nil error means they are durable; any error means none were
	// stored.
	add(ctx context.Context, groups []group, maxN int64) ([]int, error)
	// load reads one ruleset's epoch: the totals by mechanism and the
	// counts by (mechanism, index).
	load(ctx context.Context, ruleset string, epoch int64) ([]storedRow, error)
	// prune deletes a ruleset's epochs before the given one, and says how
	// many rows went.
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
	values    []int32
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
		g.values = append(g.values, int32(o.value))
	}
	return groups, at
}

// countsOf sums values by cohort index, in index order.
func countsOf(values []int32) (idx []int32, n []int64) {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	for _, v := range sorted {
		if len(idx) > 0 && idx[len(idx)-1] == v {
			n[len(n)-1]++
			continue
		}
		idx = append(idx, v)
		n = append(n, 1)
	}
	return idx, n
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
	for i := range batch {
		switch {
		case err != nil:
			errs[i] = err
		case at[i][1] >= taken[at[i][0]]:
			errs[i] = errEpochFull
		}
	}
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
