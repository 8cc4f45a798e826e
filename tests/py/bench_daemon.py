#!/usr/bin/env python3
"""End-to-end daemon benchmark: session ended → committed (→ published).

Usage: bench_daemon.py BIN BACKEND [--sessions N] [--rate R] [--bus-python PY]

BACKEND: sqlite | mysql | postgres (the machine's servers, a fresh database
each run, dropped afterwards). Sessions come from scripts/gen_hostile.py
--backlog (real calibration sessions with new sids over 8 deckies).

Phases, each on a fresh daemon and database:
1. backlog: N session_recorded rows inserted at once, the daemon (poll
   path, 1 s interval) drains them: sessions/s = N / (last commit seen −
   rows committed). Commit times are observed from outside (the DB polled
   every 50 ms), so the figure is a lower bound.
2. stream: N rows inserted at R sessions/s in 100 ms batches; per-session
   latency = first observation row seen − its row's insert: p50 / p99 (the
   poll interval dominates this path by design).
3. bus (with --bus-python and a daemon whose bus trigger is on): N
   `attacker.session.ended` events at R/s through DECNET's bus; latency =
   first `attacker.observation.*` event received − event sent: p50 / p99.
Peak RSS = the daemon's VmHWM (/proc/PID/status) just before it is stopped.
Prints one JSON line per phase.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
MYSQL = ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B"]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/test"


END = "__bench_end__"


class Session:
    """One client process kept open for every observer query (a new `mysql`
    / `psql` process every 50 ms cost more CPU than the daemon under test).
    Each query is followed by a sentinel row; an error yields no rows."""

    def __init__(self, argv: list[str], end_cmd: str):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.end_cmd = end_cmd

    def run(self, sql: str) -> list[list[str]]:
        assert self.p.stdin and self.p.stdout
        self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n" + self.end_cmd + "\n")
        self.p.stdin.flush()
        out = []
        for l in self.p.stdout:
            l = l.rstrip("\n")
            if l == END:
                return out
            if l:
                out.append(l.split("\t"))
        return []

    def close(self) -> None:
        try:
            if self.p.stdin:
                self.p.stdin.close()
            self.p.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


class Db:
    def __init__(self, backend: str, tmp: Path):
        self.backend = backend
        self.name = "bench_" + uuid.uuid4().hex[:10]
        self.session: Session | None = None
        self.sqlite: sqlite3.Connection | None = None
        # Observer state: evidence_refs seen so far (SQLite: rows read up to
        # `seen_rowid`, each observer poll reads only the new rows).
        self.seen: set[str] = set()
        self.seen_rowid = 0
        if backend == "sqlite":
            self.path = tmp / "bench.db"
            self.url = f"sqlite://{self.path}"
        elif backend == "mysql":
            subprocess.run(MYSQL + ["-e", f"CREATE DATABASE {self.name}"], check=True)
            self.url = f"mysql://root@127.0.0.1:3306/{self.name}"
        else:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {self.name}"], check=True,
                           stdout=subprocess.DEVNULL)
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.name}"

    def query(self, sql: str) -> list[list[str]]:
        if self.backend == "sqlite":
            try:
                if self.sqlite is None:
                    self.sqlite = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                                  timeout=5, isolation_level=None)
                rows = self.sqlite.execute(sql).fetchall()
                return [[str(x) for x in r] for r in rows]
            except sqlite3.Error:
                if self.sqlite is not None:
                    self.sqlite.close()
                self.sqlite = None
                return []
        if self.session is None:
            if self.backend == "mysql":
                self.session = Session(MYSQL + ["--unbuffered", "--force", self.name],
                                       f"SELECT '{END}';")
            else:
                self.session = Session(["psql", self.url, "-X", "-q", "-AtF", "\t"],
                                       f"\\echo {END}")
        return self.session.run(sql)

    def execute_script(self, sql: str) -> None:
        if self.backend == "sqlite":
            c = sqlite3.connect(str(self.path), timeout=30)
            c.executescript(sql)
            c.commit()
            c.close()
        elif self.backend == "mysql":
            subprocess.run(MYSQL + [self.name], input=sql, text=True, check=True)
        else:
            subprocess.run(["psql", self.url, "-q", "-v", "ON_ERROR_STOP=1"], input=sql, text=True,
                           check=True, stdout=subprocess.DEVNULL)

    def drop(self) -> None:
        if self.session is not None:
            self.session.close()
        if self.sqlite is not None:
            self.sqlite.close()
        if self.backend == "mysql":
            subprocess.run(MYSQL + ["-e", f"DROP DATABASE IF EXISTS {self.name}"])
        elif self.backend == "postgres":
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"],
                           stdout=subprocess.DEVNULL)

    def stored(self) -> set[str]:
        """Every evidence_ref stored so far. SQLite: only the rows added
        since the last call (rowid order); MariaDB / PostgreSQL: DISTINCT on
        the unique key's leading column, through the one open client."""
        if self.backend == "sqlite":
            rows = self.query("SELECT rowid, evidence_ref FROM observations "
                              f"WHERE rowid > {self.seen_rowid} ORDER BY rowid")
            for rowid, ref in rows:
                self.seen.add(ref)
                self.seen_rowid = max(self.seen_rowid, int(rowid))
            return set(self.seen)
        return {r[0] for r in self.query("SELECT DISTINCT evidence_ref FROM observations")}


