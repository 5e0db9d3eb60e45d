package collector

import (
	"context"
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// sqliteMigrations are the SQLite schema's versions, applied in order and
// recorded in PRAGMA user_version. The first is the schema as it was before
// versions were kept (hence IF NOT EXISTS): a database made then is at
// version 0 and simply moves to 1.
var sqliteMigrations = []string{
	// 1: counts holds, per ruleset, epoch and mechanism, how many reports
	// named cohort index idx; totals holds how many reports there were. The
	// mechanism column leaves room for others; krr is the only one.
	`CREATE TABLE IF NOT EXISTS counts (
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
	) WITHOUT ROWID;`,
	// 2: experiments. outcomes holds, per ruleset, experiment and the
	// epoch the answers are about (not the epoch of the reports that
	// carried them), how many outcome answers had each value (2·arm +
	// goal, noised). outcome_only holds, per ruleset and report epoch, how
	// many reports carried outcome answers and no cohort answer: they
	// count toward the epoch's cap, and are kept out of totals, whose n
	// debiases the cohort counts.
	`CREATE TABLE outcomes (
		ruleset    TEXT    NOT NULL,
		experiment TEXT    NOT NULL,
		epoch      INTEGER NOT NULL,
		value      INTEGER NOT NULL CHECK (value BETWEEN 0 AND 3),
		count      INTEGER NOT NULL CHECK (count >= 0),
		PRIMARY KEY (ruleset, experiment, epoch, value)
	) WITHOUT ROWID;
	CREATE TABLE outcome_only (
		ruleset TEXT    NOT NULL,
		epoch   INTEGER NOT NULL,
		n       INTEGER NOT NULL CHECK (n >= 0),
		PRIMARY KEY (ruleset, epoch)
	) WITHOUT ROWID;`,
}

// sqliteStore is the embedded backend: one file, written by one collector
// process (its writer goroutine), read by any.
type sqliteStore struct {
	db                                  *sql.DB
	total, count, bare, outcome, epochN *sql.Stmt
}

func openSQLite(ctx context.Context, path string) (*sqliteStore, error) {
	dsn := "file::memory:"
	if path != "" && path != ":memory:" {
		// _txlock=immediate: a transaction takes the write lock when it
		// begins, so the migrations' check-then-apply and the cap's
		// read-then-add hold even if a second process opens the file.
		dsn = "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
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
	s := &sqliteStore{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("collector: sqlite %s: %w", path, err)
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.total, `INSERT INTO totals (ruleset, epoch, mechanism, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (ruleset, epoch, mechanism) DO UPDATE SET n = n + excluded.n`},
		{&s.count, `INSERT INTO counts (ruleset, epoch, mechanism, idx, count) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (ruleset, epoch, mechanism, idx) DO UPDATE SET count = count + excluded.count`},
		{&s.bare, `INSERT INTO outcome_only (ruleset, epoch, n) VALUES (?, ?, ?)
			ON CONFLICT (ruleset, epoch) DO UPDATE SET n = n + excluded.n`},
		{&s.outcome, `INSERT INTO outcomes (ruleset, experiment, epoch, value, count) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (ruleset, experiment, epoch, value) DO UPDATE SET count = count + excluded.count`},
		// Every report of the epoch: with a cohort answer or without.
		{&s.epochN, `SELECT (SELECT COALESCE(SUM(n), 0) FROM totals WHERE ruleset = ?1 AND epoch = ?2)
			+ (SELECT COALESCE(SUM(n), 0) FROM outcome_only WHERE ruleset = ?1 AND epoch = ?2)`},
	} {
		if *p.st, err = db.PrepareContext(ctx, p.sql); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// migrate applies the migrations the file lacks, in one transaction that
// holds the write lock from its start.
func (s *sqliteStore) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(sqliteMigrations) {
		return newerSchema(version, len(sqliteMigrations))
	}
	for v := version; v < len(sqliteMigrations); v++ {
		if _, err := tx.ExecContext(ctx, sqliteMigrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(sqliteMigrations))); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *sqliteStore) add(ctx context.Context, groups []group, maxN int64) ([]int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	taken := make([]int, len(groups))
	type epochKey struct {
		ruleset string
		epoch   int64
	}
	stored := map[epochKey]int64{}
	total, count := tx.StmtContext(ctx, s.total), tx.StmtContext(ctx, s.count)
	for gi, g := range groups {
		take := len(g.values)
		if maxN > 0 {
			key := epochKey{g.ruleset, g.epoch}
			n, ok := stored[key]
			if !ok {
				if err := tx.StmtContext(ctx, s.epochN).QueryRowContext(ctx, g.ruleset, g.epoch).Scan(&n); err != nil {
					return nil, err
				}
			}
			take = int(min(int64(take), max(maxN-n, 0)))
			stored[key] = n + int64(take)
		}
		if taken[gi] = take; take == 0 {
			continue
		}
		idx, ns, bare := countsOf(g.values[:take])
		if cohort := int64(take) - bare; cohort > 0 {
			if _, err := total.ExecContext(ctx, g.ruleset, g.epoch, g.mechanism, cohort); err != nil {
				return nil, err
			}
		}
		for i := range idx {
			if _, err := count.ExecContext(ctx, g.ruleset, g.epoch, g.mechanism, idx[i], ns[i]); err != nil {
				return nil, err
			}
		}
		if bare > 0 {
			if _, err := tx.StmtContext(ctx, s.bare).ExecContext(ctx, g.ruleset, g.epoch, bare); err != nil {
				return nil, err
			}
		}
	}
	if rows := outcomeCounts(groups, taken); len(rows) > 0 {
		st := tx.StmtContext(ctx, s.outcome)
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, r.ruleset, r.experiment, r.epoch, r.value, r.n); err != nil {
				return nil, err
			}
		}
	}
	return taken, tx.Commit()
}

func (s *sqliteStore) load(ctx context.Context, ruleset string, epoch int64) ([]storedRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT mechanism, -1, n FROM totals WHERE ruleset = ?1 AND epoch = ?2
		UNION ALL SELECT mechanism, idx, count FROM counts WHERE ruleset = ?1 AND epoch = ?2`, ruleset, epoch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedRow
	for rows.Next() {
		var r storedRow
		if err := rows.Scan(&r.mechanism, &r.idx, &r.n); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqliteStore) loadOutcomes(ctx context.Context, ruleset string) ([]outcomeRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT experiment, epoch, value, count FROM outcomes WHERE ruleset = ?
		ORDER BY experiment, epoch, value`, ruleset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outcomeRow
	for rows.Next() {
		r := outcomeRow{ruleset: ruleset}
		if err := rows.Scan(&r.experiment, &r.epoch, &r.value, &r.n); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqliteStore) prune(ctx context.Context, ruleset string, before int64) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int64
	for _, q := range []string{`DELETE FROM counts WHERE ruleset = ? AND epoch < ?`, `DELETE FROM totals WHERE ruleset = ? AND epoch < ?`,
		`DELETE FROM outcomes WHERE ruleset = ? AND epoch < ?`, `DELETE FROM outcome_only WHERE ruleset = ? AND epoch < ?`} {
		res, err := tx.ExecContext(ctx, q, ruleset, before)
		if err != nil {
			return 0, err
		}
		m, _ := res.RowsAffected()
		n += m
	}
	return n, tx.Commit()
}

func (s *sqliteStore) ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *sqliteStore) close() error { return s.db.Close() }
