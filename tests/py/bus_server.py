"""Run DECNET's real bus server (decnet==1.0.0, contracts.md Appendix A).

Usage: bus_server.py SOCKET_PATH [HEARTBEAT_SECONDS]
SIGTERM/SIGINT: clean shutdown, socket unlinked.
"""
import asyncio
import sys

from decnet.bus.worker import bus_worker


def main() -> None:
    path = sys.argv[1]
    heartbeat = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    asyncio.run(bus_worker(path, group=None, heartbeat_interval=heartbeat))


if __name__ == "__main__":
    main()
