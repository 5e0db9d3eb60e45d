package collector

import (
	"context"
	"database/sql"
	"errors"
)

// schema is everything the collector stores: counts, and nothing else.
// counts holds, per ruleset, epoch and mechanism, how many reports named
// cohort index idx; totals holds how many reports there were. The mechanism
// column leaves room for others; krr is the only one.
const schema = `
CREATE TABLE IF NOT EXISTS counts (
	ruleset   TEXT    NOT NULL,
	epoch     INTEGER NOT NULL,
	mechanism TEXT    NOT NULL CHECK (mechanism IN ('krr')),
	idx       INTEGER NOT NULL CHECK (idx >= 0),
	count     INTEGER NOT NULL CHECK (count >= 0),
	PRIMARY KEY (ruleset, epoch, mechanism, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (
	ruleset   TEXT    NOT NULL,
	epoch     INTEGER NOT NULL,
	mechanism TEXT    NOT NULL CHECK (mechanism IN ('krr')),
	n         INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (ruleset, epoch, mechanism)
) WITHOUT ROWID;
`

func openDB(path string) (*sql.DB, error) {
	dsn := "file::memory:"
	if path != "" && path != ":memory:" {
		dsn = "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if dsn == "file::memory:" {
		// One connection: an in-memory database lives in its connection.
		db.SetMaxOpenConns(1)
	} else {
		// In WAL mode readers do not block the writer (writes all go
		// through the one writer goroutine) nor it them.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

var errEpochFull = errors.New("this epoch has all the reports it accepts")

// stmts are the writer's statements, prepared once (a transaction reuses
// them on the connection they were prepared on).
type stmts struct {
	total, count, epochN *sql.Stmt
}

func prepare(db *sql.DB) (*stmts, error) {
	var s stmts
	var err error
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.total, `INSERT INTO totals (ruleset, epoch, mechanism, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (ruleset, epoch, mechanism) DO UPDATE SET n = n + excluded.n`},
		{&s.count, `INSERT INTO counts (ruleset, epoch, mechanism, idx, count) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (ruleset, epoch, mechanism, idx) DO UPDATE SET count = count + excluded.count`},
		{&s.epochN, `SELECT COALESCE(SUM(n), 0) FROM totals WHERE ruleset = ? AND epoch = ?`},
	} {
		if *p.st, err = db.Prepare(p.sql); err != nil {
			return nil, err
		}
	}
	return &s, nil
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

// commit applies a batch of reports in one transaction and returns each
// report's outcome: nil (counted), errEpochFull (refused by the per-epoch
// cap, not counted) or the transaction's error (nothing in the batch
// counted).
func (c *Collector) commit(batch []*op) []error {
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	ctx := context.Background()
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()

	totals := map[totalKey]int64{}
	counts := map[countKey]int64{}
	var seen map[epochKey]int64 // reports per (ruleset, epoch) so far, with the cap
	if c.maxN > 0 {
		seen = map[epochKey]int64{}
	}
	for i, o := range batch {
		if c.maxN > 0 {
			ek := epochKey{o.ruleset, o.epoch}
			n, ok := seen[ek]
			if !ok {
				err := tx.StmtContext(ctx, c.stmts.epochN).QueryRowContext(ctx, o.ruleset, o.epoch).Scan(&n)
				if err != nil {
					return fail(err)
				}
			}
			if n >= c.maxN {
				seen[ek] = n
				errs[i] = errEpochFull
				continue
			}
			seen[ek] = n + 1
		}
		tk := totalKey{o.ruleset, o.epoch, o.mechanism}
		totals[tk]++
		counts[countKey{tk, o.value}]++
	}
	if len(totals) > 0 {
		st := tx.StmtContext(ctx, c.stmts.total)
		for k, n := range totals {
			if _, err := st.ExecContext(ctx, k.ruleset, k.epoch, k.mechanism, n); err != nil {
				st.Close()
				return fail(err)
			}
		}
		st.Close()
	}
	if len(counts) > 0 {
		st := tx.StmtContext(ctx, c.stmts.count)
		for k, n := range counts {
			if _, err := st.ExecContext(ctx, k.ruleset, k.epoch, k.mechanism, k.idx, n); err != nil {
				st.Close()
				return fail(err)
			}
		}
		st.Close()
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
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
	out := map[string]*tally{}
	get := func(m string) *tally {
		t := out[m]
		if t == nil {
			t = &tally{counts: make([]int64, len(s.catalogue))}
			out[m] = t
		}
		return t
	}
	rows, err := c.db.QueryContext(ctx, `SELECT mechanism, n FROM totals WHERE ruleset = ? AND epoch = ?`, s.id, epoch)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var m string
		var n int64
		if err := rows.Scan(&m, &n); err != nil {
			rows.Close()
			return nil, err
		}
		get(m).n = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = c.db.QueryContext(ctx, `SELECT mechanism, idx, count FROM counts WHERE ruleset = ? AND epoch = ?`, s.id, epoch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var idx, n int64
		if err := rows.Scan(&m, &idx, &n); err != nil {
			return nil, err
		}
		if idx >= 0 && idx < int64(len(s.catalogue)) {
			get(m).counts[idx] = n
		}
	}
	return out, rows.Err()
}
