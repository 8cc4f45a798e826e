#!/usr/bin/env python3
"""Validate observation JSON lines with the registry's own code.

Every line (as printed by `decnet-profiler extract`: sid, primitive, value,
confidence, window_start_ts, window_end_ts, evidence_ref, source, id, ts, v)
is rebuilt as `behave_shell.spec.Observation` — behave-shell 0.1.4's
registry-aware pydantic class (core envelope checks + registry value check).
Prints counts per primitive and one line per invalid observation (sid,
primitive and the validator's reason; values of free-string primitives are
not echoed), and exits 1 when any line is invalid or unparseable.

    validate_registry.py [FILE ...]     (default: stdin)

Requires pydantic, behave-core 0.1.1 and behave-shell 0.1.4 (the oracle
venv: scripts/oracle/setup.sh). It checks the installed versions and refuses
to run against others, so "100 % valid" always means valid for 0.1.4.
"""
from __future__ import annotations

import collections
import json
import sys
from importlib import metadata

WANT = {"behave-shell": "0.1.4", "behave-core": "0.1.1"}
ENVELOPE_FIELDS = ("primitive", "value", "confidence", "source", "evidence_ref", "identity_ref", "ts", "id", "v")


def check_versions() -> None:
    for dist, want in WANT.items():
        try:
            got = metadata.version(dist)
        except metadata.PackageNotFoundError:
            sys.exit(f"validate_registry: {dist} is not installed (want {want})")
        if got != want:
            sys.exit(f"validate_registry: {dist} {got} installed, want {want}")


# Lengths the registry notes make mandatory but ValueTypeSpec cannot check
# ("extractors MUST emit exactly 24 bins" ...). Checked in addition.
NOTE_LENGTHS = {
    "temporal.circadian.hour_histogram": 24,
    "temporal.circadian.dow_histogram": 7,
    "temporal.circadian.hour_dow_histogram": 168,
    "temporal.circadian.quiet_span_utc": 2,
}


def note_check(rec: dict) -> None:
    prim = rec.get("primitive")
    if prim not in NOTE_LENGTHS:
        return
    val = rec.get("value")
    if not isinstance(val, list) or len(val) != NOTE_LENGTHS[prim]:
        raise ValueError(f"registry note: {prim} must hold exactly {NOTE_LENGTHS[prim]} elements")
    if prim == "temporal.circadian.quiet_span_utc":
        if not all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h <= 23 for h in val):
            raise ValueError("registry note: quiet_span_utc holds two integer hours 0-23")
    elif abs(sum(val) - 1.0) > 1e-6 or any(x < 0 for x in val):
        raise ValueError(f"registry note: {prim} bins are fractions summing to 1.0")


def to_observation_kwargs(rec: dict) -> dict:
    kw = {k: rec[k] for k in ENVELOPE_FIELDS if k in rec}
    kw["window"] = {"start_ts": rec["window_start_ts"], "end_ts": rec["window_end_ts"]}
    return kw


def main(argv: list[str]) -> int:
    check_versions()
    from behave_shell.spec import Observation  # registry-aware subclass
    from pydantic import ValidationError

    files = argv or ["-"]
    ok = collections.Counter()
    bad = 0
    total = 0
    for name in files:
        fh = sys.stdin if name == "-" else open(name, encoding="utf-8", errors="surrogateescape")
        with fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                total += 1
                where = f"{name}:{lineno}"
                rec = None
                try:
                    rec = json.loads(line)
                    Observation(**to_observation_kwargs(rec))
                    note_check(rec)
                except ValidationError as exc:
                    bad += 1
                    reasons = "; ".join(e.get("msg", "invalid") for e in exc.errors())
                    print(f"INVALID {where} sid={rec.get('sid') if rec else None} "
                          f"primitive={rec.get('primitive') if rec else None}: {reasons}",
                          file=sys.stderr)
                    continue
                except (ValueError, KeyError, TypeError) as exc:
                    bad += 1
                    prim = rec.get("primitive") if isinstance(rec, dict) else None
                    sid = rec.get("sid") if isinstance(rec, dict) else None
                    reason = str(exc) if isinstance(exc, ValueError) and str(exc).startswith("registry note") \
                        else type(exc).__name__
                    print(f"INVALID {where} sid={sid} primitive={prim}: {reason}", file=sys.stderr)
                    continue
                ok[rec["primitive"]] += 1
    for prim in sorted(ok):
        print(f"{ok[prim]:8d}  {prim}")
    print(f"validate_registry: {total} observations, {total - bad} valid, {bad} invalid "
          f"(behave-shell {WANT['behave-shell']}, {len(ok)} primitives)")
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
