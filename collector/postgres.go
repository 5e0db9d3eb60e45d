package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgMigrations are the PostgreSQL schema's versions, applied in order, each
// recorded in edgewise_schema. The tables are SQLite's (sqlite.go), with
// PostgreSQL's types.
var pgMigrations = []string{
	// 1: the counts and totals.
	`CREATE TABLE counts (
		ruleset   text    NOT NULL,
		epoch     bigint  NOT NULL,
		mechanism text    NOT NULL CHECK (mechanism IN ('krr')),
		idx       integer NOT NULL CHECK (idx >= 0),
		count     bigint  NOT NULL CHECK (count >= 0),
		PRIMARY KEY (ruleset, epoch, mechanism, idx)
	);
	CREATE TABLE totals (
		ruleset   text   NOT NULL,
		epoch     bigint NOT NULL,
		mechanism text   NOT NULL CHECK (mechanism IN ('krr')),
		n         bigint NOT NULL CHECK (n >= 0),
		PRIMARY KEY (ruleset, epoch, mechanism)
	);
	-- edgewise_add counts one group of a batch: the reports of one
	-- (ruleset, epoch, mechanism), as cohort indices in arrival order. With
	-- a cap, it takes the epoch's advisory lock, reads the epoch's total
	-- (a statement of its own, so it sees every commit made before the lock
	-- was granted) and counts only the first values that fit. It returns
	-- how many it counted. A collector sends a whole batch's calls in one
	-- round trip.
	CREATE FUNCTION edgewise_add(p_ruleset text, p_epoch bigint, p_mechanism text, p_values integer[], p_cap bigint)
	RETURNS integer LANGUAGE plpgsql AS $$
	DECLARE
		stored bigint;
		take integer := cardinality(p_values);
	BEGIN
		IF p_cap > 0 THEN
			PERFORM pg_advisory_xact_lock(hashtextextended(p_ruleset, p_epoch));
			SELECT COALESCE(sum(n), 0) INTO stored FROM totals WHERE ruleset = p_ruleset AND epoch = p_epoch;
			take := LEAST(take, GREATEST(p_cap - stored, 0));
		END IF;
		IF take = 0 THEN
			RETURN 0;
		END IF;
		INSERT INTO totals AS t (ruleset, epoch, mechanism, n) VALUES (p_ruleset, p_epoch, p_mechanism, take)
			ON CONFLICT (ruleset, epoch, mechanism) DO UPDATE SET n = t.n + excluded.n;
		-- In index order, as every transaction takes its row locks.
		INSERT INTO counts AS c (ruleset, epoch, mechanism, idx, count)
			SELECT p_ruleset, p_epoch, p_mechanism, v, count(*) FROM unnest(p_values[1:take]) AS v GROUP BY v ORDER BY v
			ON CONFLICT (ruleset, epoch, mechanism, idx) DO UPDATE SET count = c.count + excluded.count;
		RETURN take;
	END $$;`,
	// 2: experiments: outcomes and outcome_only, as in SQLite's migration
	// 2. edgewise_add keeps its signature, so a collector of schema 1
	// still running during a rolling upgrade keeps working, and now also
	// counts the reports that carried only outcome answers (value -1):
	// toward the cap, and into outcome_only rather than totals. Outcome
	// answers are added after every group's call (pgStore.add).
	`CREATE TABLE outcomes (
		ruleset    text    NOT NULL,
		experiment text    NOT NULL,
		epoch      bigint  NOT NULL,
		value      integer NOT NULL CHECK (value BETWEEN 0 AND 3),
		count      bigint  NOT NULL CHECK (count >= 0),
		PRIMARY KEY (ruleset, experiment, epoch, value)
	);
	CREATE TABLE outcome_only (
		ruleset text   NOT NULL,
		epoch   bigint NOT NULL,
		n       bigint NOT NULL CHECK (n >= 0),
		PRIMARY KEY (ruleset, epoch)
	);
	CREATE OR REPLACE FUNCTION edgewise_add(p_ruleset text, p_epoch bigint, p_mechanism text, p_values integer[], p_cap bigint)
	RETURNS integer LANGUAGE plpgsql AS $$
	DECLARE
		stored bigint;
		take integer := cardinality(p_values);
		bare integer;
	BEGIN
		IF p_cap > 0 THEN
			PERFORM pg_advisory_xact_lock(hashtextextended(p_ruleset, p_epoch));
			-- Every report of the epoch, with a cohort answer or without.
			SELECT (SELECT COALESCE(sum(n), 0) FROM totals WHERE ruleset = p_ruleset AND epoch = p_epoch)
				+ (SELECT COALESCE(sum(n), 0) FROM outcome_only WHERE ruleset = p_ruleset AND epoch = p_epoch)
				INTO stored;
			take := LEAST(take, GREATEST(p_cap - stored, 0));
		END IF;
		IF take = 0 THEN
			RETURN 0;
		END IF;
		SELECT count(*) INTO bare FROM unnest(p_values[1:take]) AS v WHERE v < 0;
		IF take > bare THEN
			INSERT INTO totals AS t (ruleset, epoch, mechanism, n) VALUES (p_ruleset, p_epoch, p_mechanism, take - bare)
				ON CONFLICT (ruleset, epoch, mechanism) DO UPDATE SET n = t.n + excluded.n;
			-- In index order, as every transaction takes its row locks.
			INSERT INTO counts AS c (ruleset, epoch, mechanism, idx, count)
				SELECT p_ruleset, p_epoch, p_mechanism, v, count(*) FROM unnest(p_values[1:take]) AS v WHERE v >= 0 GROUP BY v ORDER BY v
				ON CONFLICT (ruleset, epoch, mechanism, idx) DO UPDATE SET count = c.count + excluded.count;
		END IF;
		IF bare > 0 THEN
			INSERT INTO outcome_only AS b (ruleset, epoch, n) VALUES (p_ruleset, p_epoch, bare)
				ON CONFLICT (ruleset, epoch) DO UPDATE SET n = b.n + excluded.n;
		END IF;
		RETURN take;
	END $$;`,
}

