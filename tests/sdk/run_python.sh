#!/usr/bin/env bash
# alpaca-py's stream protocol (tests/sdk/alpaca_py_clients.py, with Debian's
# python3-websockets and python3-msgpack) against the gateway of a running
# `athanor run` on its built-in simulator.
#   tests/sdk/run_python.sh ATHANOR_BINARY
set -euo pipefail
athanor="$1"
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/engine.sh"
start_engine "$athanor" PYGWKEY PYGWSECRET
timeout 90 /usr/bin/python3 "$here/alpaca_py_clients.py" "$url" PYGWKEY PYGWSECRET "$broker"
