"""End-to-end change-layer scans for bench_scan.py: Django, PostGIS, Celery (eager or real workers).

Runs inside a scratch database (`_django.scratch_database`), so it never touches real
data. Each figure is a fresh scan: the leads of the previous run are deleted first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def units_to_db(plan, units) -> None:
    """The benchmark's UnitShapes (raster CRS) as ControlUnits of `plan` (STORAGE_SRID)."""
    import shapely
    import shapely.ops
    from _rasters import CRS
    from django.conf import settings
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
    from pyproj import Transformer
    from shapely.geometry import shape

    from tests.factories import DivisionFactory, UnitFactory

    division = DivisionFactory()
    tr = Transformer.from_crs(CRS, f"EPSG:{settings.STORAGE_SRID}", always_xy=True)
    digit = {"priority": 1, "key": 2, "general": 3}
    for u in units:
        g = shapely.ops.transform(tr.transform, shape(u.geometry))
        geos = GEOSGeometry(memoryview(shapely.to_wkb(g)), srid=settings.STORAGE_SRID)
        if geos.geom_type == "Polygon":
            geos = MultiPolygon(geos, srid=settings.STORAGE_SRID)
        UnitFactory(
            plan=plan,
            division=division,
            code=f"ZH220102{digit[u.unit_class]}{u.unit_id:04d}",
            unit_class=u.unit_class,
            geom=geos,
        )


def _fresh() -> None:
    from django.db import connection

    from supervision.cases.models import Lead
    from supervision.remote_sensing.models import ChangeLayer

    with connection.cursor() as cur:  # a scratch database: drop every lead and what hangs on it
        cur.execute(f"TRUNCATE {Lead._meta.db_table} CASCADE")
    ChangeLayer.objects.all().delete()


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def eager_scan(path: str, plan_code: str, *, chips: bool = True) -> dict:
    """`scan_change_layer --wait` in this process (eager Celery): leads committed, then chips.

    Without ``chips`` the chip tasks are not queued at all (the leads stay `pending`),
    which only the benchmark does, to time the leads alone in less time.
    """
    from django.core.management import call_command

    from config.celery_app import app
    from supervision.remote_sensing.models import ChangeLayer
    from supervision.remote_sensing.services import layers

    _fresh()
    assert app.conf.task_always_eager, "start with CELERY_TASK_ALWAYS_EAGER=true"
    queue = layers.lead_chips_queue
    if not chips:
        layers.lead_chips_queue = lambda *, lead_ids: 0
    try:
        c0, t0 = _cpu(), time.time()
        call_command("scan_change_layer", path, "--plan", plan_code, "--kind", "landcover", "--wait")
        t_end, c_end = time.time(), _cpu()
    finally:
        layers.lead_chips_queue = queue
    layer = ChangeLayer.objects.get()
    out = _figures(layer, t0, t_end if chips else None)
    # CPU of this process until the end (chips included when rendered)
    out["cpu_seconds"] = c_end - c0
    return out


def _figures(layer, t0: float, t_end: float | None) -> dict:
    from django.db.models import Max

    from supervision.cases.models import Lead
    from supervision.remote_sensing.models import ChangeLayerWindow

    assert layer.status == "done", layer.error
    leads_done = layer.finished_at.timestamp() - t0
    last_window = ChangeLayerWindow.objects.filter(layer=layer).aggregate(m=Max("finished_at"))["m"]
    return {
        "seconds_to_leads": leads_done,
        # the parallel part (queue to the last window's result) and the serial merge task after it
        "seconds_windows": last_window.timestamp() - t0,
        "seconds_merge_task": layer.finished_at.timestamp() - last_window.timestamp(),
        "seconds_chips": None if t_end is None else max(0.0, t_end - layer.finished_at.timestamp()),
        "leads": Lead.objects.count(),
        "patches_qualifying": layer.patches_qualifying,
        "patches_edge": layer.patches_edge,
        "merge_seconds": layer.merge_seconds,
        "windows": layer.windows_total,
    }


def _worker_env() -> dict:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "_worker_settings",  # benchmarks/: test settings, persistent connections
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "benchmarks"), str(ROOT), os.environ.get("PYTHONPATH")])
        ),
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SCAN_WINDOW_SIZE": str(settings.SCAN_WINDOW_SIZE),
    }


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    """CPU seconds (user + system) of one process so far."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_seconds() -> float:
    """CPU seconds of the PostgreSQL processes alive now (the workers' sessions stay open)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "postgres":
                    total += _process_seconds(int(d.name))
            except OSError:  # ended meanwhile
                continue
    return total


def worker_scan(path: str, plan_code: str, workers: int, tmp: Path, *, chips: bool = True) -> dict:
    """The same scan through `workers` real Celery worker processes (solo pool each) on Redis.

    Returns the figures plus the peak RSS (VmHWM) of each worker process. Without
    ``chips`` the workers stop once the leads are committed (chip tasks left in Redis
    are flushed by the next run).
    """
    import redis
    from django.conf import settings

    from config.celery_app import app
    from supervision.cases.models import Lead
    from supervision.remote_sensing.models import ChangeLayer
    from supervision.remote_sensing.services.layers import layer_register, layer_scan
    from supervision.zoning.models import ZoningPlan

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        raise SystemExit("the worker benchmarks need CELERY_BROKER_URL=redis://...")
    _fresh()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    procs = []
    for i in range(workers):
        log = open(tmp / f"worker{workers}-{i}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config.celery_app",
                    "worker",
                    "-P",
                    "solo",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"bench{i}@%h",
                    "-l",
                    "WARNING",
                ],
                cwd=ROOT,
                env=_worker_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    try:
        time.sleep(4)  # let the workers connect before the first task
        layer = layer_register(plan=ZoningPlan.objects.get(code=plan_code), path=path, kind="landcover").layer
        busy0, workers0, pg0 = _busy_seconds(), sum(_process_seconds(p.pid) for p in procs), _postgres_seconds()
        t0 = time.time()
        layer_scan(layer=layer)
        while True:
            layer.refresh_from_db()
            if layer.status in ("done", "failed"):
                break
            time.sleep(0.2)
        while chips and Lead.objects.filter(evidence_status="pending").exists():
            time.sleep(0.2)
        t_end = time.time() if chips else None
        peaks = [_status_mb(p.pid, "VmHWM") for p in procs]
        busy = _busy_seconds() - busy0
        in_workers = sum(_process_seconds(p.pid) for p in procs) - workers0
        in_postgres = _postgres_seconds() - pg0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    out = _figures(ChangeLayer.objects.get(), t0, t_end)
    out["peak_mb"] = peaks
    # CPU seconds spent by the workers, by PostgreSQL and by everything else (Redis, this
    # process polling, the system) until the leads were committed (and the chips, with chips)
    out["cpu_workers"] = in_workers
    out["cpu_postgres"] = in_postgres
    out["cpu_others"] = busy - in_workers - in_postgres
    return out
