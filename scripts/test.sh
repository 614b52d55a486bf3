#!/usr/bin/env bash
# The whole test suite: installs what is missing, checks formatting, builds, and runs every ctest
# tier (unit, sim). Exits non-zero on any failure.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"

echo "== format check (clang-format, .clang-format)"
cd "$ROOT"
mapfile -t sources < <(git ls-files '*.h' '*.cc' 2>/dev/null || find . -name '*.h' -o -name '*.cc')
if [ ${#sources[@]} -gt 0 ]; then
  clang-format --dry-run -Werror "${sources[@]}"
fi

echo "== build ($BUILD_DIR)"
cmake --build "$BUILD_DIR" -j "$(nproc)"

echo "== tests"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
