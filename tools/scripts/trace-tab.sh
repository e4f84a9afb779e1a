#!/usr/bin/env bash
# Traces a viewer tab's renderer (tools/browserbench/trace.mjs) against a
# fresh bin/shoal fed by ffmpeg over RTMP (640x360 30 fps, 1.5 Mbit/s CBR,
# 1 s GOP, AAC), inside a loopback-only network namespace:
#   go tool task build && tools/scripts/trace-tab.sh --tabs 3 --warm 0 --duration 15
# Arguments go to trace.mjs (--tabs --warm --duration --out --top).
set -euo pipefail
if [ -z "${SHOAL_IN_NETNS:-}" ]; then
  exec env SHOAL_IN_NETNS=1 "$(dirname "$0")/netns.sh" "$0" "$@"
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
data=$(mktemp -d)
key=trace-key-0123456789abcdef
./bin/shoal -addr 127.0.0.1:8090 -rtmp-addr 127.0.0.1:19390 -data-dir "$data" -ice-loopback -demo "" \
  -stream-keys "live=$key" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server ${feed:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:8090/healthz >/dev/null && break; sleep 0.2; done
ffmpeg -hide_banner -nostats -loglevel error -re -f lavfi -i testsrc=size=640x360:rate=30 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 -c:v libx264 -preset veryfast -tune zerolatency -bf 0 \
  -g 30 -keyint_min 30 -sc_threshold 0 -b:v 1500k -maxrate 1500k -bufsize 1500k -x264-params nal-hrd=cbr \
  -pix_fmt yuv420p -c:a aac -b:a 128k -ar 48000 -ac 2 -f flv "rtmp://127.0.0.1:19390/live/$key" >"$data/ffmpeg.log" 2>&1 &
feed=$!
sleep 3
mkdir -p artifacts
(cd tools/browserbench && node trace.mjs --url http://127.0.0.1:8090/watch/live --out "$root/artifacts/trace.json" "$@")
