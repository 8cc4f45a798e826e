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
#   $OURS_BENCH_CMD    a command taking the shard path last and printing one
#                      JSON line {"sessions", "events", "seconds"};
#   the engine bench   crates/engine/benches/pipeline.rs (in-memory pipeline:
#                      one-pass grouping by sid + extract_session, rates from
#                      the best round's on-CPU time, CLOCK_THREAD_CPUTIME_ID),
#                      built with `cargo bench --no-run` and
#                      run pinned with DECNET_BENCH_SHARD=SHARD,
#                      DECNET_BENCH_ROUNDS=$BENCH_REPEAT (default 3);
#   the release CLI    `decnet-profiler extract` with stdout to /dev/null, best
#                      of $BENCH_REPEAT wall times; includes process start and
#                      JSON output, so it understates our engine (flagged).
# Reference side: scripts/oracle/bench_reference.py (read + group + extract,
# on-CPU time of its thread (time.thread_time), best of $BENCH_REF_REPEAT
# (default: $BENCH_REPEAT, so both sides get as many rounds); imports and
# interpreter start excluded).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="$ROOT/../shared"
export ORACLE_VENV="${ORACLE_VENV:-$ROOT/.venv-ref}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${DECNET_PROFILER_BIN:-$TARGET_DIR/release/decnet-profiler}"
REPEAT="${BENCH_REPEAT:-3}"
HELP="$ROOT/scripts/oracle/bench_report.py"
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

ours_json=""
if [ -n "${OURS_BENCH_CMD:-}" ]; then
    # shellcheck disable=SC2086
    ours_json="$("${PIN[@]}" $OURS_BENCH_CMD "$shard" | tail -n 1)"
    ours_how="$OURS_BENCH_CMD"
elif [ -f "$ROOT/crates/engine/benches/pipeline.rs" ]; then
    bench_exe="$(cd "$ROOT" && cargo bench --no-run -p decnet-engine --bench pipeline --message-format=json 2>/dev/null \
        | python3 "$HELP" cargo-executable pipeline)" || bench_exe=""
    if [ -n "$bench_exe" ]; then
        out="$(DECNET_BENCH_SHARD="$shard" DECNET_BENCH_ROUNDS="$REPEAT" "${PIN[@]}" "$bench_exe" --bench)"
        ours_json="$(printf '%s\n' "$out" | python3 "$HELP" parse-engine-bench)" || ours_json=""
        ours_how="crates/engine/benches/pipeline.rs (in-memory, on-CPU time, best of $REPEAT)"
        [ -n "$ours_json" ] || printf 'bench: could not parse the engine bench output:\n%s\n' "$out" >&2
    else
        echo "bench: cargo bench --no-run -p decnet-engine --bench pipeline failed; falling back to the CLI" >&2
    fi
fi
if [ -z "$ours_json" ]; then
    [ -x "$BIN" ] || { echo "bench: $BIN missing (cargo build --release -p decnet-profiler)" >&2; exit 2; }
    ours_json="$(python3 "$HELP" time-cli "$BIN" "$shard" "$REPEAT" "${PIN[@]}")"
    ours_how="$BIN extract, stdout to /dev/null, best of $REPEAT wall times (includes process start + JSON output)"
fi

ref_json="$("${PIN[@]}" python3 "$ROOT/scripts/oracle/bench_reference.py" --repeat "${BENCH_REF_REPEAT:-$REPEAT}" "$shard")"

python3 "$HELP" report "$ours_json" "$ref_json" "$ours_how"
