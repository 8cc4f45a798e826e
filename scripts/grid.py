#!/usr/bin/env python3
"""Calibration-grid report, side by side for several extractors.

The seeds' class table (001, "Calibration grid IS the regression test") names,
per operator class, the primitive values an extractor must show. For each of
the five calibration shards this prints, per extractor column:

* per required value: sessions showing it / sessions of the class;
* cells: required (session, primitive) values shown / required;
* ALL: sessions showing every required value / sessions.

The class table, shard names and short names come from
../shared/tools/corpus/validate.py (the corpus's own scorer); the session →
class map comes from the directory's manifest.json when present, else from
the shard headers.

A column is NAME=SOURCE, where SOURCE is
  * a directory: every *.jsonl in it is read as observation lines
    (e.g. ../shared/corpus/calibration/reference);
  * a file of observation lines;
  * otherwise a command, run once per shard with the shard path appended
    (e.g. "target/release/decnet-profiler extract --profile decnet-1.2").
Observation lines are JSON objects with at least sid, primitive, value;
lines without a value (error records) are ignored.

    grid.py [--dir DIR] --column NAME=SOURCE [--column ...] [--assert-equal]
    grid.py --ours SOURCE --ref SOURCE [--assert-equal]

--assert-equal exits 1 unless every column shows the same value for every
required (session, primitive) — hence identical grids.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

Values = Dict[str, Dict[str, Optional[str]]]  # sid -> primitive -> value


def load_table(shared: str):
    sys.path.insert(0, os.path.join(shared, "tools", "corpus"))
    try:
        import validate  # type: ignore
    except ImportError as exc:
        sys.exit(f"grid: cannot import {shared}/tools/corpus/validate.py ({exc})")
    return validate


def sessions_by_class(d: str, shards: Dict[str, str], validate) -> Dict[str, List[str]]:
    """class label -> sids in the class's shard (manifest order, else header order)."""
    out: Dict[str, List[str]] = {label: [] for label in shards}
    man = os.path.join(d, "manifest.json")
    if os.path.exists(man):
        with open(man, encoding="utf-8") as fh:
            m = json.load(fh)
        name_to_label = {name: label for label, name in shards.items()}
        for s in m.get("sessions", []):
            label = s.get("class") or name_to_label.get(s.get("shard"))
            if label in out and s.get("shard") == shards[label]:
                out[label].append(s["sid"])
        if any(out.values()):
            return out
    for label, name in shards.items():
        path = os.path.join(d, name)
        if os.path.exists(path):
            out[label] = validate.sids_in(path)
    return out


def parse_obs(text: str, into: Values) -> None:
    for line in text.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict) and isinstance(o.get("sid"), str) and "primitive" in o and "value" in o:
            into.setdefault(o["sid"], {})[o["primitive"]] = o["value"]


def load_column(source: str, d: str, shards: Dict[str, str]) -> Values:
    vals: Values = {}
    if os.path.isdir(source):
        for name in sorted(os.listdir(source)):
            if name.endswith(".jsonl"):
                with open(os.path.join(source, name), encoding="utf-8", errors="surrogateescape") as fh:
                    parse_obs(fh.read(), vals)
        return vals
    if os.path.isfile(source):
        with open(source, encoding="utf-8", errors="surrogateescape") as fh:
            parse_obs(fh.read(), vals)
        return vals
    cmd = shlex.split(source)
    for name in shards.values():
        path = os.path.join(d, name)
        if not os.path.exists(path):
            continue
        p = subprocess.run(cmd + [path], stdin=subprocess.DEVNULL, capture_output=True)
        if p.returncode != 0:
            tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise SystemExit(f"grid: `{source} {path}` exited {p.returncode}: {' | '.join(tail)}")
        parse_obs(p.stdout.decode("utf-8", "surrogateescape"), vals)
    return vals


def score(vals: Values, sids: List[str], expected: Dict[str, str]) -> Tuple[collections.Counter, int, int]:
    hits: collections.Counter = collections.Counter()
    all_ok = 0
    for sid in sids:
        v = vals.get(sid, {})
        ok = True
        for prim, want in expected.items():
            if v.get(prim) == want:
                hits[prim] += 1
            else:
                ok = False
        all_ok += ok
    return hits, sum(hits.values()), all_ok


