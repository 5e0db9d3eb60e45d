package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A server starts, takes writes, survives a SIGKILL with what it committed,
// and is gone after the test.
func TestServer(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE counts (id text PRIMARY KEY, n bigint NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO counts VALUES ('a', 1) ON CONFLICT (id) DO UPDATE SET n = counts.n + excluded.n"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, s.DSN); err == nil {
		t.Fatal("connected to a killed server")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT n FROM counts WHERE id = 'a'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after a crash the committed count is %d, %v; want 1", n, err)
	}
}
