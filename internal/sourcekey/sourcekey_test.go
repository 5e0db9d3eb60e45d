package sourcekey

import (
	"bytes"
	"testing"
	"time"
)

// One address is one source all day, whatever its port; another address is
// another source; the next day's key gives every address a new source; and
// the address itself is not in the source.
func TestOf(t *testing.T) {
	k := New()
	day := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	a := k.Of("198.51.100.7:5555", day)
	if b := k.Of("198.51.100.7:6000", day.Add(13*time.Hour)); b != a {
		t.Error("one address on one day gave two sources")
	}
	if k.Of("198.51.100.7", day) != a {
		t.Error("a bare host is not the same source as host:port")
	}
	if k.Of("198.51.100.8:5555", day) == a {
		t.Error("two addresses gave one source")
	}
	if k.Of("198.51.100.7:5555", day.Add(24*time.Hour)) == a {
		t.Error("the key did not change with the day")
	}
	if bytes.Contains(a[:], []byte("198.51")) {
		t.Error("the source holds the address")
	}
}
