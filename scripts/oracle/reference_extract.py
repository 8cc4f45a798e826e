#!/usr/bin/env python3
"""Run DECNET's reference Python BEHAVE-SHELL engine over shard files.

This is the test oracle for the Rust port (engine.md §10). Shards are read
the way DECNET's production handler reads them: UTF-8 with
``surrogateescape``, universal newlines, ``json.loads`` per line; lines that
are not objects, header lines and lines without a non-empty string ``sid``
are skipped; the rest go through the reference ``parse_shard_line``; events
are grouped by sid in file order and ``extract_session`` runs once per sid.

Output, per shard, in the shape of ``../shared/corpus/*/reference/*.jsonl``:
one JSON object per observation ``{sid, primitive, value, confidence,
window_start_ts, window_end_ts}`` sorted by (sid, primitive), and one
``{sid, error}`` record per session on which the reference raised (those
sessions have no observation lines). A sid whose line makes
``parse_shard_line`` raise (an integer ``t`` too large for a float) is
dropped the same way and gets an error record too.

    reference_extract.py [--decky D] [--service S] [--err FILE] SHARD...
        observations to stdout, error records to --err (default: stderr)
    reference_extract.py --out-dir DIR SHARD...
        writes DIR/NAME.jsonl and DIR/NAME.err per shard (the corpus layout)

The reference must be importable: run with the oracle venv's python and its
shim first on PYTHONPATH (scripts/oracle/setup.sh). If it is not importable,
this script re-executes itself under $ORACLE_VENV (default: .venv-ref in the
repo root) with that shim.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable, Dict, Iterable, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

Event = Tuple[float, str, str]
ObsRow = Dict[str, object]
ErrRow = Dict[str, str]


def _ensure_reference() -> None:
    """Import the reference engine, or re-exec under the oracle venv."""
    try:
        import decnet.profiler.behave_shell  # noqa: F401
        from decnet.profiler.behave_shell._parse import parse_shard_line  # noqa: F401
        return
    except ImportError as exc:
        first_error = exc
    venv = os.environ.get("ORACLE_VENV", os.path.join(ROOT, ".venv-ref"))
    py = os.path.join(venv, "bin", "python")
    shim = os.path.join(venv, "shim")
    if os.environ.get("_REFERENCE_EXTRACT_REEXEC") or not os.path.exists(py):
        sys.stderr.write(
            f"reference_extract: cannot import the reference engine ({first_error}); "
            f"run scripts/oracle/setup.sh [VENV] and set ORACLE_VENV\n"
        )
        sys.exit(2)
    env = dict(os.environ)
    env["PYTHONPATH"] = shim + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["_REFERENCE_EXTRACT_REEXEC"] = "1"
    os.execve(py, [py, os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


def read_sessions(path: str) -> Tuple[Dict[str, List[Event]], Dict[str, str]]:
    """Shard → ({sid: events in file order}, {sid: error}) as the handler reads it.

    Sids appear in the mapping in order of their first event line. A sid
    whose line made ``parse_shard_line`` raise is removed and reported in
    the error mapping instead.
    """
    from decnet.profiler.behave_shell._parse import parse_shard_line

    sessions: Dict[str, List[Event]] = {}
    broken: Dict[str, str] = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                # RecursionError: the hostile shard's 100 000-deep array;
                # the reference harness dies on it, we skip the line.
                continue
            if not isinstance(rec, dict) or "hdr" in rec:
                continue
            sid = rec.get("sid")
            if not isinstance(sid, str) or not sid:
                continue
            if sid in broken:
                continue
            try:
                ev = parse_shard_line(line)
            except Exception as exc:  # noqa: BLE001 - the reference's raise drops the sid
                broken[sid] = f"{type(exc).__name__}: {exc}"
                sessions.pop(sid, None)
                continue
            if ev is not None:
                sessions.setdefault(sid, []).append(ev)
    return sessions, broken


def extract_sessions(
    sessions: Dict[str, List[Event]], evidence: Callable[[str], str]
) -> Tuple[List[ObsRow], Dict[str, str]]:
    """Run the reference per session; a raising session yields nothing."""
    from decnet.profiler.behave_shell import extract_session

    rows: List[ObsRow] = []
    errors: Dict[str, str] = {}
    for sid, events in sessions.items():
        try:
            obs = list(extract_session(events, sid=sid, evidence_ref=evidence(sid)))
        except Exception as exc:  # noqa: BLE001 - recorded as an .err line
            errors[sid] = f"{type(exc).__name__}: {exc}"
            continue
        for o in obs:
            rows.append(
                {
                    "sid": sid,
                    "primitive": o.primitive,
                    "value": o.value,
                    "confidence": o.confidence,
                    "window_start_ts": o.window.start_ts,
                    "window_end_ts": o.window.end_ts,
                }
            )
    return rows, errors


def run_shard(path: str, decky: str = "test", service: str = "ssh") -> Tuple[List[ObsRow], List[ErrRow]]:
    """One shard → (observation rows sorted by (sid, primitive), error rows sorted by sid)."""
    base = os.path.basename(path)
    sessions, broken = read_sessions(path)
    rows, errors = extract_sessions(sessions, lambda sid: f"shard:{decky}/{service}/{base}#{sid}")
    errors.update(broken)
    rows.sort(key=lambda r: (r["sid"], r["primitive"]))
    errs = [{"sid": sid, "error": errors[sid]} for sid in sorted(errors)]
    return rows, errs


def dump_lines(rows: Iterable[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shards", nargs="+")
    ap.add_argument("--decky", default="test", help="decky name in evidence_ref (default: test, as the corpus)")
    ap.add_argument("--service", default="ssh")
    ap.add_argument("--err", help="write {sid, error} lines here instead of stderr")
    ap.add_argument("--out-dir", help="write NAME.jsonl and NAME.err per shard into this directory")
    a = ap.parse_args(argv)
    _ensure_reference()

    err_fh = open(a.err, "w", encoding="utf-8") if a.err else sys.stderr
    out = sys.stdout
    for shard in a.shards:
        rows, errs = run_shard(shard, a.decky, a.service)
        if a.out_dir:
            os.makedirs(a.out_dir, exist_ok=True)
            stem = os.path.splitext(os.path.basename(shard))[0]
            with open(os.path.join(a.out_dir, stem + ".jsonl"), "w", encoding="utf-8") as fh:
                fh.write(dump_lines(rows))
            with open(os.path.join(a.out_dir, stem + ".err"), "w", encoding="utf-8") as fh:
                fh.write(dump_lines(errs))
        else:
            out.write(dump_lines(rows))
            err_fh.write(dump_lines(errs))
    out.flush()
    if a.err:
        err_fh.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