// addOutcomes adds a batch's outcome counts, given as parallel arrays in
// outcomeCounts' order, which is the order the rows are locked in.
const addOutcomes = `INSERT INTO outcomes AS o (ruleset, experiment, epoch, value, count)
	SELECT r, x, e, v, n FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::bigint[]) WITH ORDINALITY AS u(r, x, e, v, n, i) ORDER BY i
	ON CONFLICT (ruleset, experiment, epoch, value) DO UPDATE SET count = o.count + excluded.count`

// migrationLock is the advisory lock the migrations run under: collectors
// starting together take turns, and the later ones find nothing to do.
const migrationLock = 0x6564676577697365 // "edgewise"

// pgStore is the shared backend: any number of collector processes, each
// with its own writer goroutine, add to the same rows.
//
// Counts add up across processes because every increment is an additive
// upsert (count = count + excluded.count) made under the row's lock, and
// every transaction takes its locks in one order (the sorted keys), so
// none waits for another in a cycle. The per-epoch cap reads the epoch's
// total under a transaction-scoped advisory lock on (ruleset, epoch), which
// makes "read the total, add at most the rest" exact across processes; the
// lock is held only from that read to the commit, about a millisecond per
// batch of hundreds of reports. RATIONALE.md, "Why additive upserts and not
// per-collector shards?", has the measurements behind the choice.
type pgStore struct {
	pool *pgxpool.Pool
}

// commitTimeout bounds one batch's transaction; statusWait bounds how long
// a commit whose answer was lost is followed up.
const (
	commitTimeout = 5 * time.Second
	statusWait    = 10 * time.Second
)

func openPostgres(ctx context.Context, dsn string) (*pgStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("collector: postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		// A database that is down should be a quick 503, not a hung request.
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "edgewise-collector"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("collector: postgres: %w", err)
	}
	s := &pgStore{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("collector: postgres %s: %w", redactDSN(dsn), err)
	}
	return s, nil
}

