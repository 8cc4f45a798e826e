#!/usr/bin/env python3
"""Subscribe with DECNET's own Python client and print events as JSON lines.

Usage: py_sub.py SOCKET PATTERN COUNT
Prints "ready" once the SUB is sent, then one line per event:
{"topic":..,"type":..,"payload":..} (compact, key order as received), and exits after COUNT events.
"""
import asyncio
import json
import sys

from decnet.bus.unix_client import UnixSocketBus


async def main(path: str, pattern: str, count: int) -> None:
    bus = UnixSocketBus(path, client_name="interop-py-sub")
    await bus.connect()
    sub = bus.subscribe(pattern)
    await asyncio.sleep(0.05)  # let the fire-and-forget SUB reach the server
    print("ready", flush=True)
    seen = 0
    async with sub:
        async for ev in sub:
            print(json.dumps({"topic": ev.topic, "type": ev.type, "payload": ev.payload},
                             separators=(",", ":"), ensure_ascii=False), flush=True)
            seen += 1
            if seen >= count:
                break
    await bus.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
