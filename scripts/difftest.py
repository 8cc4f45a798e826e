#!/usr/bin/env python3
"""Differential test: our `decnet-profiler extract` against the reference engine.

One test = one shard. For every shard the Rust CLI runs
(`BIN extract --profile PROFILE SHARD`) and the reference oracle
(scripts/oracle/reference_extract.py) runs; the observation sets are compared:

* same (sid, primitive) set;
* `value` equal as strings;
* `confidence`, `window_start_ts`, `window_end_ts` equal as f64 (no tolerance;
  NaN equals NaN);
* `evidence_ref` = shard:{decky}/{service}/{file name}#{sid} with the CLI's
  defaults (decky `local`, service `ssh`); `id`, `ts`, `source` are not compared;
* a session on which the reference raised: we emit nothing for it and our
  stderr has a line naming its sid.

Shards:
  (a) every ../shared/corpus shard (and samples/ shard) with reference/NAME.jsonl beside it: ours is
      compared to the shipped reference AND to the live oracle, and the live
      oracle is checked against the shipped reference (oracle drift);
  (b) the hostile corpus shard (live oracle only; no shipped reference);
  (c) a fresh adversarial shard from ../shared/tools/gen_sessions.py, seeded
      from `git rev-parse HEAD` (or --seed);
  (d) fresh calibration-class shards from ../shared/tools/corpus/gen.py when it
      can run here (needs root or user namespaces; skipped with a reason if not).

Exit status: 0 when every test passed, 1 on any mismatch, 2 on a usage error.
The last line is `difftest: N passed, M failed` (tests = shards).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORACLE = os.path.join(ROOT, "scripts", "oracle", "reference_extract.py")
FLOAT_FIELDS = ("confidence", "window_start_ts", "window_end_ts")

Key = Tuple[str, str]


@dataclass
class Side:
    """One extractor's output for one shard."""

    name: str
    obs: Dict[Key, dict]
    errors: Dict[str, str] = field(default_factory=dict)  # sid -> error (reference only)
    problems: List[str] = field(default_factory=list)  # malformed output, duplicates


@dataclass
class Case:
    label: str
    shard: str
    shipped: Optional[str] = None  # reference/NAME.jsonl, if any
    shipped_err: Optional[str] = None


@dataclass
class Result:
    label: str
    ok: bool
    sessions: int
    observations: int
    mismatches: List[str]
    raised: List[str]  # sids on which the reference raised
    seconds: float


def log(msg: str) -> None:
    print(msg, flush=True)


def parse_lines(name: str, text: str, keep_extra: bool) -> Side:
    side = Side(name, {})
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError as exc:
            side.problems.append(f"{name}: line {n} is not JSON ({exc})")
            continue
        if not isinstance(o, dict) or not isinstance(o.get("sid"), str) or not isinstance(o.get("primitive"), str):
            side.problems.append(f"{name}: line {n} lacks string sid/primitive")
            continue
        if "error" in o and "value" not in o:
            side.errors[o["sid"]] = str(o["error"])
            continue
        key = (o["sid"], o["primitive"])
        if key in side.obs:
            side.problems.append(f"{name}: duplicate observation sid={key[0]} primitive={key[1]}")
        row = {k: o.get(k) for k in ("value",) + FLOAT_FIELDS}
        if keep_extra:
            row["evidence_ref"] = o.get("evidence_ref")
        side.obs[key] = row
    return side