def frac(k: int, n: int) -> str:
    return f"{k}/{n}" + (f" {100 * k / n:5.1f}%" if n else "")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=os.path.join(SHARED, "corpus", "calibration"))
    ap.add_argument("--shared", default=SHARED)
    ap.add_argument("--column", action="append", default=[], metavar="NAME=SOURCE")
    ap.add_argument("--ours", metavar="SOURCE", help="same as --column ours=SOURCE")
    ap.add_argument("--ref", metavar="SOURCE", help="same as --column ref=SOURCE")
    ap.add_argument("--assert-equal", action="store_true")
    a = ap.parse_args(argv)

    cols: List[Tuple[str, str]] = []
    if a.ours:
        cols.append(("ours", a.ours))
    if a.ref:
        cols.append(("ref", a.ref))
    for c in a.column:
        name, sep, src = c.partition("=")
        if not sep or not name or not src:
            ap.error(f"--column wants NAME=SOURCE, got {c!r}")
        cols.append((name, src))
    if not cols:
        ap.error("give at least one column (--ours/--ref/--column)")

    validate = load_table(a.shared)
    expected: Dict[str, Dict[str, str]] = validate.EXPECTED
    shards: Dict[str, str] = validate.SHARDS
    short: Dict[str, str] = validate.SHORT
    by_class = sessions_by_class(a.dir, shards, validate)
    values = {name: load_column(src, a.dir, shards) for name, src in cols}

    w = max(14, *(len(n) + 2 for n, _ in cols))
    print(f"calibration grid: {a.dir}")
    for name, src in cols:
        print(f"  {name} = {src}")
    head = f"{'class':<15}{'required value':<36}" + "".join(f"{n:>{w}}" for n, _ in cols)
    print(head)
    print("-" * len(head))
    totals = {n: [0, 0, 0, 0] for n, _ in cols}  # cells hit, cells, all ok, sessions
    for label, exp in expected.items():
        sids = by_class.get(label, [])
        if not sids:
            continue
        n = len(sids)
        scored = {name: score(values[name], sids, exp) for name, _ in cols}
        first = True
        for prim, want in exp.items():
            tag = f"{label} ({n})" if first else ""
            first = False
            print(f"{tag:<15}{short.get(prim, prim) + '=' + want:<36}"
                  + "".join(f"{frac(scored[c][0][prim], n):>{w}}" for c, _ in cols))
        print(f"{'':<15}{'cells':<36}" + "".join(f"{frac(scored[c][1], n * len(exp)):>{w}}" for c, _ in cols))
        print(f"{'':<15}{'ALL':<36}" + "".join(f"{frac(scored[c][2], n):>{w}}" for c, _ in cols))
        for c, _ in cols:
            t = totals[c]
            t[0] += scored[c][1]
            t[1] += n * len(exp)
            t[2] += scored[c][2]
            t[3] += n
    print("-" * len(head))
    print(f"{'TOTAL':<15}{'cells':<36}" + "".join(f"{frac(totals[c][0], totals[c][1]):>{w}}" for c, _ in cols))
    print(f"{'':<15}{'sessions showing all':<36}" + "".join(f"{frac(totals[c][2], totals[c][3]):>{w}}" for c, _ in cols))

    if not a.assert_equal or len(cols) < 2:
        return 0
    base = cols[0][0]
    diffs = []
    for label, exp in expected.items():
        for sid in by_class.get(label, []):
            for prim in exp:
                seen = {c: values[c].get(sid, {}).get(prim) for c, _ in cols}
                if len(set(seen.values())) > 1:
                    diffs.append(f"{label} sid={sid} {prim}: " + ", ".join(f"{c}={v!r}" for c, v in seen.items()))
    if diffs:
        print(f"grid: columns differ from {base} on {len(diffs)} required (session, primitive) values:")
        for d in diffs[:20]:
            print(f"  {d}")
        print("grid: NOT EQUAL")
        return 1
    print("grid: all columns equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
