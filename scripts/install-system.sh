#!/usr/bin/env bash
# Install imprint's non-Python prerequisites on Debian 12 (run as root):
#   - chromium            (headless browser driven by DAISY Ace via puppeteer)
#   - poppler-utils       (pdftotext / pdftoppm for PDF checks)
#   - default-jre-headless (java for EPUBCheck; skipped if any java is present)
#   - tools/ace/node_modules  (DAISY Ace, pinned by tools/ace/package-lock.json)
#
# Idempotent and fast when everything is already there: apt-get runs only if
# something is missing, npm ci only if node_modules is missing or older than
# the lock file.  Puppeteer's own browser download is always skipped; Ace is
# pointed at /usr/bin/chromium through PUPPETEER_EXECUTABLE_PATH at run time
# (imprint/editions/validate.py does that).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ACE_DIR="$ROOT/tools/ace"

log() { printf '[install-system] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        log "not root and no sudo: cannot install system packages"; exit 1
    fi
fi

# --- Debian packages ---------------------------------------------------------
pkg_installed() {
    dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

missing=()
pkg_installed chromium || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || pkg_installed poppler-utils || missing+=(poppler-utils)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)

if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    log "Debian packages present (chromium, poppler-utils, java)"
fi

# --- DAISY Ace (npm) ---------------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: install node >= 20 first (Ace is skipped)"; exit 1
fi

export PUPPETEER_SKIP_DOWNLOAD=1
export PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
export PUPPETEER_EXECUTABLE_PATH="${PUPPETEER_EXECUTABLE_PATH:-/usr/bin/chromium}"

ace_bin=""
for name in ace ace-cli; do
    if [ -e "$ACE_DIR/node_modules/.bin/$name" ]; then ace_bin="$ACE_DIR/node_modules/.bin/$name"; break; fi
done
# npm ci leaves node_modules/.package-lock.json; if it is newer than the lock
# file, the tree matches what was locked.
stamp="$ACE_DIR/node_modules/.package-lock.json"
if [ -n "$ace_bin" ] && [ -f "$stamp" ] && [ ! "$ACE_DIR/package-lock.json" -nt "$stamp" ]; then
    log "DAISY Ace already installed in tools/ace/node_modules"
else
    log "npm ci --prefix tools/ace"
    npm ci --prefix "$ACE_DIR" --no-audit --no-fund --loglevel=error
fi

log "done"
