#!/usr/bin/env bash
# The main job: builds Meridian and runs its demonstration (for now TrueTime and MVCC storage;
# later a local cluster). Arguments are passed to `meridian demo`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cmake --build "$BUILD_DIR" -j "$(nproc)" --target meridian >/dev/null
exec "$BUILD_DIR/tools/meridian" demo "$@"
