"""A device side of HJ 212-2017 for simulators and benchmarks: build hourly packets, send, await acks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

from .protocol import FrameBuffer, HJ212Error, packet_build, segment_build, segment_parse


def hourly_packet(
    *, mn: str, data_time: datetime, values: dict[str, float], qn: str = "", pw: str = "123456", flag: int = 5
) -> bytes:
    """A CN=2061 hourly packet (`data_time` in the device's local time) with Avg/Min/Max/Flag per pollutant."""
    parts = [f"DataTime={data_time:%Y%m%d%H%M%S}"]
    for code, avg in values.items():
        parts.append(f"{code}-Avg={avg:.3f},{code}-Min={avg * 0.9:.3f},{code}-Max={avg * 1.1:.3f},{code}-Flag=N")
    qn = qn or f"{data_time:%Y%m%d%H%M%S}000"
    return packet_build(segment_build(qn=qn, st="31", cn="2061", pw=pw, mn=mn, flag=flag, cp=";".join(parts)))


@dataclass
class DeviceRun:
    """What one simulated device saw: packets sent, acks received, seconds from send to ack."""

    sent: int = 0
    acked: int = 0
    ack_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def device_send(
    *, host: str, port: int, packets: list[bytes], ack_timeout: float = 10.0, wait_ack: bool = True
) -> DeviceRun:
    """Send the packets on one connection, each after the previous one's ack (as devices do)."""
    run = DeviceRun()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        run.errors.append(f"connect: {exc}")
        return run
    frames = FrameBuffer()
    backlog: list = []
    try:
        for packet in packets:
            started = time.perf_counter()
            writer.write(packet)
            await writer.drain()
            run.sent += 1
            if not wait_ack:
                continue
            while not backlog:
                data = await asyncio.wait_for(reader.read(65536), ack_timeout)
                if not data:
                    raise ConnectionError("receiver closed the connection")
                backlog += [item for item in frames.feed(data) if not isinstance(item, HJ212Error)]
            ack = segment_parse(backlog.pop(0))
            if ack.cn == "9014":
                run.acked += 1
                run.ack_seconds.append(time.perf_counter() - started)
    except (TimeoutError, ConnectionError, OSError) as exc:
        run.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()
    return run
