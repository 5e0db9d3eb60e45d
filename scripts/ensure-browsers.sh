#!/usr/bin/env bash
# The browser tests drive three engines from Debian's packages; nothing
# downloads a browser. Installs what is missing with apt-get when we are
# root, otherwise says exactly what to install.
#
#   chromium           Chromium (Blink)          /usr/bin/chromium
#   firefox-esr        Firefox (Gecko)           /usr/bin/firefox-esr
#   webkit2gtk-driver  WebKit: WebKitWebDriver and WebKitGTK's MiniBrowser
#   xvfb, xauth        the X display WebKit needs (the tests start their own)
set -eu
need() { # binary, package
  [ -x "$1" ] || echo "$2"
}
missing() {
  {
    need "${CHROMIUM:-/usr/bin/chromium}" chromium
    need "${FIREFOX:-/usr/bin/firefox-esr}" firefox-esr
    need "${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}" webkit2gtk-driver
    need "${WEBKIT_MINIBROWSER:-/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser}" webkit2gtk-driver
    need "${XVFB:-/usr/bin/Xvfb}" xvfb
  } | sort -u | tr '\n' ' ' | sed 's/ *$//'
}
packages=$(missing)
[ -z "$packages" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's $packages for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages xauth >/dev/null
  packages=$(missing)
  [ -z "$packages" ] && exit 0
fi
echo "missing for the browser tests: $packages" >&2
echo "  Debian/Ubuntu: sudo apt-get install --no-install-recommends $packages xauth" >&2
echo "  (or point CHROMIUM, FIREFOX, WEBKIT_WEBDRIVER, WEBKIT_MINIBROWSER, XVFB at your own)" >&2
exit 1