def load_reference(name: str, jsonl: str, err: Optional[str]) -> Side:
    with open(jsonl, encoding="utf-8") as fh:
        side = parse_lines(name, fh.read(), keep_extra=False)
    if err and os.path.exists(err):
        with open(err, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    side.errors[rec["sid"]] = rec.get("error", "")
    return side


def as_f64(v: object) -> Optional[float]:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def same_f64(a: object, b: object) -> bool:
    fa, fb = as_f64(a), as_f64(b)
    if fa is None or fb is None:
        return False
    if math.isnan(fa) and math.isnan(fb):
        return True
    return fa == fb


def compare(ours: Side, theirs: Side, evidence_prefix: Optional[str]) -> List[str]:
    """Mismatch lines `sid primitive field: ours=… theirs=…` (theirs = reference)."""
    out: List[str] = list(ours.problems) + list(theirs.problems)
    for key in sorted(set(ours.obs) | set(theirs.obs)):
        sid, prim = key
        a, b = ours.obs.get(key), theirs.obs.get(key)
        if a is None:
            assert b is not None
            out.append(f"sid={sid} primitive={prim} field=presence: ours=<missing> {theirs.name}={b['value']!r}")
            continue
        if b is None:
            out.append(f"sid={sid} primitive={prim} field=presence: ours={a['value']!r} {theirs.name}=<missing>")
            continue
        if not isinstance(a["value"], str) or a["value"] != b["value"]:
            out.append(f"sid={sid} primitive={prim} field=value: ours={a['value']!r} {theirs.name}={b['value']!r}")
        for f in FLOAT_FIELDS:
            if not same_f64(a[f], b[f]):
                out.append(f"sid={sid} primitive={prim} field={f}: ours={a[f]!r} {theirs.name}={b[f]!r}")
        if evidence_prefix is not None and a.get("evidence_ref") != f"{evidence_prefix}#{sid}":
            out.append(
                f"sid={sid} primitive={prim} field=evidence_ref: ours={a.get('evidence_ref')!r} "
                f"expected={evidence_prefix + '#' + sid!r}"
            )
    return out


def run_ours(binary: str, profile: str, shard: str, workdir: str) -> Tuple[Side, str, List[str]]:
    cmd = [binary, "extract", "--profile", profile, shard]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    stdout = p.stdout.decode("utf-8", "surrogateescape")
    stderr = p.stderr.decode("utf-8", "replace")
    side = parse_lines("ours", stdout, keep_extra=True)
    problems = []
    if p.returncode != 0:
        tail = stderr.strip().splitlines()[-5:]
        problems.append(f"ours exited {p.returncode}: {shlex.join(cmd)}; stderr tail: {' | '.join(tail)}")
    return side, stderr, problems


def run_oracle(shard: str, workdir: str) -> Side:
    outdir = os.path.join(workdir, "oracle")
    os.makedirs(outdir, exist_ok=True)
    cmd = [sys.executable, ORACLE, "--out-dir", outdir, shard]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"oracle failed on {shard}: {p.stderr[-2000:]}")
    stem = os.path.splitext(os.path.basename(shard))[0]
    return load_reference("oracle", os.path.join(outdir, stem + ".jsonl"), os.path.join(outdir, stem + ".err"))


def count_sessions(shard: str) -> int:
    sids = set()
    with open(shard, "rb") as fh:
        for line in fh:
            if line.startswith(b'{"sid":"'):
                end = line.find(b'"', 8)
                if end > 8:
                    sids.add(line[8:end])
    return len(sids)


def run_case(case: Case, a: argparse.Namespace, workdir: str) -> Result:
    t0 = time.monotonic()
    wd = tempfile.mkdtemp(prefix="case-", dir=workdir)
    base = os.path.basename(case.shard)
    evidence_prefix = f"shard:{a.decky}/{a.service}/{base}"
    ours, stderr, mism = run_ours(a.bin, a.profile, case.shard, wd)
    oracle = run_oracle(case.shard, wd)
    refs = [oracle]
    if case.shipped:
        shipped = load_reference("shipped", case.shipped, case.shipped_err)
        refs.insert(0, shipped)
        drift = compare(Side("oracle", oracle.obs), shipped, None)
        if drift or oracle.errors.keys() != shipped.errors.keys():
            mism.append(f"ORACLE DRIFT: live oracle differs from {case.shipped} ({len(drift)} observation diffs)")
            mism.extend("  oracle-vs-shipped " + d.replace("ours=", "oracle=", 1) for d in drift[:5])
    for i, ref in enumerate(refs):
        mism.extend(compare(ours, ref, evidence_prefix if i == 0 else None))
    raised = sorted(set().union(*(r.errors.keys() for r in refs)))
    stderr_lines = stderr.splitlines()
    for sid in raised:
        if any(k[0] == sid for k in ours.obs):
            continue  # already reported as presence mismatches
        if not any(sid in line for line in stderr_lines):
            mism.append(f"sid={sid} field=stderr: the reference raised on this session and ours printed no stderr line naming it")
    sessions = len({k[0] for k in oracle.obs} | set(oracle.errors))
    return Result(case.label, not mism, sessions, len(oracle.obs), mism, raised, time.monotonic() - t0)


def corpus_cases(corpus: str) -> List[Case]:
    """Shards under corpus/ with reference/NAME.jsonl beside them, plus the hostile shard."""
    cases = []
    for dirpath, dirnames, filenames in sorted(os.walk(corpus)):
        dirnames.sort()
        if os.path.basename(dirpath) == "reference":
            continue
        for name in sorted(filenames):
            if not name.endswith(".jsonl"):
                continue
            shard = os.path.join(dirpath, name)
            stem = name[: -len(".jsonl")]
            ref = os.path.join(dirpath, "reference", name)
            label = os.path.relpath(shard, os.path.dirname(corpus))
            if os.path.exists(ref):
                cases.append(Case(label, shard, ref, os.path.join(dirpath, "reference", stem + ".err")))
            elif "hostile" in name:
                cases.append(Case(label + " (live oracle only)", shard))
    return cases


