#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang++ (ASan + UBSan, libFuzzer) into
# build-fuzz/ and fuzzes each for N seconds, starting from its committed corpus. New inputs go to
# build-fuzz/tests/fuzz/scratch/<target>/, a crashing input to build-fuzz/tests/fuzz/crash-*;
# the script exits non-zero when a target fails. docs/testing.md says how to keep a finding.
# Usage: scripts/fuzz.sh [--seconds N] [--jobs J] [target...]   (default: 60 s, every target)
#        scripts/fuzz.sh --ctest [--jobs J]   builds every target and runs the ctests labelled
#                    fuzz: each target for a fixed number of runs from its corpus (test.sh, CI)
#        scripts/fuzz.sh --seeds     rewrites the corpora's seeds from the encoders (fuzz_seed_gen)
# Targets: paxos_frame paxos_codec storage_format txn_records
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_DIR="${MERIDIAN_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
ALL_TARGETS=(paxos_frame paxos_codec storage_format txn_records)
seconds=60
jobs=1
seeds=0
ctest=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    --jobs=*) jobs="${1#*=}"; shift ;;
    --seeds) seeds=1; shift ;;
    --ctest) ctest=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

# setup.sh installs the dependencies (clang is in Debian's clang-14 and libclang-rt-14-dev).
MERIDIAN_SETUP_ONLY_PACKAGES=1 source "$ROOT/scripts/setup.sh"
for p in clang libclang-rt-14-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "fuzz: installing clang libclang-rt-14-dev"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
    break
  fi
done

if [ ! -f "$FUZZ_DIR/build.ninja" ]; then
  echo "fuzz: configuring $FUZZ_DIR (clang++, -fsanitize=fuzzer-no-link,address,undefined)"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMERIDIAN_FUZZ=ON -DMERIDIAN_WERROR=OFF >/dev/null
fi

if [ "$seeds" -eq 1 ]; then
  cmake --build "$FUZZ_DIR" -j "$jobs" --target fuzz_seed_gen
  "$FUZZ_DIR/tests/fuzz/fuzz_seed_gen" "$ROOT/tests/fuzz/corpus"
  exit 0
fi

cmake --build "$FUZZ_DIR" -j "$jobs" --target "${targets[@]/#/fuzz_}"
if [ "$ctest" -eq 1 ]; then
  cd "$FUZZ_DIR"
  exec ctest --output-on-failure -L '^fuzz$'
fi

status=0
for t in "${targets[@]}"; do
  scratch="$FUZZ_DIR/tests/fuzz/scratch/$t"
  mkdir -p "$scratch"
  echo "== fuzz_$t for ${seconds}s"
  if ! "$FUZZ_DIR/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/tests/fuzz/" \
      "$scratch" "$ROOT/tests/fuzz/corpus/$t"; then
    echo "fuzz: fuzz_$t FAILED (the input is in $FUZZ_DIR/tests/fuzz/)"
    status=1
  fi
done
exit $status
