# Edgewise build. `make demo` runs the demo; `make test` runs every test.
# Both install what they need (Go modules, npm packages, Debian's chromium,
# firefox-esr and webkit2gtk-driver with xvfb, postgresql for the collector's
# tests) or say exactly what is missing.

GO        ?= go
NODE      ?= node
NPM       ?= npm
ADDR      ?= 127.0.0.1:8080
WASM      := dist/edgewise.wasm
JS        := dist/edgewise.js
WORKER_JS := dist/edgewise-worker.js
TRACK_JS  := dist/edgewise-track.js
CLI       := dist/edgewise
GO_SOURCES := $(shell find engine internal wasm -name '*.go' -not -name '*_test.go' -not -path 'internal/sim/*' -not -path 'internal/feedbuild/*' -not -path 'internal/feedsrc/*') $(wildcard engine/lexicon/*.tsv) go.mod go.sum
JS_SOURCES := $(shell find jsbridge/src -type f 2>/dev/null) jsbridge/build.mjs

.PHONY: all build test test-go test-js test-browser demo bench check clean deps tools browsers postgres screenshots

all: build

build: $(WASM) $(JS) $(CLI) $(WASM).br $(JS).br $(WORKER_JS).br $(TRACK_JS).br

# The brotli and gzip copies a site serves (the demo does), made once here.
%.br: %
	$(NODE) scripts/precompress.mjs $<

# The one artifact: a WASI reactor. There is no GOOS=js build. After
# linking, wasmseg merges the linker's ~49,000 tiny data segments (see
# RATIONALE.md); tests build it the same way (abitest.EnsureWasm). A module
# over its 600 KiB brotli budget never becomes dist/edgewise.wasm.
$(WASM): $(GO_SOURCES)
	@mkdir -p dist
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags="-s -w" -o dist/.edgewise.linked.wasm ./wasm
	$(GO) run ./internal/build/cmd/wasmseg -o dist/.edgewise.merged.wasm dist/.edgewise.linked.wasm
	@rm -f dist/.edgewise.linked.wasm
	$(NODE) scripts/wasm-budget.mjs dist/.edgewise.merged.wasm
	@mv dist/.edgewise.merged.wasm $@

# The CLI, beside the wasm it runs (see RATIONALE.md). Go's build cache
# makes this quick when nothing changed.
.PHONY: $(CLI)
$(CLI):
	$(GO) build -o $@ ./cmd/edgewise

# The page's file, the worker's file, the tracker and the pre-paint snippet,
# built together. sri.json holds the wasm's hash too, so a new wasm rewrites it.
$(JS): $(JS_SOURCES) $(WASM) node_modules/.package-lock.json
	$(NODE) jsbridge/build.mjs dist
$(WORKER_JS) $(TRACK_JS): $(JS)

tools:
	@scripts/require-tools.sh

# npm ci only when the lockfile changed since the last install.
node_modules/.package-lock.json: package-lock.json package.json jsbridge/package.json | tools
	$(NPM) ci --no-audit --no-fund
	@touch $@

deps: tools node_modules/.package-lock.json
	$(GO) mod download

# Chromium, Firefox and WebKit from Debian's packages (scripts/ensure-browsers.sh).
browsers:
	@scripts/ensure-browsers.sh

# PostgreSQL's binaries for the collector's tests, which start servers of
# their own (scripts/ensure-postgres.sh).
postgres:
	@scripts/ensure-postgres.sh

test: deps build browsers postgres test-go test-js test-browser
	@echo "make test: all suites passed"

test-go: $(WASM) postgres
	$(GO) test ./...

test-js: $(WASM) $(JS)
	cd jsbridge && $(NODE) --test test/*.test.mjs
	cd jsbridge && $(NODE) --test packtest/pack.test.mjs
	$(NODE) --test e2e/proxy.test.mjs
	$(NODE) --test scripts/wasm-budget.test.mjs

# Every browser test in Chromium, Firefox and WebKit, one engine after the
# other (EDGEWISE_BROWSERS=firefox,webkit picks some).
test-browser: build browsers
	$(GO) build -o dist/edgewise-demo ./demo
	EDGEWISE_DEMO_BIN=$(CURDIR)/dist/edgewise-demo $(NODE) --test demo/e2e/demo.test.mjs
	EDGEWISE_DEMO_BIN=$(CURDIR)/dist/edgewise-demo $(NODE) --test demo/e2e/layout.test.mjs
	EDGEWISE_DEMO_BIN=$(CURDIR)/dist/edgewise-demo $(NODE) --test demo/e2e/feeds.test.mjs
	$(NODE) --test jsbridge/e2e/sdk.test.mjs

# The demo at 390 and 1280 px in every engine, as PNGs in dist/screenshots.
screenshots: build browsers
	$(GO) build -o dist/edgewise-demo ./demo
	EDGEWISE_DEMO_BIN=$(CURDIR)/dist/edgewise-demo $(NODE) demo/e2e/screenshot.mjs dist/screenshots

demo: deps build
	$(GO) run ./demo -addr $(ADDR) -dist dist -crowd 30000

# Every benchmark, then the native and wazero figures side by side
# (scripts/bench-compare). The standard workload is testdata/bench/standard.json.
# -p 1: one package at a time. Packages benchmarked in parallel share the two
# cores and skew every figure (a 32x wasm/native ratio against 14.7x alone).
bench: build browsers postgres
	@$(NODE) scripts/sizes.mjs $(WASM) $(JS) $(WORKER_JS) $(TRACK_JS)
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./... > dist/bench.txt || { cat dist/bench.txt; exit 1; }
	@cat dist/bench.txt
	@GO=$(GO) scripts/bench-compare dist/bench.txt
	$(GO) build -o dist/edgewise-demo ./demo
	$(NODE) jsbridge/e2e/percall.mjs 2000
	EDGEWISE_DEMO_BIN=$(CURDIR)/dist/edgewise-demo $(NODE) demo/e2e/coldstart.mjs 3

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasm ./engine ./internal/abi
	$(GO) mod tidy
	@git diff --exit-code go.mod go.sum || { echo "go mod tidy changed go.mod/go.sum"; exit 1; }

clean:
	rm -rf dist jsbridge/dist
