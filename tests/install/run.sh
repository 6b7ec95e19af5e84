#!/usr/bin/env bash
# The library as a host uses it: installs the build into a temporary prefix,
# builds examples/host against the installed CMake package and, again, with
# pkg-config alone, and runs both hosts (on the built-in simulator).
#   tests/install/run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" --strip > "$tmp/install.log"
echo "installed: $(cd "$prefix" && find . -name 'libathanor.so*' -o -name '*.pc' -o -name 'athanorConfig.cmake' | sort | tr '\n' ' ')"

# No upstream keys: the hosts must run on the simulator, never trade for real.
unset ALPACA_API_KEY ALPACA_API_SECRET APCA_API_KEY_ID APCA_API_SECRET_KEY

cmake -S "$src/examples/host" -B "$tmp/host" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log"
cmake --build "$tmp/host" > "$tmp/build.log"
echo "-- host built with find_package(athanor):"
"$tmp/host/athanor-host" 2> "$tmp/host.err"

pc_dir="$(dirname "$(find "$prefix" -name athanor.pc | head -1)")"
lib_dir="$(dirname "$(find "$prefix" -name 'libathanor.so' | head -1)")"
# shellcheck disable=SC2046
c++ -std=c++17 -O1 "$src/examples/host/main.cpp" -o "$tmp/host-pc" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs athanor)
echo "-- host built with pkg-config:"
LD_LIBRARY_PATH="$lib_dir" "$tmp/host-pc" 2> "$tmp/host-pc.err"
