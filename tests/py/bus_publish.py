"""Publish events on DECNET's bus with DECNET's own Python client.

Usage: bus_publish.py SOCKET_PATH [--delay-ms N] < events.jsonl
Each stdin line: {"topic": ..., "type": ..., "payload": {...}}.
Stdout: one line per event, {"i": n, "sent_at": <epoch float>}, then "DONE n".
"""
import argparse
import asyncio
import json
import sys
import time

from decnet.bus.unix_client import UnixSocketBus


async def run(socket_path: str, delay_ms: int) -> None:
    bus = UnixSocketBus(socket_path, client_name="e2e-publisher")
    await bus.connect()
    n = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        ev = json.loads(line)
        sent_at = time.time()
        await bus.publish(ev["topic"], ev.get("payload", {}), event_type=ev.get("type", ""))
        print(json.dumps({"i": n, "sent_at": sent_at}), flush=True)
        n += 1
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000.0)
    # Let the writer drain before BYE.
    await asyncio.sleep(0.2)
    await bus.close()
    print(f"DONE {n}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--delay-ms", type=int, default=0)
    args = ap.parse_args()
    asyncio.run(run(args.socket, args.delay_ms))


if __name__ == "__main__":
    main()
