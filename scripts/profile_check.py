#!/usr/bin/env python3
"""Checks of the default profile `behave-0.1.4` against the reference profile.

1. Deviation-scoped equality (issue 3 item 8): for every session, every
   primitive that no row of docs/DEVIATIONS.md names in its "may change"
   column must have the same value and confidence in `behave-0.1.4` as in
   `decnet-1.2` (windows differ by row D-EPOCH and are not compared).
   Sessions for which the default profile emits nothing are covered by row
   D-EMPTY (no operator input) and skipped.
2. Calibration-grid floor (issue 3 item 10), with --grid-dir: per class, the
   share of required (session, primitive) values of the seeds' table that
   the default profile shows must be at least --floor (default 0.90).

    profile_check.py --bin BIN [--deviations docs/DEVIATIONS.md] SHARD ...
    profile_check.py --bin BIN --grid-dir DIR [--grid-dir DIR ...] [--floor 0.9]

Exit 1 on any violation. Prints sids, primitive names and values only.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
from typing import Dict, List, Set, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

Obs = Dict[str, Dict[str, Tuple[object, float]]]  # sid -> primitive -> (value, confidence)


def extract(binary: str, profile: str, shard: str) -> Obs:
    p = subprocess.run([binary, "extract", "--profile", profile, shard],
                       capture_output=True, text=True, errors="surrogateescape")
    if p.returncode != 0:
        sys.exit(f"profile_check: {binary} extract --profile {profile} failed on {shard} (exit {p.returncode})")
    out: Obs = collections.defaultdict(dict)
    for line in p.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if "value" in o:
            out[o["sid"]][o["primitive"]] = (o["value"], o["confidence"])
    return out


# Rows that change the session context rather than one primitive: they name
# (almost) every primitive, so they only count for sessions where their
# trigger is present; everywhere else those primitives must agree.
CONTEXT_ROWS = ("D-SEG", "D-NOECHO", "D-UNITS", "D-UTF8", "D-EMPTY")

SECRET = re.compile(r"(?i)(password|passphrase|pass phrase|passcode)[^\n\r]*:\s*$|pin:\s*$")
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
EDIT_KEYS = set("\x7f\x08\x15\x17\x0b\x03\x01\x05\x02\x06\x04\x12\t\x1b")


def named_primitives(path: str) -> Dict[str, List[str]]:
    """Row id -> primitive names/patterns of its 'may change' column."""
    rows: Dict[str, List[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("| D-"):
                continue
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if len(cells) < 6:
                continue
            rows[cells[0]] = re.findall(r"`([a-z_.*]+)`", cells[4])
    return rows


def sessions(shard: str) -> Dict[str, List[Tuple[float, str, str]]]:
    out: Dict[str, List[Tuple[float, str, str]]] = collections.defaultdict(list)
    with open(shard, "rb") as fh:
        for raw in fh:
            try:
                o = json.loads(raw.decode("utf-8", "surrogateescape"))
            except (ValueError, RecursionError):
                continue
            if not isinstance(o, dict) or "hdr" in o or o.get("ch") not in ("i", "o"):
                continue
            t, d = o.get("t"), o.get("d", "")
            if isinstance(o.get("sid"), str) and isinstance(t, (int, float)) and isinstance(d, str):
                out[o["sid"]].append((float(t), o["ch"], d))
    return out


def active_context_rows(events: List[Tuple[float, str, str]]) -> Set[str]:
    ins = [(t, d) for t, c, d in events if c == "i"]
    outs = [d for t, c, d in events if c == "o"]
    act: Set[str] = set()
    if not ins or not outs:
        act.add("D-EMPTY")
    text = ANSI.sub("", "".join(outs))
    if any(SECRET.search(line) for line in re.split(r"[\r\n]", text)):
        act.add("D-NOECHO")
    alltyped = "".join(d for _, d in ins)
    lines = re.split(r"[\r\n]", alltyped)
    if (EDIT_KEYS & set(alltyped) or any(m in "".join(outs) for m in ("\x1b[?1049h", "\x1b[?1047h", "\x1b[?47h"))
            or any(l and not l.strip() for l in lines[:-1])):
        act.add("D-SEG")
    if any(0 <= b[0] - a[0] < 0.030 for a, b in zip(ins, ins[1:])) or any(len(d) >= 4 for _, d in ins) \
            or "\x1b" in alltyped:
        act.add("D-UNITS")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in alltyped):
        act.add("D-UTF8")
    return act


def covered(prim: str, pats: List[str]) -> bool:
    for p in pats:
        if p.endswith(".*"):
            if prim.startswith(p[:-2] + ".") or ("." + p[:-2] + ".") in ("." + prim):
                return True
        elif prim == p or prim.endswith("." + p):
            return True
    return False


def deviation_check(a) -> int:
    rows = named_primitives(a.deviations)
    always = [p for rid, ps in rows.items() if rid not in CONTEXT_ROWS for p in ps]
    bad = 0
    compared = collections.Counter()
    skipped = collections.Counter()
    for shard in a.shards:
        ref = extract(a.bin, "decnet-1.2", shard)
        dflt = extract(a.bin, "behave-0.1.4", shard)
        evs = sessions(shard)
        for sid, r in ref.items():
            d = dflt.get(sid)
            act = active_context_rows(evs.get(sid, []))
            for rid in act:
                skipped[rid] += 1
            if not d:
                continue  # D-EMPTY / D-NOECHO removed all input
            pats = always + [p for rid in act for p in rows.get(rid, [])]
            for prim in sorted(set(r) | set(d)):
                if covered(prim, pats):
                    continue
                compared[prim] += 1
                if r.get(prim) != d.get(prim):
                    bad += 1
                    print(f"DIFF {os.path.basename(shard)} {sid} {prim}: decnet-1.2={r.get(prim)} "
                          f"behave-0.1.4={d.get(prim)} (no DEVIATIONS.md row names it)")
    uncovered = ", ".join(f"{p} ({n})" for p, n in sorted(compared.items())) or "none"
    print(f"profile_check: deviation-scoped equality: {sum(compared.values())} comparisons, {bad} differences; "
          f"compared (primitive, sessions): {uncovered}; context rows active in: "
          + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    return 1 if bad else 0


def grid_check(a) -> int:
    """Per directory and pooled over all directories; the floor applies to
    the pooled share of each class (8 sessions of one seed are too few for
    a stable 90 % line: one LW-sim miss is 3 points)."""
    sys.path.insert(0, os.path.join(SHARED, "tools", "corpus"))
    import validate  # type: ignore
    fail = 0
    pooled = collections.defaultdict(lambda: collections.Counter())
    for d in a.grid_dir:
        print(f"== {d}")
        for label, name in validate.SHARDS.items():
            path = os.path.join(d, name)
            if not os.path.exists(path):
                continue
            sids = validate.sids_in(path)
            exp = validate.EXPECTED[label]
            row = []
            for prof in ("decnet-1.2", "behave-0.1.4"):
                got = extract(a.bin, prof, path)
                hits = sum(1 for s in sids for p, w in exp.items() if got.get(s, {}).get(p, (None,))[0] == w)
                full = sum(1 for s in sids if all(got.get(s, {}).get(p, (None,))[0] == w for p, w in exp.items()))
                share = hits / (len(sids) * len(exp)) if sids else 1.0
                row.append((prof, share, hits, len(sids) * len(exp), full, len(sids)))
                pool = pooled[(label, prof)]
                pool["hits"] += hits
                pool["need"] += len(sids) * len(exp)
                pool["full"] += full
                pool["n"] += len(sids)
            cells = "   ".join(f"{p}: values {h}/{n} = {s:5.1%}, sessions all {f}/{m}" for p, s, h, n, f, m in row)
            print(f"  {label:<10} {cells}")
    print(f"== pooled over {len(a.grid_dir)} director{'y' if len(a.grid_dir) == 1 else 'ies'}")
    for label in validate.SHARDS:
        cells = []
        for prof in ("decnet-1.2", "behave-0.1.4"):
            p = pooled.get((label, prof))
            if not p or not p["need"]:
                continue
            share = p["hits"] / p["need"]
            cells.append(f"{prof}: values {p['hits']}/{p['need']} = {share:5.1%}, sessions all {p['full']}/{p['n']}")
            if prof == "behave-0.1.4" and share < a.floor:
                fail += 1
                cells.append(f"FLOOR: {share:.1%} < {a.floor:.0%}")
        if cells:
            print(f"  {label:<10} " + "   ".join(cells))
    return 1 if fail else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="decnet-profiler binary")
    ap.add_argument("--deviations", default=os.path.join(ROOT, "docs", "DEVIATIONS.md"))
    ap.add_argument("--grid-dir", action="append", default=[])
    ap.add_argument("--floor", type=float, default=0.90)
    ap.add_argument("shards", nargs="*")
    a = ap.parse_args(argv)
    rc = 0
    if a.shards:
        rc |= deviation_check(a)
    if a.grid_dir:
        rc |= grid_check(a)
    if not a.shards and not a.grid_dir:
        ap.error("give shards and/or --grid-dir")
    return rc


if __name__ == "__main__":
    sys.exit(main())
