#!/usr/bin/env bash
# Smoke test of `meridian storage-demo`: it exits 0, shows commit wait, reaches the end and removes its
# data directory. Usage: demo_smoke_test.sh path/to/meridian scratch-dir
set -euo pipefail
meridian="$1"
dir="$2"
rm -rf "$dir"
out="$("$meridian" storage-demo --dir="$dir")"  # set -e: a non-zero exit fails the test here
grep -q "commit wait" <<<"$out" || { echo "no 'commit wait' in the output:"; echo "$out"; exit 1; }
grep -q "^Done: 4 commits" <<<"$out" || { echo "the demo did not finish:"; echo "$out"; exit 1; }
[[ ! -e "$dir" ]] || { echo "the demo left $dir behind"; exit 1; }
