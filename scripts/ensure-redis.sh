#!/usr/bin/env bash
# Makes sure `redis-server` is on the PATH, for the RedisStore tests (they start their own server on a
# free loopback port, in a temporary directory, and stop it after). Idempotent: when the binary is
# already there it only says so. Otherwise it installs the Debian/Ubuntu package `redis-server` with
# apt-get (as root, or through sudo when it is available without a password).
#
# The package may try to start its own service on port 6379; the tests do not use it.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: $(redis-server --version | head -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-redis: redis-server is missing and apt-get is not available: install Redis (>= 6) so that redis-server is on the PATH, or set REDIS_SERVER_BIN" >&2
  exit 1
fi

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    echo "ensure-redis: installing redis-server needs root: run 'sudo apt-get update && sudo apt-get install -y redis-server'" >&2
    exit 1
  fi
}

echo "ensure-redis: redis-server not found; installing the Debian package redis-server"
export DEBIAN_FRONTEND=noninteractive
run_as_root env DEBIAN_FRONTEND=noninteractive apt-get update
run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: apt-get installed redis-server but it is not on the PATH (looked for it in: $PATH)" >&2
  exit 1
fi
echo "ensure-redis: installed $(redis-server --version | head -n 1)"
