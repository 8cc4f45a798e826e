#!/usr/bin/env python3
"""Helpers for scripts/bench-engine.sh (kept out of the shell script).

    bench_report.py cargo-executable TARGET      cargo --message-format=json on stdin
                                                 → path of the bench executable TARGET
    bench_report.py parse-engine-bench           engine bench output on stdin → JSON line
    bench_report.py time-cli BIN SHARD REPEAT [PIN...]
                                                 best wall time of `BIN extract SHARD`
    bench_report.py report OURS_JSON REF_JSON HOW
                                                 the side-by-side table and the ratio
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time


def cargo_executable(target: str) -> int:
    exe = ""
    for line in sys.stdin:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == target and m.get("executable"):
            exe = m["executable"]
    if not exe:
        return 1
    print(exe)
    return 0


# pipeline (+extract)    (cpu)    177 sessions     15277 events    1723 obs     12.345 ms ...
_PIPELINE = re.compile(r"(\d+) sessions\s+(\d+) events\s+(\d+) obs\s+([\d.]+) ms")


def parse_engine_bench() -> int:
    for line in sys.stdin:
        if line.startswith("pipeline"):
            m = _PIPELINE.search(line)
            if m:
                print(json.dumps({
                    "sessions": int(m[1]), "events": int(m[2]), "observations": int(m[3]),
                    "seconds": float(m[4]) / 1e3,
                }))
                return 0
    return 1


def time_cli(binary: str, shard: str, repeat: str, pin: list) -> int:
    best = None
    for _ in range(max(1, int(repeat))):
        t0 = time.perf_counter()
        p = subprocess.run(pin + [binary, "extract", "--profile", "decnet-1.2", shard],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            sys.stderr.write(f"bench: {binary} extract exited {p.returncode}\n")
            return 1
        best = dt if best is None else min(best, dt)
    print(json.dumps({"seconds": best}))
    return 0


def report(ours_s: str, ref_s: str, how: str) -> int:
    ours, ref = json.loads(ours_s), json.loads(ref_s)
    # Same shard, same grouping: counts come from the reference run unless
    # our side reported its own (then they must agree).
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
    print(f"reference measured as: scripts/oracle/bench_reference.py (in-memory, on-CPU time, "
          f"best of {ref.get('rounds', 1)}; wall {ref.get('wall_seconds', float('nan')):.3f} s)")
    return 0


def main() -> int:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "cargo-executable":
        return cargo_executable(args[0])
    if cmd == "parse-engine-bench":
        return parse_engine_bench()
    if cmd == "time-cli":
        return time_cli(args[0], args[1], args[2], args[3:])
    if cmd == "report":
        return report(args[0], args[1], args[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
