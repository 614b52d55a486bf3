#!/usr/bin/env bash
# The main job: builds Meridian (the meridian CLI, placementd and spanserver) and runs
# `meridian demo`, a whole local cluster: placementd and one spanserver per zone as child
# processes, a live workload through the SDK, the topology, then a shell. Arguments are passed to
# `meridian demo` (try --help, or --no_shell --duration=20).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cmake --build "$BUILD_DIR" -j "$(nproc)" --target meridian placementd spanserver >/dev/null
exec "$BUILD_DIR/tools/meridian" demo "$@"
