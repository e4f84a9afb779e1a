#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's
# Chromium and ffmpeg, and playwright-core (pinned in tools/e2e).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cd "$(dirname "$0")/../e2e"
if [ ! -d node_modules/playwright-core ]; then
  echo "deps: installing playwright-core with npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