// migrate applies the migrations the database lacks, in one transaction,
// under migrationLock. PostgreSQL's DDL is transactional, so a collector
// killed halfway leaves the schema as it was.
func (s *pgStore) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS edgewise_schema (version integer PRIMARY KEY)`); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM edgewise_schema`).Scan(&version); err != nil {
			return err
		}
		if version > len(pgMigrations) {
			return newerSchema(version, len(pgMigrations))
		}
		for v := version; v < len(pgMigrations); v++ {
			if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO edgewise_schema (version) VALUES ($1)`, v+1); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *pgStore) add(ctx context.Context, groups []group, maxN int64) ([]int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	// A connection left inside a transaction by an error is closed, not
	// reused, when it goes back to the pool.
	defer conn.Release()

	// Two round trips: the transaction with every group's edgewise_add,
	// then its commit, with the outcome answers of the reports the groups
	// took just before it. The transaction's id comes first, to follow up
	// a commit whose answer is lost.
	taken := make([]int, len(groups))
	var xid string
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT pg_current_xact_id()::text`).QueryRow(func(r pgx.Row) error { return r.Scan(&xid) })
	for gi, g := range groups {
		b.Queue(`SELECT edgewise_add($1, $2, $3, $4, $5)`, g.ruleset, g.epoch, g.mechanism, g.values, maxN).
			QueryRow(func(r pgx.Row) error {
				var n int32
				err := r.Scan(&n)
				taken[gi] = int(n)
				return err
			})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if rows := outcomeCounts(groups, taken); len(rows) == 0 {
		_, err = conn.Exec(ctx, `COMMIT`)
	} else {
		var rulesets, experiments []string
		var epochs, ns []int64
		var values []int32
		for _, r := range rows {
			rulesets, experiments = append(rulesets, r.ruleset), append(experiments, r.experiment)
			epochs, values, ns = append(epochs, r.epoch), append(values, r.value), append(ns, r.n)
		}
		b := &pgx.Batch{}
		b.Queue(addOutcomes, rulesets, experiments, epochs, values, ns)
		b.Queue(`COMMIT`)
		err = conn.SendBatch(ctx, b).Close()
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.SeverityUnlocalized == "ERROR" {
			// A statement failed (the outcomes' insert, or the commit
			// itself): the transaction did not commit. It stays open,
			// aborted, until the connection is closed on release, so
			// pg_xact_status would say "in progress" until it gave up.
			// A FATAL error (the server shutting down) may come after a
			// commit, so that is asked about below.
			return nil, err
		}
		// The connection may have died after the server committed but
		// before it said so. Ask, so that a stored report is never
		// answered 503 (and sent again).
		if committed, serr := s.committed(xid); serr == nil && committed {
			return taken, nil
		} else if serr != nil {
			return nil, fmt.Errorf("%w (whether it committed is unknown: %v)", err, serr)
		}
		return nil, err
	}
	return taken, nil
}

// errUncertain: the server could not be asked how a transaction ended.
var errUncertain = errors.New("the database did not answer")

// committed asks, on a fresh connection and for up to statusWait, whether
// transaction xid committed (pg_xact_status, made for exactly this).
func (s *pgStore) committed(xid string) (bool, error) {
	if xid == "" {
		return false, nil // it never began
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusWait)
	defer cancel()
	for {
		var status *string
		err := s.pool.QueryRow(ctx, `SELECT pg_xact_status($1::text::xid8)`, xid).Scan(&status)
		if err == nil {
			switch {
			case status == nil:
				return false, fmt.Errorf("transaction %s is too old to look up", xid)
			case *status == "committed":
				return true, nil
			case *status == "aborted":
				return false, nil
			}
			// "in progress": its backend has not finished yet.
		}
		select {
		case <-ctx.Done():
			return false, errUncertain
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *pgStore) load(ctx context.Context, ruleset string, epoch int64) ([]storedRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT mechanism, -1::bigint, n FROM totals WHERE ruleset = $1 AND epoch = $2
		UNION ALL SELECT mechanism, idx::bigint, count FROM counts WHERE ruleset = $1 AND epoch = $2`, ruleset, epoch)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedRow, error) {
		var sr storedRow
		err := r.Scan(&sr.mechanism, &sr.idx, &sr.n)
		return sr, err
	})
}

func (s *pgStore) loadOutcomes(ctx context.Context, ruleset string) ([]outcomeRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT experiment, epoch, value, count FROM outcomes WHERE ruleset = $1
		ORDER BY experiment, epoch, value`, ruleset)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (outcomeRow, error) {
		or := outcomeRow{ruleset: ruleset}
		err := r.Scan(&or.experiment, &or.epoch, &or.value, &or.n)
		return or, err
	})
}

func (s *pgStore) prune(ctx context.Context, ruleset string, before int64) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, q := range []string{`DELETE FROM counts WHERE ruleset = $1 AND epoch < $2`, `DELETE FROM totals WHERE ruleset = $1 AND epoch < $2`,
			`DELETE FROM outcomes WHERE ruleset = $1 AND epoch < $2`, `DELETE FROM outcome_only WHERE ruleset = $1 AND epoch < $2`} {
			tag, err := tx.Exec(ctx, q, ruleset, before)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return n, err
}

func (s *pgStore) ping(ctx context.Context) error { return s.pool.Ping(ctx) }

func (s *pgStore) close() error {
	s.pool.Close()
	return nil
}
