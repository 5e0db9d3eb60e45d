package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"sync"
	"time"
)

// visitorSources tells the demo's visitors apart for the request log
// without keeping who they are: a source is the first 16 bytes of
// HMAC-SHA256 of the client's IP address under a random key drawn each UTC
// day and never written anywhere. The log shows each visitor only the
// requests from their own address. Without cookies (the demo sets none),
// the address is all there is: visitors behind one address see each
// other's requests.
type visitorSources struct {
	mu  sync.Mutex
	day int64
	key [32]byte
}

func newVisitorSources() *visitorSources { return &visitorSources{day: -1} }

func (v *visitorSources) of(remoteAddr string) [16]byte {
	ip := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		ip = host
	}
	v.mu.Lock()
	if day := time.Now().Unix() / 86400; day != v.day {
		v.day = day
		if _, err := rand.Read(v.key[:]); err != nil {
			panic("demo: no randomness for the request log's key: " + err.Error())
		}
	}
	mac := hmac.New(sha256.New, v.key[:])
	v.mu.Unlock()
	mac.Write([]byte(ip))
	var src [16]byte
	copy(src[:], mac.Sum(nil))
	return src
}
