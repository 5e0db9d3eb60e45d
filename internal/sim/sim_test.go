package sim

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"testing"

	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/edgewise/edgewise/ruleset"
)

var runner *Runner

func TestMain(m *testing.M) {
	p, err := abitest.EnsureWasm("../..")
	if err != nil {
		panic(err)
	}
	wasm, err := os.ReadFile(p)
	if err != nil {
		panic(err)
	}
	runner, err = NewRunner(context.Background(), wasm, Config{})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	runner.Close(context.Background())
	os.Exit(code)
}

// exampleTarget is examples/outdoor-shop.yaml, signed with a fixed key.
func exampleTarget(t testing.TB) Target {
	return targetOf(t, mustRead(t, "../../examples/outdoor-shop.yaml"))
}

// mustRead reads a file or panics (t may be nil, outside a test).
func mustRead(_ testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return b
}

func targetOf(t testing.TB, src []byte) Target {
	rs, diags := ruleset.Parse("outdoor-shop.yaml", src)
	if rs == nil || len(diags) > 0 {
		panic(fmt.Sprintf("ruleset: %v", diags))
	}
	priv := abitest.TestKey()
	ewr, err := buildtime.EncodeRuleset(rs, priv)
	if err != nil {
		panic(err)
	}
	return Target{Load: abi.LoadRulesetRequest{EWR: ewr, PublicKey: priv.Public().(ed25519.PublicKey)}, Ruleset: rs}
}

func examplePersonas(t testing.TB, tg Target) *Personas {
	ps, err := ParsePersonas("testdata/personas.yaml", mustRead(t, "../../testdata/personas.yaml"), tg.Ruleset)
	if err != nil {
		panic(err)
	}
	return ps
}
