"""HJ 212 load generator for bench_hj212.py, run in processes of its own (no Django).

    python benchmarks/_hj212_load.py devices --port P --connections N --seconds S --out result.json
    python benchmarks/_hj212_load.py floor-server      # prints its port; acks every packet unchecked

`devices`: N device connections (MN BENCH000000…), each sending CN=2061 hourly packets with
3 pollutants, the next one only after the previous one's CN=9014 ack (as devices do), for
S seconds. Each connection is an asyncio Protocol on uvloop; a packet is the device's fixed
text with the hour and QN filled in and its CRC computed (about 20 µs). Written as JSON: packets sent
and acked, ack times (p50/p99/max), acks per minute with that minute's p99, errors, and the
process's own CPU seconds, so the report can show the generator is not the bottleneck.

`floor-server`: the cheapest possible receiver (counts CRLFs, writes a fixed ack, stores
nothing): the generator against it measures the generator's own ceiling on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from supervision.remote_sensing.hj212 import crc16  # noqa: E402

POLLUTANTS = {"a21026": 35.0, "a21002": 50.0, "a34013": 10.0}
START = datetime(2026, 1, 1)


def _cp_values() -> str:
    return ";".join(
        f"{code}-Avg={avg:.3f},{code}-Min={avg * 0.9:.3f},{code}-Max={avg * 1.1:.3f},{code}-Flag=N"
        for code, avg in POLLUTANTS.items()
    )


class _Hours:
    """DataTime texts by hour index, shared by all devices (formatted once each)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __getitem__(self, i: int) -> str:
        while len(self.texts) <= i:
            self.texts.append(f"{START + timedelta(hours=len(self.texts)):%Y%m%d%H%M%S}")
        return self.texts[i]


class _Device(asyncio.Protocol):
    def __init__(self, run: _Run, mn: str) -> None:
        self.run = run
        self.head = f"ST=31;CN=2061;PW=123456;MN={mn};Flag=5;CP=&&DataTime="
        self.tail = f";{_cp_values()}&&"
        self.hour = 0
        self.sent_at = 0.0
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self._send()

    def _send(self) -> None:
        run = self.run
        if time.perf_counter() >= run.deadline:
            self.transport.close()  # type: ignore[union-attr]
            return
        stamp = run.hours[self.hour]
        self.hour += 1
        data = f"QN={stamp}000;{self.head}{stamp}{self.tail}".encode()
        self.sent_at = time.perf_counter()
        self.transport.write(b"##%04d%s%04X\r\n" % (len(data), data, crc16(data)))  # type: ignore[union-attr]
        run.sent += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer:
            frame, _, self.buffer = self.buffer.partition(b"\r\n")
            if b"CN=9014" not in frame:
                self.run.errors.append(f"not an ack: {frame[:60]!r}")
                continue
            self.run.ack(time.perf_counter() - self.sent_at)
            self._send()

    def connection_lost(self, exc) -> None:
        if exc is not None:
            self.run.errors.append(f"{type(exc).__name__}: {exc}")
        self.run.closed += 1
        if self.run.closed == self.run.connections:
            self.run.done.set()


class _Run:
    def __init__(self, connections: int, seconds: float) -> None:
        self.connections = connections
        self.seconds = seconds
        self.hours = _Hours()
        self.sent = 0
        self.acked = 0
        self.closed = 0
        self.errors: list[str] = []
        self.started = time.perf_counter()
        self.deadline = self.started + seconds
        # Per minute of the run: acks and ack times.
        self.minutes: list[list[float]] = []
        self.done = asyncio.Event()

    def ack(self, seconds: float) -> None:
        self.acked += 1
        # The last acks, a moment after the deadline, count in the last minute of the run.
        minute = min(int((time.perf_counter() - self.started) // 60), max(0, int((self.seconds - 1e-9) // 60)))
        while len(self.minutes) <= minute:
            self.minutes.append([])
        self.minutes[minute].append(seconds)


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


async def devices_run(*, host: str, port: int, connections: int, seconds: float) -> dict:
    loop = asyncio.get_running_loop()
    run = _Run(connections, seconds)
    cpu0 = time.process_time()
    for i in range(connections):
        try:
            await loop.create_connection(lambda i=i: _Device(run, f"BENCH{i:06d}"), host, port)
        except OSError as exc:
            run.errors.append(f"connect: {exc}")
            run.closed += 1
    try:
        await asyncio.wait_for(run.done.wait(), seconds + 60)
    except TimeoutError:
        run.errors.append(f"{connections - run.closed} connections still open 60 s after the end")
    elapsed = time.perf_counter() - run.started
    acks = sorted(t for times in run.minutes for t in times)
    return {
        "connections": connections,
        "seconds": elapsed,
        "sent": run.sent,
        "acked": run.acked,
        "ack_p50_ms": _quantile(acks, 0.5) * 1000,
        "ack_p99_ms": _quantile(acks, 0.99) * 1000,
        "ack_max_ms": (acks[-1] if acks else 0.0) * 1000,
        "minutes": [
            {"minute": m + 1, "acked": len(times), "ack_p99_ms": _quantile(sorted(times), 0.99) * 1000}
            for m, times in enumerate(run.minutes)
        ],
        "errors": len(run.errors),
        "first_error": run.errors[0] if run.errors else "",
        "cpu_seconds": time.process_time() - cpu0,
    }


class _Floor(asyncio.Protocol):
    ACK = b"##0060QN=1;ST=91;CN=9014;PW=123456;MN=BENCH;Flag=4;CP=&&&&0000\r\n"

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        count = data.count(b"\r\n")
        if count:
            self.transport.write(self.ACK * count)


async def floor_serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Floor, "127.0.0.1", 0, backlog=2048)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    devices = sub.add_parser("devices")
    devices.add_argument("--host", default="127.0.0.1")
    devices.add_argument("--port", type=int, required=True)
    devices.add_argument("--connections", type=int, default=500)
    devices.add_argument("--seconds", type=float, default=10)
    devices.add_argument("--out", required=True)
    sub.add_parser("floor-server")
    args = parser.parse_args()
    if args.mode == "floor-server":
        uvloop.run(floor_serve())
        return
    result = uvloop.run(devices_run(host=args.host, port=args.port, connections=args.connections, seconds=args.seconds))
    Path(args.out).write_text(json.dumps(result))
    os._exit(0)  # skip freeing millions of floats


if __name__ == "__main__":
    main()
