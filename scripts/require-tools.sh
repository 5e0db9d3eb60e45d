#!/usr/bin/env bash
# Checks the toolchains `make` needs and says exactly what is missing.
set -u
missing=0
if ! command -v go >/dev/null 2>&1; then
  echo "missing: Go 1.26 or newer (https://go.dev/dl; on this kind of machine it lives in /usr/local/go/bin)" >&2
  missing=1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "missing: Node.js 20 or newer with npm (Debian: apt-get install nodejs npm)" >&2
  missing=1
elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "missing: Node.js 20 or newer; found $(node --version)" >&2
  missing=1
fi
exit $missing
