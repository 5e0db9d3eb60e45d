// Package sourcekey tells the senders of requests apart without keeping who
// they are: a source is the first 16 bytes of HMAC-SHA256 of the client's IP
// address under a random key drawn each UTC day and never written anywhere,
// so sources cannot be joined with anything, not even with the previous
// day's. The collector's rate limiter and the demo's request log use it.
package sourcekey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"sync"
	"time"
)

// Source is one sender, as today's key sees it.
type Source [16]byte

// Keyer turns addresses into sources. It is safe for concurrent use.
type Keyer struct {
	mu  sync.Mutex
	day int64
	key [32]byte
}

// New returns a Keyer whose first key is drawn on first use.
func New() *Keyer { return &Keyer{day: -1} }

// Of is the source of remoteAddr ("host:port" or a bare host) at now; a
// new UTC day draws a new key.
func (k *Keyer) Of(remoteAddr string, now time.Time) (src Source) {
	ip := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		ip = host
	}
	k.mu.Lock()
	if day := now.Unix() / 86400; day != k.day {
		k.day = day
		if _, err := rand.Read(k.key[:]); err != nil {
			k.mu.Unlock()
			panic("sourcekey: no randomness for the key: " + err.Error())
		}
	}
	mac := hmac.New(sha256.New, k.key[:])
	k.mu.Unlock()
	mac.Write([]byte(ip))
	copy(src[:], mac.Sum(nil))
	return src
}
