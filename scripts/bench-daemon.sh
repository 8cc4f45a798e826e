#!/usr/bin/env bash
# End-to-end daemon benchmark on SQLite, MariaDB and PostgreSQL (issue 7
# item 5): events → commits (→ publishes), sessions/s, p50/p99 latency, peak
# RSS. The work is in tests/py/bench_daemon.py (see its docstring for what
# each phase measures); this wrapper builds the release daemon and runs it
# per backend.
#
#   scripts/bench-daemon.sh [SESSIONS] [RATE]     (defaults 2000, 200/s)
#
# BACKENDS="sqlite mysql postgres" by default; DECNET_BUS_PYTHON (a python
# with decnet==1.0.0 + orjson) adds the bus phase. Targets: ≥ 1,000
# sessions/s on SQLite, ≥ 300/s on MariaDB, peak RSS ≤ 64 MB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${DECNET_PROFILER_BIN:-$TARGET_DIR/release/decnet-profiler}"
N="${1:-2000}"
RATE="${2:-200}"
if [ -z "${DECNET_PROFILER_BIN:-}" ]; then
    (cd "$ROOT" && cargo build -q --release -p decnet-profiler)
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
echo "binary: $BIN; $N sessions; stream rate ${RATE}/s"
bus=()
[ -n "${DECNET_BUS_PYTHON:-}" ] && bus=(--bus-python "$DECNET_BUS_PYTHON")
for b in ${BACKENDS:-sqlite mysql postgres}; do
    python3 "$ROOT/tests/py/bench_daemon.py" "$BIN" "$b" --sessions "$N" --rate "$RATE" "${bus[@]}"
done
