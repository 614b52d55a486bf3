#!/usr/bin/env bash
# The SDK installs (component meridian_client) into a scratch prefix, and client/examples — an
# application outside the tree — configures with find_package(meridian), builds and runs.
# Usage: install_test.sh BUILD_DIR EXAMPLES_SOURCE_DIR SCRATCH_DIR
set -euo pipefail
build="$1"
examples="$2"
scratch="$3"
rm -rf "$scratch"
# The installed archive is a normal build target; make sure it is current before installing it.
cmake --build "$build" --target meridian_client_bundle -- -j2 >/dev/null
cmake --install "$build" --prefix "$scratch/prefix" --component meridian_client >/dev/null
test -f "$scratch/prefix/include/meridian/client.h"
test -f "$scratch/prefix/include/meridian/sql.h"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$examples" -B "$scratch/app" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  "${launcher[@]}" >"$scratch/configure.log" 2>&1 || { cat "$scratch/configure.log"; exit 1; }
cmake --build "$scratch/app" -- -j2 >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log"; exit 1; }
# Without arguments, hello prints its usage and exits 2: it links and runs.
status=0
"$scratch/app/hello" 2>/dev/null || status=$?
[[ $status -eq 2 ]] || { echo "hello exited $status, expected 2 (usage)"; exit 1; }
status=0
"$scratch/app/hello_sql" 2>/dev/null || status=$?
[[ $status -eq 2 ]] || { echo "hello_sql exited $status, expected 2 (usage)"; exit 1; }
echo "installed SDK: find_package(meridian) + meridian::client built and ran hello and hello_sql"
rm -rf "$scratch"