def sq(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def rows_sql(sessions: list[dict]) -> str:
    vals = []
    for s in sessions:
        fields = json.dumps({"sid": s["sid"], "service": "ssh", "src_ip": s["attacker_ip"],
                             "duration_s": "42.125"})
        vals.append(f"('2026-05-02 12:34:56', {sq(s['decky'])}, 'sessrec', 'session_recorded', "
                    f"{sq(s['attacker_ip'])}, '', {sq(fields)}, '')")
    out = []
    for i in range(0, len(vals), 500):
        out.append("INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, "
                   "fields, msg) VALUES " + ",".join(vals[i:i + 500]) + ";")
    return "\n".join(out)


def eref(s: dict) -> str:
    return f"shard:{s['decky']}/ssh/{Path(s['shard']).name}#{s['sid']}"


def vm_hwm_kb(pid: int) -> int:
    try:
        for l in open(f"/proc/{pid}/status"):
            if l.startswith("VmHWM:"):
                return int(l.split()[1])
    except OSError:
        pass
    return 0


def pct(v: list[float], p: float) -> float:
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


class Daemon:
    def __init__(self, bin_: str, db: Db, root: str, tmp: Path, tag: str, bus: str | None):
        cfg = tmp / f"{tag}.toml"
        cfg.write_text(
            f'[database]\nbackend = "{db.backend}"\nurl = "{db.url}"\nschema = "own"\n\n'
            f'[artifacts]\nroot = "{root}"\n\n[attackers]\nmode = "create"\n\n'
            f'[poll]\nenabled = true\ninterval_s = 1\nbatch = 500\n\n'
            + (f'[bus]\nenabled = true\nsocket = "{bus}"\n' if bus else "[bus]\nenabled = false\n")
            + '\n[log]\nlevel = "warn"\n')
        self.log = tmp / f"{tag}.log"
        env = {"PATH": os.environ.get("PATH", ""), "DECNET_CONFIG": "/nonexistent"}
        self.p = subprocess.Popen([bin_, "run", "--config", str(cfg)], env=env,
                                  stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)

    def wait_tables(self, db: Db) -> None:
        for _ in range(300):
            if db.query("SELECT COUNT(*) FROM logs"):
                return
            time.sleep(0.05)
        raise SystemExit(f"daemon never created its tables: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        hwm = vm_hwm_kb(self.p.pid)
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
        return hwm


def phase_backlog(a, db, sessions, root, tmp) -> dict:
    d = Daemon(a.bin, db, root, tmp, "backlog", None)
    d.wait_tables(db)
    want = {eref(s) for s in sessions}
    db.execute_script(rows_sql(sessions))
    t0 = time.time()
    t_first = None
    while True:
        got = db.stored()
        if t_first is None and want & got:
            t_first = time.time()
        if want <= got:
            break
        if time.time() - t0 > a.timeout:
            break
        time.sleep(0.05)
    t1 = time.time()
    hwm = d.stop()
    n = len(want & got)
    # first_commit_s: until the first session was seen (the poll interval's
    # wake-up, ≤ 1 s, is part of `seconds`); drain_per_s: sessions/s from
    # the first commit seen to the last (the daemon's own rate).
    drain = (t1 - t_first) if t_first is not None else 0.0
    return {"phase": "backlog", "backend": db.backend, "sessions": n,
            "seconds": round(t1 - t0, 3), "sessions_per_s": round(n / (t1 - t0), 1),
            "first_commit_s": round((t_first or t1) - t0, 3),
            "drain_per_s": round(n / drain, 1) if drain > 0 else None,
            "peak_rss_mb": round(hwm / 1024, 1)}


def phase_stream(a, db, sessions, root, tmp) -> dict:
    d = Daemon(a.bin, db, root, tmp, "stream", None)
    d.wait_tables(db)
    inserted: dict[str, float] = {}
    seen: dict[str, float] = {}
    per_tick = max(1, int(a.rate / 10))
    t0 = time.time()
    i = 0
    while i < len(sessions) or len(seen) < len(sessions):
        if i < len(sessions):
            batch = sessions[i:i + per_tick]
            db.execute_script(rows_sql(batch))
            now = time.time()
            for s in batch:
                inserted[eref(s)] = now
            i += len(batch)
        now = time.time()
        for r in db.stored() - seen.keys():
            seen[r] = now
        if time.time() - t0 > a.timeout:
            break
        time.sleep(max(0.0, 0.1 - (time.time() - now)))
    hwm = d.stop()
    lat = [seen[r] - inserted[r] for r in seen if r in inserted]
    return {"phase": "stream-poll", "backend": db.backend, "sessions": len(lat),
            "rate": a.rate, "p50_ms": round(pct(lat, 50) * 1e3), "p99_ms": round(pct(lat, 99) * 1e3),
            "peak_rss_mb": round(hwm / 1024, 1)}


def phase_bus(a, db, sessions, root, tmp) -> dict | None:
    py = a.bus_python
    sock = tmp / "bus.sock"
    bus = subprocess.Popen([py, str(REPO / "tests/py/bus_server.py"), str(sock), "2"],
                           env={**os.environ, "DECNET_CONFIG": "/nonexistent"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
        sub_out = tmp / "obs.jsonl"
        sub = subprocess.Popen([py, str(REPO / "tests/py/bus_subscribe.py"), str(sock),
                                "attacker.observation.>", str(sub_out)],
                               env={**os.environ, "DECNET_CONFIG": "/nonexistent"},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        sub.stdout.readline()
        # Poll off: the bus alone carries the sessions.
        d = Daemon(a.bin, db, root, tmp, "bus", str(sock))
        d.wait_tables(db)
        time.sleep(1.0)
        if "bus trigger not available" in d.log.read_text():
            d.stop()
            sub.kill()
            return None
        evs = []
        for s in sessions:
            evs.append(json.dumps({"topic": "attacker.session.ended", "type": "session.ended",
                                   "payload": {"session_id": s["sid"], "attacker_uuid": None,
                                               "attacker_ip": s["attacker_ip"],
                                               "decky_id": s["decky"], "service": "ssh",
                                               "ended_at": "2026-05-02T12:34:56",
                                               "duration_s": 1.0, "commands": [],
                                               "shard_path": s["shard"]}}))
        pub = subprocess.run([py, str(REPO / "tests/py/bus_publish.py"), str(sock), "--delay-ms",
                              str(int(1000 / a.rate))], input="\n".join(evs) + "\n", text=True,
                             capture_output=True, env={**os.environ, "DECNET_CONFIG": "/nonexistent"})
        sent = [json.loads(l)["sent_at"] for l in pub.stdout.splitlines() if l.startswith("{")]
        sent_by = {eref(s): t for s, t in zip(sessions, sent)}
        t0 = time.time()
        first: dict[str, float] = {}
        while time.time() - t0 < a.timeout:
            first = {}
            if sub_out.exists():
                for l in sub_out.read_text().splitlines():
                    try:
                        e = json.loads(l)
                    except ValueError:
                        continue
                    r = e["payload"].get("evidence_ref")
                    if r and r not in first:
                        first[r] = e["received_at"]
            if len(first) >= len(sessions):
                break
            time.sleep(0.2)
        hwm = d.stop()
        sub.kill()
        lat = [first[r] - sent_by[r] for r in first if r in sent_by]
        span = (max(first.values()) - min(sent)) if first and sent else float("nan")
        return {"phase": "stream-bus", "backend": db.backend, "sessions": len(lat), "rate": a.rate,
                "sessions_per_s": round(len(lat) / span, 1) if span == span and span > 0 else None,
                "p50_ms": round(pct(lat, 50) * 1e3, 1), "p99_ms": round(pct(lat, 99) * 1e3, 1),
                "peak_rss_mb": round(hwm / 1024, 1)}
    finally:
        bus.terminate()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("backend", choices=["sqlite", "mysql", "postgres"])
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--bus-python")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--phases", default="backlog,stream,bus")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-daemon") as t:
        tmp = Path(t)
        subprocess.run([sys.executable, str(REPO / "scripts/gen_hostile.py"), "--backlog",
                        str(a.sessions), "--deckies", "8", str(tmp / "gen")], check=True,
                       stdout=subprocess.DEVNULL)
        man = json.loads((tmp / "gen/manifest.json").read_text())
        sessions, root = man["good"], man["root"]
        for ph in a.phases.split(","):
            if ph == "bus" and not a.bus_python:
                continue
            db = Db(a.backend, tmp / ph)
            (tmp / ph).mkdir(exist_ok=True)
            try:
                fn = {"backlog": phase_backlog, "stream": phase_stream, "bus": phase_bus}[ph]
                r = fn(a, db, sessions, root, tmp / ph)
                if r is None:
                    r = {"phase": "stream-bus", "backend": a.backend,
                         "skipped": "this daemon build has no bus trigger"}
                print(json.dumps(r), flush=True)
            finally:
                db.drop()


if __name__ == "__main__":
    main()
