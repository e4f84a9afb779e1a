#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's
# Chromium and ffmpeg, and playwright-core (pinned in tools/e2e); and
# TypeScript for the frontend's type check (pinned in tools/typecheck).
# `deps.sh typecheck` installs TypeScript alone (go tool task lint).
set -euo pipefail
typecheck() (
  cd "$(dirname "$0")/../typecheck"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: installing TypeScript for the type check with npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error
  fi
)
typecheck
if [ "${1:-}" = typecheck ]; then exit 0; fi
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
# The browser benchmark's npm packages (tools/browserbench: hls.js,
# p2p-media-loader, the WebTorrent tracker, playwright-core), pinned in its
# package-lock.json. --ignore-scripts: bittorrent-tracker's client side
# pulls in node-datachannel, whose install script downloads a prebuilt
# binary; the benchmark runs only the tracker's server, which needs none.
(
  cd "$(dirname "$0")/../browserbench"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: installing the browser benchmark's npm packages with npm ci" >&2
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
)
cd "$(dirname "$0")/../e2e"
if [ ! -d node_modules/playwright-core ]; then
  echo "deps: installing playwright-core with npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
