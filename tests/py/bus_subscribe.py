"""Record every event matching a pattern, with DECNET's own Python client.

Usage: bus_subscribe.py SOCKET_PATH PATTERN OUT_JSONL
Writes one JSON line per event: {"topic","type","id","ts","payload",
"received_at"}. Prints "READY" on stdout once subscribed (and again after
each reconnect). DECNET's client never reconnects, so this script does: when
the bus goes away it retries every 100 ms until it is back. Runs until killed.
"""
import asyncio
import json
import sys
import time

from decnet.bus.unix_client import UnixSocketBus


async def session(socket_path: str, pattern: str, out) -> None:
    bus = UnixSocketBus(socket_path, client_name="e2e-subscriber")
    await bus.connect()
    try:
        sub = bus.subscribe(pattern)
        # No SUB ack in the protocol: give the server time to register it.
        await asyncio.sleep(0.3)
        print("READY", flush=True)
        async for ev in sub:
            out.write(json.dumps({
                "topic": ev.topic, "type": ev.type, "id": ev.id, "ts": ev.ts,
                "payload": ev.payload, "received_at": time.time(),
            }) + "\n")
            out.flush()
    finally:
        await bus.close()


async def run(socket_path: str, pattern: str, out_path: str) -> None:
    with open(out_path, "a", encoding="utf-8") as out:
        while True:
            try:
                await session(socket_path, pattern, out)
            except (ConnectionError, FileNotFoundError, OSError):
                pass
            await asyncio.sleep(0.1)


def main() -> None:
    asyncio.run(run(sys.argv[1], sys.argv[2], sys.argv[3]))


if __name__ == "__main__":
    main()
