package engine

import "runtime"

// collect runs a full garbage collection between the stages of loading a
// ruleset (decode, validate, index). Each stage leaves megabytes of garbage
// with a large catalogue; in wasm, linear memory never shrinks, so letting
// the heap double over that garbage before the collector runs would keep
// the peak for the life of the module. A load is rare; a collection costs
// a few milliseconds.
// Small rulesets skip it: their garbage is not worth a collection.
func collect(items int) {
	if items >= collectItems {
		runtime.GC()
	}
}

// collectItems is the catalogue size from which loading collects garbage.
const collectItems = 2000
