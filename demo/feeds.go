package main

// The shop's weather feed, as a site's hourly job makes it: a forecast for
// every land cell of the world (an Open-Meteo bulk response; the example's
// is examples.WorldWeather, or -weather FILE), built into a signed feed with
// `edgewise feed build`'s code and served at the URL the ruleset names. The
// demo rebuilds it when it is an hour old, so the feed a page gets is never
// stale; the forecast itself is the example's, whatever the date.

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/examples"
	"github.com/edgewise/edgewise/internal/feedbuild"
	"github.com/edgewise/edgewise/internal/feedsrc"
)

// feedRebuildEvery is how often the demo makes its weather feed again, and
// feedTTL how long each one holds: a site's cron would do the same.
const (
	feedRebuildEvery = time.Hour
	feedTTL          = 3 * time.Hour
)

// weatherFeed serves one signed weather feed, rebuilt as it ages.
type weatherFeed struct {
	key     ed25519.PrivateKey
	id      string
	path    string // where the ruleset says pages fetch it
	entries []feedsrc.Entry
	places  []feedsrc.Place // labels for cells
	now     func() time.Time

	mu    sync.Mutex
	built time.Time
	file  *asset
}

// newWeatherFeed reads the forecast (Open-Meteo JSON, gzipped or not) and
// builds the first feed, so a bad forecast stops the demo at startup.
func newWeatherFeed(id, name string, forecast []byte, key ed25519.PrivateKey, now func() time.Time) (*weatherFeed, error) {
	var r io.Reader = bytes.NewReader(forecast)
	if bytes.HasPrefix(forecast, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r = zr
	}
	entries, _, err := feedsrc.ReadOpenMeteo(name, r)
	if err != nil {
		return nil, err
	}
	places, err := feedsrc.ReadPlaces(examples.WorldPlacesName, bytes.NewReader(examples.WorldPlaces))
	if err != nil {
		return nil, err
	}
	f := &weatherFeed{key: key, id: id, entries: entries, places: places, now: now}
	if _, err := f.current(); err != nil {
		return nil, err
	}
	return f, nil
}

// current returns the feed file, rebuilding it when it is feedRebuildEvery old.
func (f *weatherFeed) current() (*asset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if f.file != nil && now.Sub(f.built) < feedRebuildEvery && !now.Before(f.built) {
		return f.file, nil
	}
	feed, _, err := feedbuild.Build(f.entries, feedbuild.Options{Kind: engine.FeedWeather, ID: f.id, Issued: now, TTL: feedTTL, Places: f.places})
	if err != nil {
		return nil, fmt.Errorf("weather feed: %w", err)
	}
	ewf, err := buildtime.EncodeFeed(feed, f.key)
	if err != nil {
		return nil, fmt.Errorf("weather feed: %w", err)
	}
	f.built = now
	f.file = newAsset("application/octet-stream", ewf)
	return f.file, nil
}

// serve answers with the current feed. Every visitor gets the same bytes;
// browsers may keep them ten minutes (the SDK keeps them until they expire).
func (f *weatherFeed) serve(w http.ResponseWriter, r *http.Request) {
	a, err := f.current()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=600")
	a.serve(w, r, "weather.ewf")
}
