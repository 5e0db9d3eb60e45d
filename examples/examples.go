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

// WorldWeather is an Open-Meteo bulk forecast (gzipped JSON) for the centre
// of every land cell of the world at geohash precision 3: what a site's
// hourly job would fetch to build its weather feed. The demo builds the
// example's weather feed from it. It is synthetic weather in the real API's
// format (see weather/README.md), with rain over northern France.
//
//go:embed weather/open-meteo-world.json.gz
var WorldWeather []byte

// WorldWeatherName is the file name WorldWeather's diagnostics refer to.
const WorldWeatherName = "examples/weather/open-meteo-world.json.gz"

// WorldPlaces names well-known places (CSV: name,lat,lon, largest first
// per country), so the example's weather feed can say "around Paris".
//
//go:embed weather/places.csv
var WorldPlaces []byte

// WorldPlacesName is the file name WorldPlaces' diagnostics refer to.
const WorldPlacesName = "examples/weather/places.csv"
