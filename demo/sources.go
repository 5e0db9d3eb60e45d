package main

import (
	"time"

	"github.com/edgewise/edgewise/internal/sourcekey"
)

// visitorSources tells the demo's visitors apart for the request log
// without keeping who they are (see package sourcekey). The log shows each
// visitor only the requests from their own address. Without cookies (the
// demo sets none), the address is all there is: visitors behind one address
// see each other's requests.
type visitorSources struct{ keys *sourcekey.Keyer }

func newVisitorSources() *visitorSources { return &visitorSources{keys: sourcekey.New()} }

func (v *visitorSources) of(remoteAddr string) sourcekey.Source {
	return v.keys.Of(remoteAddr, time.Now())
}
