#!/usr/bin/env bash
# Calibration grid of both profiles on fresh gen.py shards (issue 3 item 10):
# generates 8 sessions per class for each SEED (cached under $GRID_DIR) and
# runs scripts/profile_check.py on each seed and pooled.
#
#   scripts/grid-seeds.sh [--bin BIN] SEED...      e.g. scripts/grid-seeds.sh 46 47 48
#
# D-BRANCH was calibrated on seeds 21 and 30–45 and validated on 46–53
# (docs/DEVIATIONS.md). Each seed takes about a minute (gen.py records real
# bash sessions). Exit 1 when a class of the pooled grid is below the 90 %
# floor; the per-seed shares are printed too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="$ROOT/../shared"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/decnet-profiler"
if [ "${1:-}" = "--bin" ]; then BIN="$2"; shift 2; fi
[ "$#" -gt 0 ] || { echo "usage: $0 [--bin BIN] SEED..." >&2; exit 2; }
[ -x "$BIN" ] || { echo "grid-seeds: no binary at $BIN (cargo build --release -p decnet-profiler)" >&2; exit 2; }
GRID_DIR="${GRID_DIR:-${TMPDIR:-/tmp}/decnet-grid-seeds}"
dirs=()
for s in "$@"; do
    d="$GRID_DIR/seed$s"
    if [ ! -f "$d/manifest.json" ]; then
        python3 "$SHARED/tools/corpus/gen.py" --out "$d" --seed "$s" --sessions-per-class 8 >/dev/null
    fi
    dirs+=(--grid-dir "$d")
done
python3 "$ROOT/scripts/profile_check.py" --bin "$BIN" "${dirs[@]}"
