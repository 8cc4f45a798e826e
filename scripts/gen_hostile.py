#!/usr/bin/env python3
"""Hostile inputs for the profiler: shards, session.ended payloads, bus frames.

    scripts/gen_hostile.py OUT [--seed N] [--big-mb MB] [--calibration DIR]
    scripts/gen_hostile.py --canary OUT [--seed N] [--calibration DIR]
    scripts/gen_hostile.py --backlog N OUT [--deckies K] [--day YYYY-MM-DD]

Writes, under OUT (stdlib only, deterministic for a seed):

* ``root/``: an artifacts root (``{decky}/{service}/transcripts/
  sessions-YYYY-MM-DD.jsonl``). Real calibration sessions (new uuid4 sids)
  are interleaved with hostile lines: malformed JSON, truncated lines,
  non-UTF-8 bytes, lone surrogates (raw and ``\\udxxx``), NaN / Infinity /
  negative / huge / out-of-order / overflowing times, wrong field types,
  duplicate headers, a sid shared by sessions in two deckies, a ``trunc``
  sentinel in the middle of a session, header-only and orphan sessions,
  deep nesting, a line without its newline at EOF, and one session of
  ``--big-mb`` MB (default 10; 0 leaves it out). A symlinked shard and a
  symlinked transcripts directory point outside the root (``outside/``).
* ``payloads.jsonl``: ``attacker.session.ended`` payloads, one per line,
  each ``{"case", "expect", "payload"}``: path traversal in decky / service
  / sid / shard_path, symlinks out of the root, absurd lengths, wrong JSON
  types, non-object payloads, and the good sessions (``expect: "stored"``).
* ``frames/*.bin``: raw bus frames a hostile or broken peer could send
  (bad verbs, lengths past the body, oversize length, non-JSON and
  non-object bodies, an EVT whose payload is a list), each followed by
  nothing: a reader must refuse the frame and stay up.
* ``manifest.json``: every case with what a reader must do, the good
  sessions ``[{sid, decky, service, attacker_ip, shard}]`` and the sids
  that must never be stored.

``--canary`` writes instead ``root/`` with sessions whose typed input, a
password typed at a ``Password:`` prompt, a command argument and an output
line carry unique canary strings, and ``manifest.json`` with the canaries
(a PII test searches every DB dump, bus frame and log line for them).

``--backlog N`` writes N real sessions (calibration copies with new sids)
over K deckies' day-shards and a manifest with an attacker address each:
the input of the fault suites and the daemon benchmark.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import struct
import uuid
from pathlib import Path

DAY = "2026-05-02"
SHARD = f"sessions-{DAY}.jsonl"
CALIB_DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "calibration"


def new_sid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def load_sessions(calib: Path) -> list[list[bytes]]:
    """Each calibration session as its raw lines (header first), file order."""
    out: list[list[bytes]] = []
    for f in sorted(calib.glob("sessions-*.jsonl")):
        by: dict[str, list[bytes]] = {}
        for line in f.read_bytes().splitlines(keepends=True):
            try:
                sid = json.loads(line)["sid"]
            except (ValueError, KeyError, TypeError):
                continue
            by.setdefault(sid, []).append(line)
        out.extend(by.values())
    return out


def resid(lines: list[bytes], old: bytes, new: str) -> list[bytes]:
    return [l.replace(old, new.encode()) for l in lines]


def sid_of(lines: list[bytes]) -> bytes:
    return json.loads(lines[0])["sid"].encode()


def ev(sid: str, t: str, ch: str, d: str) -> bytes:
    return ('{"sid":"%s","t":%s,"ch":"%s","d":%s}\n' % (sid, t, ch, json.dumps(d))).encode()


def hdr(sid: str, ts: int = 1777713959) -> bytes:
    return (
        '{"sid":"%s","hdr":{"version":2,"width":80,"height":24,"timestamp":%d,'
        '"env":{"SHELL":"/bin/bash","TERM":"xterm"}}}\n' % (sid, ts)
    ).encode()


class Shard:
    """One shard being written, with its hostile cases."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: list[bytes] = []
        self.cases: list[dict] = []

    def case(self, name: str, expect: str, lines: list[bytes], sids: list[str] = ()) -> None:
        first = len(self.lines) + 1
        self.lines.extend(lines)
        self.cases.append({"case": name, "expect": expect, "shard": str(self.path),
                           "first_line": first, "last_line": len(self.lines), "sids": list(sids)})

    def write(self, tail: bytes = b"") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "wb") as f:
            f.writelines(self.lines)
            f.write(tail)


