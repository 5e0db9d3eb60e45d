package collector

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// schema is everything the collector stores: counts, and nothing else.
// counts holds, per ruleset, epoch and mechanism, how many reports had entry
// idx set (the reported cohort index for krr, a 1 bit for oue); totals holds
// how many reports there were.
const schema = `
CREATE TABLE IF NOT EXISTS counts (
	ruleset   TEXT    NOT NULL,
	epoch     INTEGER NOT NULL,
	mechanism TEXT    NOT NULL CHECK (mechanism IN ('krr', 'oue')),
	idx       INTEGER NOT NULL CHECK (idx >= 0),
	count     INTEGER NOT NULL CHECK (count >= 0),
	PRIMARY KEY (ruleset, epoch, mechanism, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (
	ruleset   TEXT    NOT NULL,
	epoch     INTEGER NOT NULL,
	mechanism TEXT    NOT NULL CHECK (mechanism IN ('krr', 'oue')),
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
	// One connection: an in-memory database lives in its connection, and
	// writes are serialized anyway.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

var errEpochFull = errors.New("this epoch has all the reports it accepts")

// add counts one report: the entries it sets and one more report.
func (c *Collector) add(ctx context.Context, ruleset string, epoch int64, mechanism string, idx []int) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if c.maxN > 0 {
		var n int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM totals WHERE ruleset = ? AND epoch = ?`, ruleset, epoch).Scan(&n)
		if err != nil {
			return err
		}
		if n >= c.maxN {
			return errEpochFull
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO totals (ruleset, epoch, mechanism, n) VALUES (?, ?, ?, 1)
		ON CONFLICT (ruleset, epoch, mechanism) DO UPDATE SET n = n + 1`, ruleset, epoch, mechanism); err != nil {
		return err
	}
	if len(idx) > 0 {
		var b strings.Builder
		args := make([]any, 0, 4*len(idx))
		b.WriteString(`INSERT INTO counts (ruleset, epoch, mechanism, idx, count) VALUES `)
		for i, x := range idx {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, 1)")
			args = append(args, ruleset, epoch, mechanism, x)
		}
		b.WriteString(` ON CONFLICT (ruleset, epoch, mechanism, idx) DO UPDATE SET count = count + 1`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
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
