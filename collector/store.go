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

// store is a backend. It is used by one writer goroutine (apply) and any
// number of readers (load, ping).
type store interface {
	// apply runs one transaction. For each of epochs (sorted, distinct) it
	// first reads how many reports are stored, holding whatever lock keeps
	// that figure exact until the transaction ends, even against other
	// collector processes; plan then says what to add, and apply adds it
	// and commits. A nil error means the increments are durable; any error
	// means none of them were stored.
	apply(ctx context.Context, epochs []epochKey, plan func(stored map[epochKey]int64) increments) error
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

// storedRow is one row of totals (idx < 0) or counts.
type storedRow struct {
	mechanism string
	idx       int64
	n         int64
}

// increments are what one transaction adds.
type increments struct {
	totals map[totalKey]int64
	counts map[countKey]int64
}

type epochKey struct {
	ruleset string
	epoch   int64
}

type totalKey struct {
	ruleset   string
	epoch     int64
	mechanism string
}

type countKey struct {
	totalKey
	idx int
}

// sortedTotals and sortedCounts give the increments in key order. Every
// transaction takes its row locks in this one order, so two collectors
// adding to the same rows wait for each other and never deadlock.
func (in increments) sortedTotals() []totalKey {
	keys := make([]totalKey, 0, len(in.totals))
	for k := range in.totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareTotal)
	return keys
}

func (in increments) sortedCounts() []countKey {
	keys := make([]countKey, 0, len(in.counts))
	for k := range in.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		if c := compareTotal(a.totalKey, b.totalKey); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	return keys
}

func compareTotal(a, b totalKey) int {
	return cmp.Or(strings.Compare(a.ruleset, b.ruleset), cmp.Compare(a.epoch, b.epoch), strings.Compare(a.mechanism, b.mechanism))
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
	var epochs []epochKey
	if c.maxN > 0 {
		for _, o := range batch {
			epochs = append(epochs, epochKey{o.ruleset, o.epoch})
		}
		slices.SortFunc(epochs, func(a, b epochKey) int {
			return cmp.Or(strings.Compare(a.ruleset, b.ruleset), cmp.Compare(a.epoch, b.epoch))
		})
		epochs = slices.Compact(epochs)
	}
	plan := func(stored map[epochKey]int64) increments {
		in := increments{totals: map[totalKey]int64{}, counts: map[countKey]int64{}}
		for i, o := range batch {
			errs[i] = nil
			if c.maxN > 0 {
				ek := epochKey{o.ruleset, o.epoch}
				if stored[ek] >= c.maxN {
					errs[i] = errEpochFull
					continue
				}
				stored[ek]++
			}
			tk := totalKey{o.ruleset, o.epoch, o.mechanism}
			in.totals[tk]++
			in.counts[countKey{tk, o.value}]++
		}
		return in
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	start := time.Now()
	err := c.store.apply(ctx, epochs, plan)
	c.metrics.commitDone(len(batch), time.Since(start), err)
	if err != nil {
		err = &errStore{err}
		for i := range errs {
			errs[i] = err
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
