//go:build wasip1

package engine

// edgewise.wasm verifies rulesets and never signs them, so it does not link
// crypto/ed25519 (see ewr_sign.go): SealRuleset refuses.

const canSign = false

func sign(priv, msg []byte) []byte { panic("edgewise: edgewise.wasm does not sign") }

func publicKeyOf(priv []byte) []byte { panic("edgewise: edgewise.wasm does not sign") }
