#!/usr/bin/env bash
# alpaca-py's stream protocol (tests/sdk/alpaca_py_clients.py, with Debian's
# python3-websockets and python3-msgpack) against the gateway of a running
# `athanor run` on its built-in simulator.
#   tests/sdk/run_python.sh ATHANOR_BINARY
set -euo pipefail
athanor="$1"
here="$(cd "$(dirname "$0")" && pwd)"
log="$(mktemp)"
trap 'kill -INT "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; rm -f "$log"' EXIT
ATHANOR_GATEWAY_KEY=PYGWKEY ATHANOR_GATEWAY_SECRET=PYGWSECRET \
  "$athanor" run --json --athanor.log.format=human > /dev/null 2> "$log" &
pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'gateway listening on ws://[0-9.:]*' "$log" | head -1 | sed 's/.* on //')" || true
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "athanor did not report its gateway:"
  cat "$log"
  exit 1
fi
broker="$(grep -o 'trading_endpoint=http://[0-9.:]*' "$log" | head -1 | sed 's/.*=//')"
timeout 90 /usr/bin/python3 "$here/alpaca_py_clients.py" "$url" PYGWKEY PYGWSECRET "$broker"