def head_seed() -> Tuple[int, str]:
    try:
        head = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 1, "no git HEAD"
    return int(head[:8], 16) % 2_000_000_000, head[:12]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="path of the decnet-profiler binary")
    ap.add_argument("--profile", default="decnet-1.2")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--sessions", type=int, default=3000, help="sessions in the generated adversarial shard")
    ap.add_argument("--seed", type=int, help="generator seed (default: from git HEAD)")
    ap.add_argument("--calib-per-class", type=int, default=1,
                    help="sessions per class for gen.py calibration shards (0 = skip)")
    ap.add_argument("--no-corpus", action="store_true", help="skip the ../shared/corpus shards")
    ap.add_argument("--shard", action="append", default=[], help="extra shard (live oracle only); repeatable")
    ap.add_argument("--decky", default="local", help="decky the CLI puts in evidence_ref by default")
    ap.add_argument("--service", default="ssh")
    ap.add_argument("--show", type=int, default=8, help="mismatches printed per failing shard")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args(argv)

    if not os.access(a.bin, os.X_OK):
        print(f"difftest: {a.bin} is not an executable", file=sys.stderr)
        return 2
    a.bin = os.path.abspath(a.bin)
    workdir = tempfile.mkdtemp(prefix="difftest-")
    try:
        return _run(a, workdir)
    finally:
        if a.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(a: argparse.Namespace, workdir: str) -> int:
    cases: List[Case] = []
    if not a.no_corpus:
        cases += corpus_cases(os.path.join(ROOT, "samples"))
        cases += corpus_cases(os.path.join(a.shared, "corpus"))
    tools = os.path.join(a.shared, "tools")

    seed, head = (a.seed, "given") if a.seed is not None else head_seed()
    if a.sessions > 0:
        gen_out = os.path.join(workdir, f"gen-sessions-seed{seed}.jsonl")
        cmd = [sys.executable, os.path.join(tools, "gen_sessions.py"), gen_out, "--sessions", str(a.sessions), "--seed", str(seed)]
        log(f"generated shard: seed {seed} ({head}); reproduce with:")
        log(f"  python3 {os.path.relpath(cmd[1])} /tmp/gen.jsonl --sessions {a.sessions} --seed {seed}")
        log(f"  scripts/difftest.sh {a.bin} --no-corpus --calib-per-class 0 --sessions {a.sessions} --seed {seed}")
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        cases.append(Case(f"gen_sessions seed={seed} n={a.sessions} (live oracle only)", gen_out))

    if a.calib_per_class > 0:
        calib = os.path.join(workdir, "calib")
        cmd = [sys.executable, os.path.join(tools, "corpus", "gen.py"), "--out", calib, "--seed", str(seed),
               "--sessions-per-class", str(a.calib_per_class), "--workers", "2"]
        log(f"calibration-class shards: {shlex.join(cmd[1:])}")
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
            ok = p.returncode == 0
            why = f"exit {p.returncode}: {' | '.join(p.stderr.strip().splitlines()[-3:])}"
        except subprocess.TimeoutExpired:
            ok, why = False, "timed out after 600 s"
        if ok:
            for name in sorted(os.listdir(calib)):
                if name.endswith(".jsonl"):
                    cases.append(Case(f"gen.py calib seed={seed} {name} (live oracle only)", os.path.join(calib, name)))
        else:
            log(f"SKIP calibration-class generation: gen.py could not run here ({why})")

    for extra in a.shard:
        cases.append(Case(f"{extra} (live oracle only)", extra))

    log(f"difftest: {len(cases)} shards, binary {a.bin}, profile {a.profile}")
    results: List[Result] = []
    for case in cases:
        r = run_case(case, a, workdir)
        results.append(r)
        status = "ok  " if r.ok else "FAIL"
        log(f"{status} {r.label}: {r.sessions} sessions, {r.observations} reference observations, "
            f"{len(r.raised)} reference-raised, {len(r.mismatches)} mismatches ({r.seconds:.1f}s)")
        if r.raised:
            shown = ", ".join(r.raised[:20]) + (f", … (+{len(r.raised) - 20})" if len(r.raised) > 20 else "")
            log(f"     reference raised on (ours must emit nothing + name them on stderr): {shown}")
        for m in r.mismatches[: a.show]:
            log(f"     {m}")
        if len(r.mismatches) > a.show:
            log(f"     … {len(r.mismatches) - a.show} more mismatches")

    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    sess = sum(r.sessions for r in results)
    log(f"difftest: sessions compared {sess}, observations compared {sum(r.observations for r in results)}")
    log(f"difftest: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
