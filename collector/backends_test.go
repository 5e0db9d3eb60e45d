package collector

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// pg is the package's PostgreSQL server, started once for all its tests;
// each test gets a database of its own.
var pg *pgtest.Server

func TestMain(m *testing.M) {
	var err error
	if pg, err = pgtest.New(); err != nil {
		fmt.Fprintln(os.Stderr, "collector tests need PostgreSQL:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// backend is one storage backend under test: fresh names a new, empty
// database of it, which may be opened (and reopened) with Config.DB.
type backend struct {
	name  string
	fresh func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "counts.db") }},
	{"postgres", func(t *testing.T) string { return pg.Database(t) }},
}

// eachBackend runs test once per backend, with a new database.
func eachBackend(t *testing.T, test func(t *testing.T, db string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.fresh(t)) })
	}
}

// rawQuery runs a query straight against a database named as in Config.DB,
// outside the collector, and returns its rows, each a single text column.
func rawQuery(t *testing.T, db, query string, args ...any) []string {
	t.Helper()
	var out []string
	if strings.HasPrefix(db, "postgres://") {
		conn, err := pgx.Connect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		rows, err := conn.Query(context.Background(), query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sdb, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	rows, err := sdb.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
