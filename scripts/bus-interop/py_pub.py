#!/usr/bin/env python3
"""Publish with DECNET's own Python client.

Usage: py_pub.py SOCKET  (then one publication per stdin line:
{"topic":..,"type":..,"payload":..}; "sleep SECS" lines pause)
"""
import asyncio
import json
import sys

from decnet.bus.unix_client import UnixSocketBus


async def main(path: str) -> None:
    bus = UnixSocketBus(path, client_name="interop-py-pub")
    await bus.connect()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line.startswith("sleep "):
            await asyncio.sleep(float(line.split()[1]))
            continue
        msg = json.loads(line)
        await bus.publish(msg["topic"], msg["payload"], event_type=msg["type"])
    await asyncio.sleep(0.05)
    await bus.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
