package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// call runs one request through the server's handler as if from addr.
func call(s *server, method, path, addr, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = addr
	if body != "" {
		req.Header.Set("Content-Type", "text/plain")
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func logFor(t *testing.T, s *server, addr string) logResponse {
	t.Helper()
	rec := call(s, "GET", "/api/requests", addr, "")
	var lr logResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
		t.Fatal(err)
	}
	return lr
}

// The request log shows each visitor only the requests from their own
// address, and no time finer than a second.
func TestRequestLogIsPerVisitor(t *testing.T) {
	s, _ := newTestServer(t)
	body := fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","value":3,"epsilon":2}`, epochOf(time.Now(), 7))
	if rec := call(s, "POST", "/v1/reports", "203.0.113.1:5000", body); rec.Code != http.StatusNoContent {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	call(s, "GET", "/ruleset.yaml", "203.0.113.2:6000", "")

	mine := logFor(t, s, "203.0.113.1:7000")
	if len(mine.Requests) != 1 || mine.Requests[0].Path != "/v1/reports" || !strings.Contains(mine.Requests[0].Body, `"value":3`) {
		t.Fatalf("the reporter's log: %+v", mine.Requests)
	}
	if tm := mine.Requests[0].Time; tm.Nanosecond() != 0 {
		t.Errorf("logged time %v is finer than a second", tm)
	}
	other := logFor(t, s, "203.0.113.2:8000")
	for _, r := range other.Requests {
		if r.Path == "/v1/reports" || strings.Contains(r.Body, "krr") {
			t.Fatalf("another visitor sees the report: %+v", r)
		}
	}
	if len(other.Requests) != 1 || other.Requests[0].Path != "/ruleset.yaml" {
		t.Errorf("the other visitor's log: %+v", other.Requests)
	}
}

// Each route reads a body only up to what it takes (elsewhere, what the log
// shows): a larger one is refused without being read.
func TestBodiesOnlyWhereTaken(t *testing.T) {
	s, _ := newTestServer(t)
	big := strings.Repeat("x", 300<<10)
	for _, path := range []string{"/", "/ruleset.yaml", "/api/requests/x", "/v1/reports"} {
		if rec := call(s, "POST", path, "203.0.113.9:1", big); rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with 300 KiB: %d, want 413", path, rec.Code)
		}
	}
	if got := bodyLimit(httptest.NewRequest("POST", "/api/playground/lint", nil)); got != maxPlaygroundBody {
		t.Errorf("the playground's body limit is %d, want %d", got, maxPlaygroundBody)
	}
	// A small body where none is taken is still read, for the log.
	if rec := call(s, "POST", "/collect", "203.0.113.9:1", `{"item":"x"}`); rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
		t.Errorf("POST /collect with a small body: %d", rec.Code)
	}
}

// A request whose body never finishes is cut off, instead of holding a
// connection and its buffer for as long as the sender likes.
func TestUnfinishedBodiesAreCutOff(t *testing.T) {
	s, _ := newTestServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(s)
	srv.ReadHeaderTimeout = 500 * time.Millisecond
	s.bodyTimeout = 500 * time.Millisecond
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	for name, req := range map[string]string{
		"half the headers": "POST /api/playground/lint HTTP/1.1\r\nHost: x\r\n",
		"half the body":    "POST /api/playground/lint HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nid: shop\n",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = bufio.NewReader(conn).ReadString(0) // until the server closes
			if waited := time.Since(start); waited > 5*time.Second {
				t.Fatalf("the connection stayed open %v (%v)", waited, err)
			}
		})
	}
}
