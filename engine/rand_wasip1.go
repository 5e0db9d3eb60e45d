//go:build wasip1

package engine

// Randomness inside edgewise.wasm straight from the host's WASI random_get
// (crypto.getRandomValues in the browser shim), not crypto/rand: on wasip1
// crypto/rand is a DRBG from Go's FIPS 140 module, whose import links the
// module's self-tests, AES and more into the wasm. See RATIONALE.md.

import (
	"strconv"
	"unsafe"
)

//go:wasmimport wasi_snapshot_preview1 random_get
//go:noescape
func randomGet(buf unsafe.Pointer, bufLen uint32) uint32

type wasiRandom struct{}

// systemRandom is where report noise comes from inside edgewise.wasm.
var systemRandom wasiRandom

// Read fills p from random_get; it fails only if the host does.
func (wasiRandom) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if errno := randomGet(unsafe.Pointer(&p[0]), uint32(len(p))); errno != 0 {
		return 0, randomError(errno)
	}
	return len(p), nil
}

type randomError uint32

func (e randomError) Error() string {
	return "WASI random_get failed with errno " + strconv.FormatUint(uint64(e), 10)
}
