package engine_test

import (
	"encoding/hex"
	"testing"

	"github.com/edgewise/edgewise/engine"
)

// TestKeyIDString: a key id prints as encoding/hex prints its bytes, every
// byte value included.
func TestKeyIDString(t *testing.T) {
	ids := []engine.KeyID{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}}
	for b := 0; b < 256; b += engine.KeyIDSize {
		var id engine.KeyID
		for i := range id {
			id[i] = byte(b + i)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if got, want := id.String(), hex.EncodeToString(id[:]); got != want {
			t.Errorf("KeyID%v.String() = %q, want %q", [8]byte(id), got, want)
		}
	}
}
