#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser tests (Playwright drives it; Playwright's own
# browser download cannot work here). Idempotent and quiet: does nothing when Chromium is already there.
# Exit 0 when a Chromium is available afterwards, 1 when it cannot be had (not root, no apt-get, no network).
set -uo pipefail
for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  [[ -n "$c" && -x "$c" ]] && exit 0
done
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get > /dev/null; then
  echo "install-chromium: Chromium is missing and cannot be installed here (needs root and apt-get)" >&2
  exit 1
fi
log="$(mktemp)"
if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium > "$log" 2>&1 ||
       { apt-get update -qq > "$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >> "$log" 2>&1; }; }; then
  echo "install-chromium: apt-get install chromium failed:" >&2
  tail -5 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null)"
