#!/usr/bin/env bash
# One session profiled from a 1 MB and from a 1 GB day-shard (issue 7 item 5).
#
#   scripts/bench-shard-size.sh [LARGE_MB]      (default 1024)
#
# Builds two day-shards under $BENCH_DIR (default target/bench-shard-size):
# "small" (~1 MB) and "large" (LARGE_MB), both interleaving renamed copies
# of the calibration sessions with the same target session (its sid
# differs per shard only in nothing: the same sid, one shard per decky)
# spread through the middle. Then runs crates/profiler/tests/
# proof_shard_size.rs (release, ignored test) which, per shard, with a
# fresh cache: times the index build (first lookup) on its own, then the
# warm per-session time (locate + read that session's lines + extract),
# median of $SHARD_SIZE_RUNS (30). Prints both, the ratio large/small
# (target ≤ 2x) and the test process's peak RSS (VmHWM; target ≤ 64 MB).
#
# The large shard needs LARGE_MB of disk plus headroom: with less than 5 GB
# free (df) the large part is skipped with a message and a 100 MB shard is
# measured instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALIB="${CALIB:-$ROOT/../shared/corpus/calibration}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DIR="${BENCH_DIR:-$TARGET_DIR/bench-shard-size}"
LARGE_MB="${1:-1024}"
mkdir -p "$DIR"
free_kb=$(df -Pk "$DIR" | awk 'NR==2 {print $4}')
if [ "$LARGE_MB" -ge 1024 ] && [ "$free_kb" -lt $((5 * 1024 * 1024)) ]; then
    echo "bench-shard-size: only $((free_kb / 1024)) MB free under $DIR (< 5 GB): skipping the 1 GB shard, measuring 100 MB instead" >&2
    LARGE_MB=100
fi
SID="5eed0000-0000-4000-8000-000000000001"
gen() { # gen DECKY MB
    local out="$DIR/root/$1/ssh/transcripts/sessions-2026-05-02.jsonl"
    if [ -s "$out" ] && [ "$(cat "$out.mb" 2>/dev/null)" = "$2" ]; then return; fi
    mkdir -p "$(dirname "$out")"
    python3 - "$CALIB" "$out" "$2" "$SID" <<'EOF'
import json, pathlib, random, sys, uuid
calib, out, mb, target = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
sessions = []
for f in sorted(calib.glob("sessions-*.jsonl")):
    by = {}
    for line in f.read_bytes().splitlines(keepends=True):
        by.setdefault(json.loads(line)["sid"], []).append(line)
    sessions.extend(by.items())
# The target: the with-llm class's first session (a mid-sized one).
tsid, tlines = next((s, l) for s, l in sessions if len(l) > 50)
tlines = [l.replace(tsid.encode(), target.encode()) for l in tlines]
rng = random.Random(5)
limit = mb << 20
written = 0
placed = 0
with open(out, "wb") as f:
    rnd = 0
    while written < limit:
        batch = []
        for sid, lines in sessions:
            new = str(uuid.UUID(int=rng.getrandbits(128), version=4)).encode()
            batch.append([l.replace(sid.encode(), new) for l in lines])
        # Interleave this round's sessions line by line.
        idx = [0] * len(batch)
        live = list(range(len(batch)))
        while live:
            k = rng.choice(live)
            line = batch[k][idx[k]]
            f.write(line); written += len(line)
            idx[k] += 1
            if idx[k] == len(batch[k]):
                live.remove(k)
            # The target's lines go in around the middle of the shard.
            if placed < len(tlines) and written >= limit // 2 - 50000 + placed * 200:
                f.write(tlines[placed]); written += len(tlines[placed]); placed += 1
        rnd += 1
    for l in tlines[placed:]:
        f.write(l)
EOF
    echo "$2" > "$out.mb"
}
echo "bench-shard-size: generating shards under $DIR (small 1 MB, large $LARGE_MB MB)" >&2
t0=$(date +%s)
gen small 1
gen large "$LARGE_MB"
echo "bench-shard-size: generated in $(( $(date +%s) - t0 )) s" >&2
cd "$ROOT"
out=$(SHARD_SIZE_ROOT="$DIR/root" SHARD_SIZE_SID="$SID" SHARD_SIZE_DECKIES="small,large" \
    cargo test -q --release -p decnet-profiler --test proof_shard_size -- --ignored --nocapture --test-threads=1 2>&1) || {
    echo "$out" >&2; exit 1; }
echo "$out" | grep '^bench-shard-size:' | sed 's/^bench-shard-size: //' > "$DIR/result.jsonl"
python3 - "$DIR/result.jsonl" <<'EOF'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
s, l = rows[0], rows[1]
model = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), "?")
print(f"machine: {model}, {os.cpu_count()} cores")
for r in rows:
    print(f"{r['decky']:6} shard {r['bytes'] / 1e6:9.1f} MB: index build {r['index_build_s'] * 1e3:9.1f} ms, "
          f"warm one-session {r['warm_session_ms']:7.3f} ms ({r['observations']} observations), "
          f"peak RSS so far {r['vm_hwm_kb'] / 1024:.1f} MB"
          + (f", index {r['index_heap_bytes'] / 1048576:.1f} MiB" if "index_heap_bytes" in r else ""))
ratio = l["warm_session_ms"] / s["warm_session_ms"]
print(f"ratio large/small (warm): {ratio:.2f}x (target <= 2x: {'met' if ratio <= 2 else 'MISSED'})")
print(f"peak RSS of the bench process: {l['vm_hwm_kb'] / 1024:.1f} MB "
      f"(target <= 64 MB: {'met' if l['vm_hwm_kb'] <= 65536 else 'MISSED'})")
EOF