def interleave(rng: random.Random, sessions: list[list[bytes]]) -> list[bytes]:
    """Interleave sessions line by line (each keeps its own order)."""
    queues = [list(s) for s in sessions]
    out: list[bytes] = []
    while any(queues):
        q = rng.choice([q for q in queues if q])
        out.append(q.pop(0))
    return out


def hostile_lines(rng: random.Random, s: Shard) -> list[str]:
    """Adds the line-level cases; returns sids that must yield nothing."""
    never: list[str] = []
    sid = new_sid(rng)
    s.case("malformed_json", "skip_line", [
        b'{"sid":"' + sid.encode() + b'","t":1.0,"ch":"i","d":"ls\\n\n',
        b'{"sid":"' + sid.encode() + b'" "t":1.0}\n',
        b"{not json at all}\n", b"[1,2,3]\n", b'"a string"\n', b"null\n", b"\n", b"   \n",
        b'{"sid":"' + sid.encode() + b'","t":1.0,"ch":"i","d":"\\x41"}\n',
        b'{"sid":"' + sid.encode() + b'","t":01,"ch":"i","d":"a"}\n',
    ], [sid])
    never.append(sid)
    sid = new_sid(rng)
    s.case("truncated_lines", "skip_line", [
        hdr(sid)[:40] + b"\n", ev(sid, "1.0", "i", "whoami\r")[:30] + b"\n",
        ev(sid, "2.0", "o", "root\r\n")[:-3] + b"\n",
    ], [sid])
    never.append(sid)
    sid = new_sid(rng)
    s.case("wrong_types", "skip_line", [
        hdr(sid),
        ('{"sid":"%s","t":"1.0","ch":"i","d":"a"}\n' % sid).encode(),
        ('{"sid":"%s","t":[1],"ch":"i","d":"a"}\n' % sid).encode(),
        ('{"sid":"%s","t":1.0,"ch":"x","d":"a"}\n' % sid).encode(),
        ('{"sid":"%s","t":1.0,"ch":1,"d":"a"}\n' % sid).encode(),
        ('{"sid":"%s","t":1.0,"ch":"i","d":42}\n' % sid).encode(),
        ('{"sid":"%s","t":1.0,"ch":"i","d":{"a":1}}\n' % sid).encode(),
        b'{"sid":42,"t":1.0,"ch":"i","d":"a"}\n', b'{"sid":"","t":1.0,"ch":"i","d":"a"}\n',
        b'{"sid":null,"t":1.0,"ch":"i","d":"a"}\n', b'{"t":1.0,"ch":"i","d":"a"}\n',
        ('{"sid":"%s"}\n' % sid).encode(),
    ], [sid])
    never.append(sid)
    # Deep nesting and a long line: refused or tolerated, never a crash.
    s.case("deep_nesting", "skip_line", [b"[" * 100000 + b"]" * 100000 + b"\n",
                                        b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n"])
    sid = new_sid(rng)
    s.case("long_line", "tolerate", [hdr(sid), ev(sid, "0.5", "o", "A" * (2 << 20))], [sid])
    return never


def odd_session(rng: random.Random, base: list[bytes], kind: str) -> tuple[str, list[bytes]]:
    """A real session made odd in one way (still parses; must not crash)."""
    sid = new_sid(rng)
    lines = resid(base, sid_of(base), sid)
    h, body = lines[0], lines[1:]
    if kind == "non_utf8":
        body = [l.replace(b"root", b"r\xff\xfe\x80t", 1) for l in body]
    elif kind == "lone_surrogates":
        body = [l.replace(b'"d":"', b'"d":"\\udc80\\ud800x', 1) if i % 3 == 0 else l
                for i, l in enumerate(body)]
    elif kind in ("nan_time", "inf_time", "neg_time", "huge_time"):
        lit = {"nan_time": b"NaN", "inf_time": b"Infinity", "neg_time": b"-12.5",
               "huge_time": b"1e308"}[kind]
        k = len(body) // 2
        body[k] = _set_t(body[k], lit)
    elif kind == "out_of_order":
        ts = [_t(l) for l in body]
        ts.reverse()
        body = [_set_t(l, ("%.6f" % t).encode()) if t is not None else l for l, t in zip(body, ts)]
    elif kind == "overflow_time":
        body[len(body) // 2] = _set_t(body[len(body) // 2], b"1" + b"0" * 400)
    elif kind == "duplicate_headers":
        h = h + h.replace(b'"width":', b'"width":9999,"x":') + h
        body.insert(len(body) // 2, lines[0])
    elif kind == "trunc_mid_session":
        body.insert(len(body) // 2, ('{"sid":"%s","trunc":true}\n' % sid).encode())
    return sid, [h] + body


def _t(line: bytes):
    try:
        return float(json.loads(line).get("t"))
    except (ValueError, TypeError, AttributeError):
        return None


def _set_t(line: bytes, lit: bytes) -> bytes:
    i = line.find(b'"t":')
    if i < 0:
        return line
    j = line.find(b",", i)
    return line[: i + 4] + lit + line[j:]


def big_session(rng: random.Random, sid: str, mb: int) -> list[bytes]:
    """A session past the recorder's 10 MiB cap, ending with the sentinel."""
    out = [hdr(sid), ev(sid, "0.100000", "o", "root@decky:~# ")]
    t = 1.0
    chunk = "x" * 960 + "\r\n"
    total = 0
    while total < mb << 20:
        out.append(ev(sid, "%.6f" % t, "i", "cat /var/log/syslog\r"))
        for _ in range(16):
            line = ev(sid, "%.6f" % (t + 0.01), "o", chunk)
            out.append(line)
            total += len(line)
        t += rng.uniform(0.5, 3.0)
    out.append(('{"sid":"%s","trunc":true}\n' % sid).encode())
    return out


def payload(sid, decky, service, ip="203.0.113.7", shard_path=None) -> dict:
    return {"session_id": sid, "attacker_uuid": None, "attacker_ip": ip, "decky_id": decky,
            "service": service, "ended_at": "2026-05-02T12:00:00", "duration_s": 1.0,
            "commands": [], "shard_path": shard_path}


def frame(verb: bytes, body: bytes, length: int | None = None) -> bytes:
    return verb + b"\n" + struct.pack(">I", len(body) if length is None else length) + body


def hostile_frames(out: Path, good_sid: str) -> None:
    d = out / "frames"
    d.mkdir(parents=True, exist_ok=True)
    topic = b"EVT attacker.session.ended"
    frames = {
        "bad_verb": frame(b"HELO\x00\xff", b""),
        "no_newline": b"EVT attacker.session.ended" + b"x" * 5000,
        "length_past_body": frame(topic, b'{"payload":{}}', 1000),
        "oversize_length": frame(topic, b"", 0xFFFFFFFF),
        "body_not_json": frame(topic, b"\xff\xfe{not json"),
        "body_not_object": frame(topic, b"[1,2,3]"),
        "payload_list": frame(topic, b'{"v":1,"type":"session.ended","payload":[1,2]}'),
        "payload_string": frame(topic, b'{"v":1,"type":"session.ended","payload":"x"}'),
        "payload_wrong_types": frame(topic, json.dumps({"v": 1, "type": "session.ended", "payload": {
            "session_id": 5, "decky_id": ["a"], "service": {"x": 1}, "attacker_ip": None}}).encode()),
        "payload_traversal": frame(topic, json.dumps({"v": "x", "ts": "y", "payload": payload(
            good_sid, "../../etc", "ssh", shard_path="/etc/passwd")}).encode()),
        "evt_no_topic": frame(b"EVT", b"{}"),
        "huge_topic": frame(b"EVT " + b"a." * 40000 + b"b", b"{}"),
    }
    for name, b in frames.items():
        (d / f"{name}.bin").write_bytes(b)


def build(out: Path, seed: int, big_mb: int, calib: Path) -> dict:
    rng = random.Random(seed)
    sessions = load_sessions(calib)
    out = out.resolve()
    root = out / "root"
    outside = out / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    good: list[dict] = []
    never: list[str] = []
    cases: list[dict] = []

    # decky-a/ssh: good sessions + line-level hostility + odd sessions.
    a = Shard(root / "decky-a" / "ssh" / "transcripts" / SHARD)
    picks = rng.sample(sessions, 4)
    goods = []
    for p in picks:
        sid = new_sid(rng)
        goods.append(resid(p, sid_of(p), sid))
        good.append({"sid": sid, "decky": "decky-a", "service": "ssh", "shard": str(a.path)})
    a.case("good_sessions_interleaved", "valid", interleave(rng, goods), [g["sid"] for g in good])
    never += hostile_lines(rng, a)
    for kind in ("non_utf8", "lone_surrogates", "nan_time", "inf_time", "neg_time", "huge_time",
                 "out_of_order", "overflow_time", "duplicate_headers", "trunc_mid_session"):
        sid, lines = odd_session(rng, rng.choice(sessions), kind)
        a.case(kind, "tolerate", lines, [sid])
    sid = new_sid(rng)
    a.case("header_only", "no_session", [hdr(sid)], [sid])
    never.append(sid)
    sid = new_sid(rng)
    a.case("orphan_events", "tolerate", [ev(sid, "1.0", "i", "ls\r"), ev(sid, "1.1", "o", "x\r\n")],
           [sid])
    if big_mb > 0:
        sid = new_sid(rng)
        a.case("big_session", "truncated", big_session(rng, sid, big_mb), [sid])
    # The last line has no newline: a finished file still reads it; a live
    # reader must not.
    sid = new_sid(rng)
    a.write(tail=ev(sid, "1.0", "i", "ls\r")[:-1])
    a.cases.append({"case": "eof_without_newline", "expect": "tolerate", "shard": str(a.path),
                    "first_line": len(a.lines) + 1, "last_line": len(a.lines) + 1, "sids": [sid]})
    cases += a.cases

    # A sid shared by two deckies: each decky's own session, stored once each
    # (different evidence_ref).
    shared = new_sid(rng)
    p, q = rng.sample(sessions, 2)
    for decky, src in (("decky-b", p), ("decky-c", q)):
        s = Shard(root / decky / "ssh" / "transcripts" / SHARD)
        s.case("sid_collision_across_deckies", "valid", resid(src, sid_of(src), shared), [shared])
        s.write()
        cases += s.cases
        good.append({"sid": shared, "decky": decky, "service": "ssh", "shard": str(s.path)})

    # Symlinks out of the root: a shard symlink and a transcripts-dir symlink.
    p = rng.choice(sessions)
    esc_sid = new_sid(rng)
    secret = outside / SHARD
    secret.write_bytes(b"".join(resid(p, sid_of(p), esc_sid)))
    d = root / "decky-evil" / "ssh" / "transcripts"
    d.mkdir(parents=True, exist_ok=True)
    _symlink(secret, d / SHARD)
    (root / "decky-evil2" / "ssh").mkdir(parents=True, exist_ok=True)
    (outside / "transcripts").mkdir(exist_ok=True)
    _symlink(secret, outside / "transcripts" / SHARD)
    _symlink(outside / "transcripts", root / "decky-evil2" / "ssh" / "transcripts")
    never.append(esc_sid)
    cases.append({"case": "symlink_escape", "expect": "refuse", "sids": [esc_sid]})

    # Payloads.
    g0 = good[0]
    rows: list[dict] = []

    def add(case: str, expect: str, pl) -> None:
        rows.append({"case": case, "expect": expect, "payload": pl})

    for i, g in enumerate(good):
        add("good", "stored", payload(g["sid"], g["decky"], g["service"], f"198.51.100.{10 + i}"))
    add("traversal_decky", "skip", payload(g0["sid"], "../decky-a", "ssh"))
    add("traversal_decky_abs", "skip", payload(g0["sid"], "/etc", "ssh"))
    add("traversal_service", "skip", payload(g0["sid"], "decky-a", "../../ssh"))
    add("traversal_sid", "skip", payload("../../../../etc/passwd", "decky-a", "ssh"))
    add("sid_uppercase", "skip", payload(g0["sid"].upper(), "decky-a", "ssh"))
    add("shard_path_outside", "skip_or_resolve",
        payload(esc_sid, "decky-a", "ssh", shard_path=str(secret)))
    add("shard_path_traversal", "skip_or_resolve",
        payload(esc_sid, "decky-a", "ssh", shard_path=str(root / "decky-a" / "ssh" / "transcripts"
                                                         / ".." / ".." / ".." / ".." / "outside"
                                                         / SHARD)))
    add("shard_path_etc", "skip_or_resolve",
        payload(esc_sid, "decky-a", "ssh", shard_path="/etc/passwd"))
    add("symlinked_shard", "refuse", payload(esc_sid, "decky-evil", "ssh"))
    add("symlinked_dir", "refuse", payload(esc_sid, "decky-evil2", "ssh"))
    add("absurd_decky", "skip", payload(g0["sid"], "d" * (1 << 20), "ssh"))
    add("absurd_sid", "skip", payload("a" * (1 << 20), "decky-a", "ssh"))
    add("absurd_shard_path", "skip_or_resolve",
        payload(esc_sid, "decky-a", "ssh", shard_path="/" + "a/" * 100000))
    add("nul_in_decky", "skip", payload(g0["sid"], "decky-a\u0000", "ssh"))
    add("wrong_types", "skip", {"session_id": 12, "decky_id": None, "service": ["ssh"],
                                "attacker_ip": {"a": 1}, "shard_path": 5})
    add("missing_fields", "skip", {})
    add("ip_dash", "skip", payload(g0["sid"], "decky-a", "ssh", ip="-"))
    add("not_object_list", "skip", [1, 2, 3])
    add("not_object_string", "skip", "session")
    add("not_object_null", "skip", None)
    with open(out / "payloads.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

    hostile_frames(out, g0["sid"])
    man = {"seed": seed, "root": str(root), "outside": str(outside), "good": good,
           "never_stored": never, "cases": cases,
           "payload_cases": [{"case": r["case"], "expect": r["expect"]} for r in rows]}
    (out / "manifest.json").write_text(json.dumps(man, indent=1))
    return man


def _symlink(target: Path, link: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(target, link)


def build_canary(out: Path, seed: int, calib: Path) -> dict:
    """Sessions carrying unique canaries in every place content can be."""
    rng = random.Random(seed)
    out = out.resolve()
    tag = "%08x" % rng.getrandbits(32)
    canaries = {
        "password": f"CanaryPw{tag}x9",
        "argument": f"canary-arg-{tag}",
        "output": f"CANARY_OUTPUT_{tag}",
        "pasted": f"canary_paste_{tag}",
        "term": f"canaryterm{tag}",
    }
    root = out / "root"
    good = []
    sessions = load_sessions(calib)
    s = Shard(root / "decky-pii" / "ssh" / "transcripts" / SHARD)
    for i in range(3):
        sid = new_sid(rng)
        base = rng.choice(sessions)
        lines = resid(base, sid_of(base), sid)
        h = lines[0].replace(b'"TERM":"', b'"TERM":"' + canaries["term"].encode(), 1)
        body = lines[1:]
        t = (_t(body[-1]) or 10.0) + 1.0
        extra = []
        for c in "sudo -k; sudo id\r":
            extra.append(ev(sid, "%.6f" % t, "i", c))
            t += 0.12
        extra.append(ev(sid, "%.6f" % t, "o", "[sudo] Password: "))
        t += 0.8
        for c in canaries["password"] + "\r":
            extra.append(ev(sid, "%.6f" % t, "i", c))
            t += 0.15
        extra.append(ev(sid, "%.6f" % t, "o", "\r\nuid=0(root) gid=0(root)\r\nroot@x:~# "))
        t += 1.0
        for c in f"grep {canaries['argument']} /etc/hosts\r":
            extra.append(ev(sid, "%.6f" % t, "i", c))
            t += 0.11
        extra.append(ev(sid, "%.6f" % t, "o", f"{canaries['output']}\r\nroot@x:~# "))
        t += 2.0
        extra.append(ev(sid, "%.6f" % t, "i", f"\x1b[200~echo {canaries['pasted']}\x1b[201~"))
        extra.append(ev(sid, "%.6f" % (t + 0.4), "i", "\r"))
        extra.append(ev(sid, "%.6f" % (t + 0.5), "o", f"{canaries['pasted']}\r\nroot@x:~# "))
        s.case("canary", "valid", [h] + body + extra, [sid])
        good.append({"sid": sid, "decky": "decky-pii", "service": "ssh", "shard": str(s.path)})
    s.write()
    man = {"seed": seed, "root": str(root), "good": good, "canaries": canaries}
    (out / "manifest.json").write_text(json.dumps(man, indent=1))
    return man


def build_backlog(out: Path, seed: int, n: int, deckies: int, day: str = DAY) -> dict:
    """N real sessions (calibration copies, new sids) over several deckies'
    day-shards, interleaved as concurrent writers leave them."""
    rng = random.Random(seed)
    out = out.resolve()
    sessions = load_sessions(calib_dir())
    per: dict[str, list[list[bytes]]] = {}
    good = []
    for i in range(n):
        decky = "decky-%02d" % (i % deckies)
        src = sessions[i % len(sessions)]
        sid = new_sid(rng)
        per.setdefault(decky, []).append(resid(src, sid_of(src), sid))
        shard = out / "root" / decky / "ssh" / "transcripts" / f"sessions-{day}.jsonl"
        good.append({"sid": sid, "decky": decky, "service": "ssh", "shard": str(shard),
                     "attacker_ip": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)})
    for decky, ss in per.items():
        s = Shard(out / "root" / decky / "ssh" / "transcripts" / f"sessions-{day}.jsonl")
        s.lines = interleave(rng, ss)
        s.write()
    man = {"seed": seed, "root": str(out / "root"), "good": good}
    (out / "manifest.json").write_text(json.dumps(man, indent=1))
    return man


_CALIB = [CALIB_DEFAULT]


def calib_dir() -> Path:
    return _CALIB[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-mb", type=int, default=10)
    ap.add_argument("--canary", action="store_true")
    ap.add_argument("--backlog", type=int, default=0, metavar="N",
                    help="N real sessions over --deckies day-shards (fault tests, benchmarks)")
    ap.add_argument("--deckies", type=int, default=4)
    ap.add_argument("--day", default=DAY)
    ap.add_argument("--calibration", type=Path, default=CALIB_DEFAULT)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    _CALIB[0] = a.calibration
    if a.backlog:
        man = build_backlog(a.out, a.seed, a.backlog, a.deckies, a.day)
        print(f"gen_hostile: {len(man['good'])} backlog sessions under {a.out}")
    elif a.canary:
        man = build_canary(a.out, a.seed, a.calibration)
        print(f"gen_hostile: {len(man['good'])} canary sessions under {a.out}")
    else:
        man = build(a.out, a.seed, a.big_mb, a.calibration)
        print(f"gen_hostile: {len(man['cases'])} shard cases, {len(man['payload_cases'])} payloads, "
              f"{len(man['good'])} good sessions under {a.out}")


if __name__ == "__main__":
    main()
