#!/usr/bin/env bash
# Installs Meridian's build dependencies (Debian 12, as root or with sudo) and configures build/.
# Idempotent: when every package is present and build/ is configured, it does nothing and is fast.
# Usage: scripts/setup.sh            (sourced by test.sh and demo.sh, or run alone)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${MERIDIAN_BUILD_DIR:-$ROOT/build}"
BUILD_TYPE="${MERIDIAN_BUILD_TYPE:-RelWithDebInfo}"

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libleveldb-dev libsnappy-dev libabsl-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libedit-dev libpq-dev
  libtcmalloc-minimal4 gnuplot-nox libssl-dev
  # tests/integration/metrics_test.cc: Prometheus' text-format parser and a headless browser.
  python3-prometheus-client chromium
  # tests/integration/clock_offset_test.cc: a spanserver whose clock lies (libfaketime).
  faketime
  # tests/chaos/: nft cuts the links between servers (partition faults).
  nftables
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# MERIDIAN_SETUP_ONLY_PACKAGES=1: stop here (scripts/fuzz.sh configures its own directory).
if [ "${MERIDIAN_SETUP_ONLY_PACKAGES:-0}" = 1 ]; then
  return 0 2>/dev/null || exit 0
fi

# MERIDIAN_CMAKE_ARGS: more cache settings for a new build directory (test.sh --sanitize).
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  echo "setup: configuring $BUILD_DIR ($BUILD_TYPE${MERIDIAN_CMAKE_ARGS:+ ${MERIDIAN_CMAKE_ARGS}})"
  # shellcheck disable=SC2086 # the extra arguments are words on purpose
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DMERIDIAN_WERROR="${MERIDIAN_WERROR:-ON}" ${MERIDIAN_CMAKE_ARGS:-} >/dev/null
fi
