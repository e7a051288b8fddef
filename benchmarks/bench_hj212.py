"""HJ 212 receiver: packets/s stored from many concurrent device connections, ack latency, memory.

    .venv/bin/python benchmarks/bench_hj212.py [--quick] [--connections N] [--duration 10m] [--loop asyncio]

1. The pure core alone: frame + CRC + parse of a 3-pollutant hourly packet (packets/s).
2. The load generator's own ceiling: `_hj212_load.py devices` (a process of its own) against
   `_hj212_load.py floor-server`, a receiver that checks and stores nothing.
3. In a scratch PostGIS database (bench_hj212): one target with N permitted devices
   (3 pollutants each), the real `manage.py hj212_listen` on a loopback port, and the
   generator's N device connections (500 by default) each sending hourly packets for the
   duration, every packet after the previous one's CN=9014 ack, as devices do. Reported:
   rows stored and packets/s (counted in the table, not by the clients), p50/p99 time
   from send to ack at the device, CPU per 1,000 packets of the listener, its PostgreSQL
   sessions and the generator, the listener's resident memory sampled every second
   (start, middle, end, peak; per minute on runs over a minute) and its rejections.
The generator runs on the same 2 cores as the receiver and PostgreSQL, so figures are low bounds.
Goal (issue 16): ≥ 2,000 packets/s stored from ≥ 500 connections, memory flat over 10 minutes, p99 ack reported.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from _django import ROOT, scratch_database  # noqa: E402

LOAD = Path(__file__).resolve().parent / "_hj212_load.py"

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_listening(cmd: list[str], env: dict) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"{cmd[2]} did not start: {line!r}")
    return proc, int(line.rsplit(":", 1)[1])


def load_run(port: int, n_conn: int, seconds: float, out: Path) -> subprocess.Popen:
    """The load generator in a process of its own (it must not share the listener's GIL)."""
    cmd = [sys.executable, str(LOAD), "devices", "--port", str(port), "--connections", str(n_conn)]
    return subprocess.Popen([*cmd, "--seconds", str(seconds), "--out", str(out)], cwd=ROOT)


def bench_ceiling(n_conn: int, seconds: float, tmp: Path) -> float:
    """The generator against a receiver that stores nothing and checks nothing: its own ceiling."""
    server, port = start_listening([sys.executable, str(LOAD), "floor-server"], dict(os.environ))
    try:
        load = load_run(port, n_conn, seconds, tmp / "ceiling.json")
        load.wait()
    finally:
        server.terminate()
        server.wait()
    result = json.loads((tmp / "ceiling.json").read_text())
    rate = result["acked"] / result["seconds"]
    print(
        f"generator ceiling: {n_conn} connections against a receiver that stores nothing: {rate:,.0f} packets/s "
        f"acked (generator CPU {result['cpu_seconds'] / result['seconds']:.0%} of a core; load average {load_average()})"
    )
    return rate


def bench_receiver(connection, n_conn: int, seconds: float, loop: str, tmp: Path) -> None:
    from django.contrib.gis.geos import MultiPolygon, Point, Polygon

    from supervision.cases.models import EnforcementTarget
    from supervision.cases.validators import credit_code_check_char
    from supervision.permitting.models import PermitLimit
    from supervision.remote_sensing.models import CemsValue
    from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

    # Units go into a draft (an effective plan's content is immutable), then the plan takes effect.
    plan = ZoningPlan.objects.create(code="bench", name="bench", region_adcode="220100", status="draft")
    division = AdministrativeDivision.objects.create(adcode="220102", name="南关区", level="county")
    ring = ((125.3, 43.8), (125.4, 43.8), (125.4, 43.9), (125.3, 43.9), (125.3, 43.8))
    unit = ControlUnit.objects.create(
        plan=plan, division=division, code="ZH22010210001", name="u", unit_class="key", geom=MultiPolygon(Polygon(ring))
    )
    ZoningPlan.objects.filter(pk=plan.pk).update(status="effective")
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
    listen = [sys.executable, "manage.py", "hj212_listen", "--host", "127.0.0.1", "--port", "0", "--loop", loop]
    proc, port = start_listening(listen, env)
    print(f"listener pid {proc.pid} on port {port}", flush=True)
    memory: list[tuple[float, float]] = []  # (seconds since the load started, listener RSS MB)
    try:
        memory.append((0.0, rss_mb(proc.pid)))
        listener_cpu0 = cpu_seconds(proc.pid)
        load = load_run(port, n_conn, seconds, tmp / "load.json")
        t0 = time.perf_counter()
        backends: dict[int, float] = {}
        while load.poll() is None:
            time.sleep(1)
            memory.append((time.perf_counter() - t0, rss_mb(proc.pid)))
            if len(memory) == 3:
                # The listener's database sessions (its writer threads), once they are open.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    backends = {pid: cpu_seconds(pid) for (pid,) in cursor.fetchall()}
        elapsed = time.perf_counter() - t0
        listener_cpu = cpu_seconds(proc.pid) - listener_cpu0
        backend_cpu = sum(cpu_seconds(pid) - cpu0 for pid, cpu0 in backends.items())
        load_avg = load_average()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=120)
    result = json.loads((tmp / "load.json").read_text())
    rows = CemsValue.objects.count()
    packets = rows // len(POLLUTANTS)
    stored_rate = packets / result["seconds"]
    print(
        f"receiver ({loop}): {n_conn} connections for {result['seconds']:.1f} s: sent {result['sent']}, "
        f"acked {result['acked']}, stored {packets} packets ({rows} rows) = {stored_rate:,.0f} packets/s stored"
    )
    print(
        f"ack time (send to ack, at the device): p50 {result['ack_p50_ms']:.1f} ms, "
        f"p99 {result['ack_p99_ms']:.1f} ms, max {result['ack_max_ms']:.1f} ms"
    )
    per_k = 1000 / max(packets, 1)
    print(
        f"CPU per 1,000 packets stored: listener {listener_cpu * per_k * 1000:.0f} ms "
        f"({listener_cpu / elapsed:.0%} of a core), its PostgreSQL sessions {backend_cpu * per_k * 1000:.0f} ms "
        f"({backend_cpu / elapsed:.0%}), generator {result['cpu_seconds'] * per_k * 1000:.0f} ms "
        f"({result['cpu_seconds'] / elapsed:.0%}); load average at the end {load_avg}"
    )
    middle = memory[len(memory) // 2]
    print(
        f"listener RSS: start {memory[0][1]:.0f} MB, middle ({middle[0]:.0f} s) {middle[1]:.0f} MB, "
        f"end {memory[-1][1]:.0f} MB, peak {max(m for _, m in memory):.0f} MB ({len(memory)} samples)"
    )
    if len(result["minutes"]) > 1:
        rss_by_minute = {int(at // 60): mb for at, mb in memory}
        for minute in result["minutes"]:
            length = min(60.0, seconds - 60 * (minute["minute"] - 1))  # the last one may be short
            print(
                f"  minute {minute['minute']:>2} ({length:.0f} s): {minute['acked'] / length:,.0f} packets/s acked, "
                f"ack p99 {minute['ack_p99_ms']:.0f} ms, listener RSS "
                f"{rss_by_minute.get(minute['minute'] - 1, memory[-1][1]):.0f} MB"
            )
    print(f"listener: {out.strip().splitlines()[-1] if out.strip() else '(no summary)'}")
    if result["errors"]:
        print(f"generator errors: {result['errors']} (first: {result['first_error']})")
    if result["acked"] > packets:
        print(f"ERROR: {result['acked'] - packets} packets acknowledged but not stored")


def duration_seconds(text: str) -> float:
    """'600', '600s', '10m' → seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument(
        "--duration",
        "--seconds",
        type=duration_seconds,
        default=None,
        help="how long the devices send: 600, 600s or 10m (default 15 s with --quick, else 60 s)",
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="the listener's event loop")
    args = parser.parse_args()
    seconds = args.duration or (15 if args.quick else 60)
    print(f"load average at the start: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, scratch_database("hj212") as connection:
        bench_core(5000 if args.quick else 50000)
        bench_ceiling(args.connections, 5 if args.quick else 10, Path(tmp))
        bench_receiver(connection, args.connections, seconds, args.loop, Path(tmp))


if __name__ == "__main__":
    main()
