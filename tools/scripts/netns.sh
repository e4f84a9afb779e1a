#!/usr/bin/env bash
# Runs a command in a private network namespace that has only loopback, so
# that tests' WebRTC, servers and browsers stay on 127.0.0.1 and nothing
# leaves the machine. Needs root (or unprivileged user namespaces).
set -euo pipefail
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  exec unshare -n bash -c 'ip link set lo up && exec "$@"' netns "$@"
elif unshare -rn true 2>/dev/null; then
  exec unshare -rn bash -c 'ip link set lo up && exec "$@"' netns "$@"
fi
echo "netns.sh: cannot create a network namespace; running on the host network (loopback only by configuration)" >&2
exec "$@"
