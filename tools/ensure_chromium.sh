#!/usr/bin/env bash
# Make sure Debian's Chromium, and the fonts a reader's browser has for the book's Korean
# terms and emoji, are installed for `make check-site` (tools/check_site.py): without
# them the screenshots show empty boxes where readers see text. Nothing is downloaded by
# the browser tooling itself: the browser and the fonts come from Debian.
set -euo pipefail

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
for font in fonts-noto-cjk fonts-noto-color-emoji; do
  installed "$font" || missing+=("$font")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing for the site check: ${missing[*]}." >&2
  echo "Run 'sudo apt-get install ${missing[*]}' and try again." >&2
  exit 1
fi
echo "Installing Debian's ${missing[*]} for the site check..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fc-cache -f >/dev/null 2>&1 || true
/usr/bin/chromium --version 2>/dev/null || true
