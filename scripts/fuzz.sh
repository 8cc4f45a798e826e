#!/usr/bin/env bash
# Run cargo-fuzz targets from fuzz/ (outside the workspace; needs nightly).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGETs default to every target in
# fuzz/Cargo.toml. Targets run two at a time; fuzz/seeds/<target>/ seeds the
# corpus. Crashes land in
# fuzz/artifacts/<target>/; the corpus grows in fuzz/corpus/<target>/.
# One-time setup: rustup toolchain install nightly && cargo install cargo-fuzz
# Never run from .ci/run (nightly only).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
secs="${1:-60}"
shift || true
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
# Build once, so two concurrent runs do not fight over the build lock.
cargo +nightly fuzz build
logdir="$root/fuzz/artifacts/logs"
mkdir -p "$logdir"
status=0
run() {
    local t="$1"
    mkdir -p "corpus/$t"
    # Committed seeds (fuzz/seeds/<target>/) start the corpus.
    if [ -d "seeds/$t" ]; then cp -n "seeds/$t"/* "corpus/$t"/ 2>/dev/null || true; fi
    echo "fuzz.sh: $t for ${secs}s (log: $logdir/$t.log)"
    if cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 >"$logdir/$t.log" 2>&1; then
        echo "fuzz.sh: $t OK ($(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$logdir/$t.log" | tail -1)s)"
    else
        echo "fuzz.sh: $t FAILED, see $logdir/$t.log and fuzz/artifacts/$t/" >&2
        return 1
    fi
}
running=0
for t in "${targets[@]}"; do
    run "$t" &
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit "$status"
