"""A fake internet for the isolation tests: TCP and UDP listeners and an authoritative DNS server that
record every hit as one JSON line. Run inside the test's `internet` namespace:

    python -m tests.isolation.fakenet --log HITS --addr 203.0.113.10 --tcp 22 80 --udp 53 123
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
from pathlib import Path

ANSWER = socket.inet_aton("203.0.113.99")


def dns_answer(query: bytes) -> bytes:
    """Answer any A query with 203.0.113.99 (authoritative, one record)."""
    qid = query[:2]
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    question = query[12 : end + 5]
    header = qid + struct.pack("!HHHHH", 0x8400, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + ANSWER
    return header + question + answer


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path

    def hit(self, proto: str, src: str, dst: str, port: int) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps({"proto": proto, "src": src, "dst": dst, "port": port}) + "\n")


class Udp(asyncio.DatagramProtocol):
    def __init__(self, rec: Recorder, dst: str, port: int) -> None:
        self.rec, self.dst, self.port = rec, dst, port

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.rec.hit("udp", addr[0], self.dst, self.port)
        reply = dns_answer(data) if self.port == 53 and len(data) > 12 else data
        self.transport.sendto(reply, addr)  # type: ignore[attr-defined]


async def main(args: argparse.Namespace) -> None:
    rec = Recorder(Path(args.log))
    loop = asyncio.get_running_loop()
    for addr in args.addr:
        for port in args.tcp:

            async def on_conn(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter, a=addr, p=port
            ) -> None:
                rec.hit("tcp", writer.get_extra_info("peername")[0], a, p)
                writer.write(b"fake internet\n")
                await writer.drain()
                writer.close()

            await asyncio.start_server(on_conn, addr, port)
        for port in args.udp:
            await loop.create_datagram_endpoint(
                lambda a=addr, p=port: Udp(rec, a, p), local_addr=(addr, port)
            )
    Path(args.log + ".ready").write_text("ready")
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--addr", nargs="+", required=True)
    parser.add_argument("--tcp", nargs="*", type=int, default=[])
    parser.add_argument("--udp", nargs="*", type=int, default=[])
    asyncio.run(main(parser.parse_args()))
