package wasmhost

import "crypto/rand"

// cryptoRand backs WASI random_get with the operating system's CSPRNG, as
// crypto.getRandomValues does in browsers. wazero's default is a fixed seed.
type cryptoRand struct{}

func (cryptoRand) Read(p []byte) (int, error) { return rand.Read(p) }
