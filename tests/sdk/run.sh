#!/usr/bin/env bash
# Alpaca's official Node SDK (@alpacahq/alpaca-trade-api 4.x) against the
# gateway of a running `athanor run` (on its built-in simulator): 20 SDK
# market-data clients share the one upstream connection, a wrong secret gets
# 402; 5 SDK trading-stream clients receive an order's updates on /stream.
#   tests/sdk/run.sh ATHANOR_BINARY CACHE_DIR
# Exits 77 (CTest: skipped) when node/npm are absent or the npm registry
# cannot be reached to install the SDK; says which.
set -euo pipefail
athanor="$1"
cache="$2"
here="$(cd "$(dirname "$0")" && pwd)"

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo "sdk test skipped: node and npm are not installed"
  exit 77
fi
if [ ! -d "$cache/node_modules/@alpacahq/alpaca-trade-api" ]; then
  mkdir -p "$cache"
  # Without a registry (CI has none) this must fail fast, not retry.
  if ! timeout 60 npm install --prefix "$cache" --no-audit --no-fund \
      --fetch-retries=0 --fetch-timeout=15000 --loglevel=error \
      "@alpacahq/alpaca-trade-api@4" > "$cache/npm.log" 2>&1; then
    echo "sdk test skipped: npm could not install @alpacahq/alpaca-trade-api@4"
    tail -5 "$cache/npm.log"
    exit 77
  fi
fi

. "$here/engine.sh"
start_engine "$athanor" SDKGWKEY SDKGWSECRET
echo "gateway at $url, simulator's broker at $broker"
NODE_PATH="$cache/node_modules" timeout 60 \
  node "$here/stream_clients.js" "$url" SDKGWKEY SDKGWSECRET 20
NODE_PATH="$cache/node_modules" timeout 60 \
  node "$here/trading_clients.js" "$url" SDKGWKEY SDKGWSECRET "$broker" 5
# The engine held one upstream connection for all of them.
connects="$(grep -c 'stream_session: state_change.*to=streaming' "$engine_log" || true)"
echo "upstream sessions that reached streaming: $connects"
[ "$connects" = "1" ]
trading="$(grep -c 'trading_session: state_change.*to=streaming' "$engine_log" || true)"
echo "trading streams that reached streaming: $trading"
[ "$trading" = "1" ]
