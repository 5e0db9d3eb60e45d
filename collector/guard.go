package collector

// The intake's defences against forged reports. Reports are anonymous by
// design, so nothing can prove one came from a real visit; what the
// collector can do is bound how many reports one address, one epoch and
// one other site's page can add (RATIONALE.md, "Why does the intake limit
// who may post, and how much?").

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgewise/edgewise/internal/sourcekey"
)

// Defaults of the intake's defences.
const (
	// DefaultEpochGrace is how long after an epoch ends its reports are
	// still accepted (a page open across the rollover), and how long before
	// the next one starts its reports are (a device clock slightly ahead).
	DefaultEpochGrace = time.Hour
	// DefaultMaxReportsPerEpoch caps the reports counted per ruleset and
	// epoch when Config sets neither the cap nor the audience.
	DefaultMaxReportsPerEpoch = 1_000_000
	// AudienceHeadroom is how many times the expected audience the epoch
	// cap allows, for growth and for several rulesets' visitors overlapping.
	AudienceHeadroom = 2
	// DefaultSourceReportsPerHour is how many reports one source (one IP
	// address, seen through a keyed hash) may send in an hour. A device
	// sends one report per ruleset per epoch; the rest of the allowance is
	// for many people behind one address (offices, carrier NAT).
	DefaultSourceReportsPerHour = 60
	// maxSources bounds the rate limiter's memory: past it, the hour's
	// counts start again (failing open, never refusing everyone).
	maxSources = 1 << 20
)

// sourceLimiter counts reports per source per hour, in memory only. Sources
// are sourcekey's: a keyed hash of the address, under a key drawn each UTC
// day and never written anywhere, so the counts cannot be joined with
// anything, not even with the previous day's.
type sourceLimiter struct {
	perHour int
	keys    *sourcekey.Keyer
	mu      sync.Mutex
	hour    int64 // the hour counts are for; a new day is a new hour
	counts  map[sourcekey.Source]int
}

func newSourceLimiter(perHour int) *sourceLimiter {
	return &sourceLimiter{perHour: perHour, keys: sourcekey.New(), counts: map[sourcekey.Source]int{}}
}

// allow counts one report from the address and says whether it is within
// the allowance.
func (l *sourceLimiter) allow(addr string, now time.Time) bool {
	if l == nil || l.perHour <= 0 {
		return true
	}
	src := l.keys.Of(addr, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if hour := now.Unix() / 3600; hour != l.hour || len(l.counts) >= maxSources {
		l.hour = hour
		clear(l.counts)
	}
	n := l.counts[src] + 1
	l.counts[src] = n
	return n <= l.perHour
}

// originAllowed says whether a request from a browser page may post: no
// Origin header (not a page's cross-origin request), the collector's own
// origin, or one of the site's configured origins. It stops other sites'
// pages from making their visitors post, which a CORS header of * allowed.
func (c *Collector) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if c.origins[origin] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// epochAccepted says whether reports for epoch e are accepted at now: the
// current epoch, the previous one for grace after it ended, the next one
// for grace before it starts.
func (s *set) epochAccepted(e int64, now time.Time, grace time.Duration) bool {
	cur := s.epoch(now)
	switch e {
	case cur:
		return true
	case cur - 1:
		return s.epoch(now.Add(-grace)) == e
	case cur + 1:
		return s.epoch(now.Add(grace)) == e
	}
	return false
}

// epochFinal says whether epoch e takes no more reports: it ended more
// than the grace period before now.
func (s *set) epochFinal(e int64, now time.Time, grace time.Duration) bool {
	return e < s.epoch(now.Add(-grace))
}

// parseProxies reads Config.TrustedProxies: addresses or CIDR prefixes.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("collector: trusted proxy %q is neither an address nor a CIDR prefix such as 10.0.0.0/8", p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (c *Collector) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// source is the address a report came from, for the per-source allowance:
// the peer's, unless the peer is a trusted proxy (the site's load
// balancer), in which case it is the nearest address in X-Forwarded-For
// that is not a trusted proxy. The list is read from the right, the end
// the proxies appended to, so a client cannot pick its source by sending
// an X-Forwarded-For of its own. The address is only ever hashed
// (sourceLimiter), never kept.
func (c *Collector) source(r *http.Request) string {
	if len(c.proxies) == 0 {
		return r.RemoteAddr
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusts(peer) {
		return r.RemoteAddr
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return "unparsable:" + strings.TrimSpace(parts[j]) // one source for all such
			}
			if !c.trusts(a) {
				return a.Unmap().String()
			}
		}
	}
	return peer.String()
}
