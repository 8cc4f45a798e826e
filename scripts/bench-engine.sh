#!/usr/bin/env bash
# Throughput of our engine and of the reference engine on the same shard, in
# one run: shard bytes → grouped sessions → observations in memory (output
# excluded), one thread, one pinned core (taskset) for both.
#
#   scripts/bench-engine.sh [SHARD]
#
# SHARD defaults to a generated day-shard: ../shared/tools/corpus/gen.py --big
# $BENCH_MB (default 20 MB) when gen.py can run here (root or user
# namespaces), else gen_sessions.py with 3000 sessions. Generated shards are
# cached under $BENCH_DIR (default target/bench-shards).
#
# Our side, first that applies:
#   $OURS_BENCH_CMD      a command taking the shard path last and printing one
#                        JSON line {"sessions", "events", "seconds"} for the
#                        in-memory pipeline (no output);
#   otherwise            the release CLI, `decnet-profiler extract` with stdout
#                        to /dev/null, best of $BENCH_REPEAT (default 3) runs;
#                        this includes process start and JSON output, so it
#                        understates our engine (flagged in the report).
# Reference side: scripts/oracle/bench_reference.py (read + group + extract,
# timed inside the interpreter; imports and start-up excluded).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="$ROOT/../shared"
export ORACLE_VENV="${ORACLE_VENV:-$ROOT/.venv-ref}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${DECNET_PROFILER_BIN:-$TARGET_DIR/release/decnet-profiler}"
REPEAT="${BENCH_REPEAT:-3}"
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)

shard="${1:-}"
if [ -z "$shard" ]; then
    dir="${BENCH_DIR:-$TARGET_DIR/bench-shards}"
    mb="${BENCH_MB:-20}"
    mkdir -p "$dir"
    shard="$dir/big-${mb}mb/sessions-2026-05-02-big.jsonl"
    if [ ! -s "$shard" ]; then
        echo "bench: generating a ${mb} MB day-shard with gen.py --big (seed 5)" >&2
        if ! python3 "$SHARED/tools/corpus/gen.py" --out "$dir/big-${mb}mb" --seed 5 \
                --sessions-per-class 0 --big "$mb" --workers 2 >"$dir/gen.log" 2>&1; then
            echo "bench: gen.py cannot run here (see $dir/gen.log); using gen_sessions.py --sessions 3000" >&2
            shard="$dir/gen-sessions-3000.jsonl"
            python3 "$SHARED/tools/gen_sessions.py" "$shard" --sessions 3000 --seed 5
        fi
    fi
fi
[ -s "$shard" ] || { echo "bench: no shard at $shard" >&2; exit 2; }
[ -f "$ORACLE_VENV/shim/decnet/profiler/behave_shell/__init__.py" ] || "$ROOT/scripts/oracle/setup.sh" "$ORACLE_VENV" >&2

echo "bench: shard $shard ($(stat -c %s "$shard") bytes)${PIN:+, pinned with ${PIN[*]}}"

ref_json="$("${PIN[@]}" python3 "$ROOT/scripts/oracle/bench_reference.py" "$shard")"

if [ -n "${OURS_BENCH_CMD:-}" ]; then
    # shellcheck disable=SC2086
    ours_json="$("${PIN[@]}" $OURS_BENCH_CMD "$shard" | tail -n 1)"
    ours_how="$OURS_BENCH_CMD (in-memory)"
else
    [ -x "$BIN" ] || { echo "bench: $BIN missing (cargo build --release -p decnet-profiler)" >&2; exit 2; }
    ours_json="$(RAYON_NUM_THREADS=1 python3 - "$BIN" "$shard" "$REPEAT" "${PIN[@]}" <<'EOF'
import json, subprocess, sys, time
binary, shard, repeat, pin = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
best = None
for _ in range(max(1, repeat)):
    t0 = time.perf_counter()
    p = subprocess.run(pin + [binary, "extract", "--profile", "decnet-1.2", shard],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {binary} extract exited {p.returncode}")
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best}))
EOF
)"
    ours_how="$BIN extract, stdout to /dev/null, best of $REPEAT (includes process start + JSON output)"
fi

python3 - "$ref_json" "$ours_json" "$ours_how" <<'EOF'
import json, sys
ref, ours, how = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
# Same shard, same grouping: session/event counts come from the reference run
# unless our side reported its own.
for k in ("sessions", "events"):
    ours.setdefault(k, ref[k])
if ours["sessions"] != ref["sessions"] or ours["events"] != ref["events"]:
    print(f"bench: WARNING: ours grouped {ours['sessions']} sessions / {ours['events']} events, "
          f"reference {ref['sessions']} / {ref['events']}")
rows = []
for name, r in (("ours", ours), ("reference", ref)):
    s = r["seconds"]
    rows.append((name, r["sessions"], r["events"], s, r["sessions"] / s, r["events"] / s))
print(f"{'side':<10} {'sessions':>9} {'events':>10} {'seconds':>9} {'sessions/s':>12} {'events/s':>13}")
for name, n, e, s, sps, eps in rows:
    print(f"{name:<10} {n:>9} {e:>10} {s:>9.3f} {sps:>12.1f} {eps:>13.0f}")
print(f"ratio ours/reference: {rows[0][4] / rows[1][4]:.1f}x sessions/s, {rows[0][5] / rows[1][5]:.1f}x events/s")
print(f"ours measured as: {how}")
EOF
