"""HJ 212 receiver: packets/s stored from many concurrent device connections, ack latency, memory.

    .venv/bin/python benchmarks/bench_hj212.py [--quick] [--connections N] [--seconds S]

1. The pure core alone: frame + CRC + parse of a 3-pollutant hourly packet (packets/s).
2. In a scratch PostGIS database (bench_hj212): one target with N permitted devices
   (3 pollutants each), the real `manage.py hj212_listen` on a loopback port, and N
   asyncio device connections (500 by default) each sending hourly packets for S
   seconds, every packet after the previous one's CN=9014 ack, as devices do. Reported:
   rows stored and packets/s (counted in the table, not by the clients), p50/p99 time
   from send to ack, and the listener's resident memory sampled every second.
The clients run on the same 2 cores as the receiver and PostgreSQL, so figures are low bounds.
Goal (issue 16): ≥ 2,000 packets/s stored from ≥ 500 connections, memory flat, p99 ack reported.
"""

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from _django import ROOT, scratch_database  # noqa: E402

POLLUTANTS = {"a21026": 35.0, "a21002": 50.0, "a34013": 10.0}


def bench_core(n: int) -> None:
    from supervision.remote_sensing.hj212 import FrameBuffer, segment_parse
    from supervision.remote_sensing.hj212.client import hourly_packet

    packet = hourly_packet(mn="BENCH000001", data_time=datetime(2026, 3, 1, 9), values=dict(POLLUTANTS))
    stream = packet * n
    t0 = time.perf_counter()
    frames = FrameBuffer()
    parsed = 0
    for i in range(0, len(stream), 4096):
        for item in frames.feed(stream[i : i + 4096]):
            segment_parse(item)
            parsed += 1
    elapsed = time.perf_counter() - t0
    print(
        f"core: {parsed} packets of {len(packet)} B framed, CRC-checked and parsed in {elapsed:.2f} s "
        f"= {parsed / elapsed:,.0f} packets/s"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def device(host, port, mn, start, deadline, ack_times, errors):
    from supervision.remote_sensing.hj212 import FrameBuffer
    from supervision.remote_sensing.hj212.client import hourly_packet

    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        errors.append(str(exc))
        return 0
    frames = FrameBuffer()
    sent = 0
    hour = start
    try:
        while time.monotonic() < deadline:
            packet = hourly_packet(mn=mn, data_time=hour, values=dict(POLLUTANTS))
            t0 = time.perf_counter()
            writer.write(packet)
            await writer.drain()
            sent += 1
            got = []
            while not got:
                data = await asyncio.wait_for(reader.read(4096), 30)
                if not data:
                    raise ConnectionError("closed")
                got = frames.feed(data)
            ack_times.append(time.perf_counter() - t0)
            hour += timedelta(hours=1)
    except (TimeoutError, ConnectionError, OSError) as exc:
        errors.append(f"{type(exc).__name__} {exc}")
    finally:
        writer.close()
    return sent


async def drive(port, n_conn, seconds, ack_times, errors):
    deadline = time.monotonic() + seconds
    start = datetime(2026, 1, 1)
    return await asyncio.gather(
        *(device("127.0.0.1", port, f"BENCH{i:06d}", start, deadline, ack_times, errors) for i in range(n_conn))
    )


def bench_receiver(connection, n_conn: int, seconds: float) -> None:
    from django.contrib.gis.geos import MultiPolygon, Point, Polygon

    from supervision.cases.models import EnforcementTarget
    from supervision.cases.validators import credit_code_check_char
    from supervision.permitting.models import PermitLimit
    from supervision.remote_sensing.models import CemsValue
    from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

    plan = ZoningPlan.objects.create(code="bench", name="bench", region_adcode="220100", status="effective")
    division = AdministrativeDivision.objects.create(adcode="220102", name="南关区", level="county")
    ring = ((125.3, 43.8), (125.4, 43.8), (125.4, 43.9), (125.3, 43.9), (125.3, 43.8))
    unit = ControlUnit.objects.create(
        plan=plan, division=division, code="ZH22010210001", name="u", unit_class="key", geom=MultiPolygon(Polygon(ring))
    )
    target = EnforcementTarget.objects.create(
        name="bench",
        credit_code="91220102MA0000001" + credit_code_check_char("91220102MA0000001"),
        location=Point(125.35, 43.85),
        division=division,
        unit=unit,
    )
    PermitLimit.objects.bulk_create(
        PermitLimit(
            target=target,
            outlet_code="DA001",
            device_mn=f"BENCH{i:06d}",
            pollutant_code=code,
            hourly_limit=limit * 10,
            unit="mg/m3",
        )
        for i in range(n_conn)
        for code, limit in POLLUTANTS.items()
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "hj212_listen", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        port = int(line.rsplit(":", 1)[1])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        ack_times: list[float] = []
        errors: list[str] = []
        memory: list[float] = [rss_mb(proc.pid)]

        async def run():
            async def sample():
                while True:
                    await asyncio.sleep(1)
                    memory.append(rss_mb(proc.pid))

            sampler = asyncio.create_task(sample())
            sent = await drive(port, n_conn, seconds, ack_times, errors)
            sampler.cancel()
            return sent

        t0 = time.perf_counter()
        sent = asyncio.run(run())
        elapsed = time.perf_counter() - t0
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    rows = CemsValue.objects.count()
    packets = rows // len(POLLUTANTS)
    ack_times.sort()
    p = lambda q: ack_times[min(len(ack_times) - 1, int(q * len(ack_times)))] * 1000  # noqa: E731
    print(
        f"receiver: {n_conn} connections for {elapsed:.1f} s: sent {sum(sent)}, stored {packets} packets "
        f"({rows} rows) = {packets / elapsed:,.0f} packets/s stored"
    )
    if ack_times:
        print(
            f"ack time: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {ack_times[-1] * 1000:.1f} ms "
            f"(mean {statistics.mean(ack_times) * 1000:.1f} ms)"
        )
    third = max(1, len(memory) // 3)
    print(
        f"listener RSS: start {memory[0]:.0f} MB, after first third {memory[third]:.0f} MB, "
        f"peak {max(memory):.0f} MB, end {memory[-1]:.0f} MB ({len(memory)} samples)"
    )
    print(f"listener: {out.strip().splitlines()[-1] if out.strip() else '(no summary)'}")
    if errors:
        print(f"client errors: {len(errors)} (first: {errors[0]})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (15 if args.quick else 120)
    with scratch_database("hj212") as connection:
        bench_core(5000 if args.quick else 50000)
        bench_receiver(connection, args.connections, seconds)


if __name__ == "__main__":
    main()
