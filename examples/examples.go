// Package examples holds the example rulesets, embedded so the demo and the
// CLI can run them without a checkout.
package examples

import _ "embed"

// OutdoorShop is the example ruleset: a small outdoor-gear shop, as YAML.
// The demo serves it, compiled and signed at startup.
//
//go:embed outdoor-shop.yaml
var OutdoorShop []byte

// OutdoorShopName is the file name OutdoorShop's diagnostics refer to.
const OutdoorShopName = "examples/outdoor-shop.yaml"
