# Sourced by the SDK tests: starts `athanor run` on its built-in simulator
# with the gateway on, and sets $url (the gateway), $broker (the simulator's
# REST base) and $pid; the engine is stopped when the test's shell exits.
#   start_engine ATHANOR_BINARY GATEWAY_KEY GATEWAY_SECRET
start_engine() {
  local athanor="$1"
  engine_log="$(mktemp)"
  trap 'kill -INT "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; rm -f "$engine_log"' EXIT
  ATHANOR_GATEWAY_KEY="$2" ATHANOR_GATEWAY_SECRET="$3" \
    "$athanor" run --json --athanor.log.format=human > /dev/null 2> "$engine_log" &
  pid=$!
  url=""
  for _ in $(seq 1 100); do
    url="$(grep -o 'gateway listening on ws://[0-9.:]*' "$engine_log" | head -1 | sed 's/.* on //')" || true
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "athanor did not report its gateway:"
    cat "$engine_log"
    exit 1
  fi
  broker="$(grep -o 'trading_endpoint=http://[0-9.:]*' "$engine_log" | head -1 | sed 's/.*=//')"
}
