#!/usr/bin/env bash
# Offline smoke (seed runbook 000_a9d819d0c7e14584): replays the calibration
# classes through the production handler against a temporary SQLite DB and
# prints one summary line per class.
#   scripts/smoke.sh            # bundled samples (crates/profiler/samples/calibration)
#   scripts/smoke.sh DIR        # a directory of class shards (+ manifest.json, reference counts)
# Exit codes: 0 full pass, 1 a class regressed, 2 argument / IO error.
set -u
cd "$(dirname "$0")/.." || exit 2
if [ "$#" -gt 1 ]; then
  echo "usage: $0 [DIR]" >&2
  exit 2
fi
BIN="${DECNET_PROFILER_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build -q -p decnet-profiler --bin decnet-profiler || exit 2
  BIN="${CARGO_TARGET_DIR:-target}/debug/decnet-profiler"
fi
exec "$BIN" replay "$@"
