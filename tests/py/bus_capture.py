"""Capture every byte the bus sends to a subscriber of `>` (all topics).

Usage: bus_capture.py SOCKET_PATH OUT_FILE
Speaks the wire protocol itself (contracts.md §1.2) so the capture is the
raw frames, not a client's re-encoding: sends `HELLO` and `SUB >`, then
appends everything received to OUT_FILE. Prints "READY" once subscribed
(and after each reconnect: it retries every 100 ms while the bus is away).
Runs until killed. Stdlib only.
"""
import socket
import struct
import sys
import time


def frame(line: bytes) -> bytes:
    return line + b"\n" + struct.pack(">I", 0)


def main() -> None:
    path, out_path = sys.argv[1], sys.argv[2]
    with open(out_path, "ab") as out:
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                s.sendall(frame(b"HELLO e2e-capture") + frame(b"SUB >"))
                time.sleep(0.3)
                print("READY", flush=True)
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    out.write(b)
                    out.flush()
            except OSError:
                pass
            finally:
                try:
                    s.close()
                except OSError:
                    pass
            time.sleep(0.1)


if __name__ == "__main__":
    main()
