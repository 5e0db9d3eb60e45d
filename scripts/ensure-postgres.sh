#!/usr/bin/env bash
# The collector's storage and fault tests run PostgreSQL servers of their
# own (internal/pgtest: initdb in a temporary directory, a Unix socket
# only), from Debian's postgresql package; nothing is left running and no
# system cluster is touched. Installs the package with apt-get when we are
# root and it is missing, otherwise says exactly what to install.
set -eu
have() {
  if [ -n "${EDGEWISE_PG_BIN:-}" ]; then
    [ -x "$EDGEWISE_PG_BIN/initdb" ] && [ -x "$EDGEWISE_PG_BIN/postgres" ]
    return
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/psql" ] && return 0
  done
  return 1
}
# As root the servers run as the postgres user, which the package creates.
user_ok() { [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }
have && user_ok && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's postgresql for the collector's tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  have && user_ok && exit 0
fi
echo "missing for the collector's tests: PostgreSQL's server binaries (initdb, postgres, psql)" >&2
echo "  Debian/Ubuntu: sudo apt-get install --no-install-recommends postgresql" >&2
echo "  (or set EDGEWISE_PG_BIN to the folder holding initdb; tests start their own servers)" >&2
exit 1
