#!/usr/bin/env bash
# The browser tests drive Debian's chromium; nothing downloads a browser.
# Installs it with apt-get when it is missing and we are root, otherwise says
# exactly what to install.
set -eu
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium_bin" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [ -x "$chromium_bin" ] && exit 0
fi
echo "missing: Chromium at $chromium_bin for the browser tests." >&2
echo "  Debian/Ubuntu: sudo apt-get install chromium    (or set CHROMIUM=/path/to/chromium)" >&2
exit 1
