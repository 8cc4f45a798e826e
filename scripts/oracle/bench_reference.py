#!/usr/bin/env python3
"""Time the reference engine on one shard: bytes → grouped sessions → observations.

Measures what scripts/bench-engine.sh measures for ours: read the shard the
way the handler does (reference_extract.read_sessions), run extract_session
per session, keep the observations in memory; no output, one thread. The
interpreter start and imports are outside the timed region.

    bench_reference.py SHARD [--repeat R]

Prints one JSON line: {"side": "reference", "sessions", "events",
"observations", "seconds", "wall_seconds", "sessions_per_s", "events_per_s"}
for the best of R runs (default 1). `seconds` is this thread's on-CPU time
(time.thread_time), the same measure as the Rust pipeline bench, so a busy
shared machine does not skew the ratio; `wall_seconds` is the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_extract as rx  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("shard")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    rx._ensure_reference()
    base = os.path.basename(a.shard)
    best = None
    for _ in range(max(1, a.repeat)):
        c0, t0 = time.thread_time(), time.perf_counter()
        sessions, _broken = rx.read_sessions(a.shard)
        rows, _errors = rx.extract_sessions(sessions, lambda sid: f"shard:bench/ssh/{base}#{sid}")
        dt, wall = time.thread_time() - c0, time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, wall, len(sessions), sum(len(e) for e in sessions.values()), len(rows))
    assert best is not None
    dt, wall, n_sess, n_ev, n_obs = best
    print(json.dumps({
        "side": "reference",
        "sessions": n_sess,
        "events": n_ev,
        "observations": n_obs,
        "seconds": dt,
        "wall_seconds": wall,
        "rounds": max(1, a.repeat),
        "sessions_per_s": n_sess / dt if dt else 0.0,
        "events_per_s": n_ev / dt if dt else 0.0,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
