#!/usr/bin/env bash
# The whole test suite: installs what is missing, checks formatting, builds, runs every ctest
# tier (unit, sim, integration, chaos), then the fuzz harnesses briefly (scripts/fuzz.sh
# --ctest). Exits non-zero on any failure.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit]
#        scripts/test.sh --sanitize=address,undefined [extra ctest arguments]
#          g++ with ASan and UBSan (UBSan aborts on the first finding) in build-asan/, running the
#          unit and sim tiers;
#        scripts/test.sh --sanitize=thread [extra ctest arguments]
#          g++ with TSan in build-tsan/, running the tests of the threaded adapters (TcpTransport,
#          GrpcTransport, GroupHost) with tests/tsan_suppressions.txt (docs/testing.md says why
#          only those).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitize=""
if [[ "${1:-}" == --sanitize=* ]]; then
  sanitize="${1#--sanitize=}"
  shift
fi
tier_args=()
build_args=()
case "$sanitize" in
  "") ;;
  address,undefined | undefined,address | address | undefined)
    export MERIDIAN_BUILD_DIR="$ROOT/build-asan"
    # ctest ANDs repeated -L options, so the two tiers are one expression.
    tier_args=(-L '^(unit|sim)$')
    ;;
  thread)
    export MERIDIAN_BUILD_DIR="$ROOT/build-tsan"
    tier_args=(-R '^(TcpTransportTest|GrpcTransportTest|GroupHostTest)\.')
    build_args=(--target replication_test)
    export TSAN_OPTIONS="suppressions=$ROOT/tests/tsan_suppressions.txt halt_on_error=1 ${TSAN_OPTIONS:-}"
    ;;
  *)
    echo "test.sh: --sanitize takes address,undefined or thread, not '$sanitize'" >&2
    exit 2
    ;;
esac
if [ -n "$sanitize" ]; then
  # Sanitizer instrumentation brings warnings of its own (g++ -Wmaybe-uninitialized, ...): the
  # default build is the one that holds the code to -Werror. The benchmarks are not tests.
  export MERIDIAN_WERROR=OFF
  export MERIDIAN_CMAKE_ARGS="-DMERIDIAN_SANITIZE=$sanitize -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON"
  export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
fi
source "$ROOT/scripts/setup.sh"

echo "== format check (clang-format, .clang-format)"
cd "$ROOT"
mapfile -t sources < <(git ls-files '*.h' '*.cc' 2>/dev/null || find . -name '*.h' -o -name '*.cc')
if [ ${#sources[@]} -gt 0 ]; then
  clang-format --dry-run -Werror "${sources[@]}"
fi

echo "== build ($BUILD_DIR)"
cmake --build "$BUILD_DIR" -j "$(nproc)" "${build_args[@]}"

echo "== tests"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 600 "${tier_args[@]}" "$@"

# The whole suite (no tier chosen, as CI runs it) ends with the fuzz harnesses: clang++, ASan and
# UBSan, a fixed number of runs each from the committed corpora (scripts/fuzz.sh --ctest).
# MERIDIAN_SKIP_FUZZ=1 leaves them out.
if [ -z "$sanitize" ] && [ $# -eq 0 ] && [ "${MERIDIAN_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz (build-fuzz)"
  "$ROOT/scripts/fuzz.sh" --ctest --jobs "$(nproc)"
fi
