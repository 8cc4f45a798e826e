#!/usr/bin/env python3
"""Run DECNET's real bus server (decnet==1.0.0) on SOCKET for interop tests.

Usage: server.py SOCKET [HEARTBEAT_SECS]
Run with DECNET_CONFIG=/nonexistent so a host INI is never read
(contracts.md Appendix A). Prints "ready" on stdout once the socket exists.
"""
import asyncio
import os
import sys

from decnet.bus.worker import bus_worker


async def main(path: str, heartbeat: int) -> None:
    task = asyncio.create_task(bus_worker(path, group=None, heartbeat_interval=heartbeat))
    for _ in range(500):
        if os.path.exists(path) or task.done():
            break
        await asyncio.sleep(0.01)
    if not task.done():
        print("ready", flush=True)
    await task


if __name__ == "__main__":
    hb = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    asyncio.run(main(sys.argv[1], hb))
