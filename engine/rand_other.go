//go:build !wasip1

package engine

import "crypto/rand"

// systemRandom is where report noise comes from outside edgewise.wasm.
var systemRandom = rand.Reader
