"""Never stuck: a real Celery worker (its own process, Redis) is SIGKILLed mid-scan.

Another worker takes over. A window whose message died unacknowledged with the first
worker would keep the chord waiting for the Redis visibility timeout (hours), so the
stall sweep (run here every second, as the beat would) requeues the layer once no window
has moved for SCAN_STALL_SECONDS; the new run finishes. Either way the layer ends
within SCAN_STALL_SECONDS plus a sweep of the last progress, with every lead exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from config.celery_app import app
from supervision.cases.models import Lead, LeadDetection
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import layer_register, layer_scan, layers_sweep
from tests.factories import PlanFactory

from .conftest import plant, scene_for, three_units

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
STALL_S = 3.0


def _worker(tmp_path: Path, name: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SCAN_STALL_SECONDS": str(STALL_S),
        "SCAN_WINDOW_SIZE": str(settings.SCAN_WINDOW_SIZE),
    }
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "-P", "solo", "-c", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h", "-l", "INFO"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def broker(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    import redis

    # Our own Redis database: forget messages (and unacked ones) of earlier runs.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    old = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield
    app.conf.task_always_eager = old


def _wait(layer: ChangeLayer, until, timeout: float, sweep: bool = False) -> ChangeLayer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        layer.refresh_from_db()
        if until(layer):
            return layer
        if sweep:
            layers_sweep(stall_seconds=STALL_S)
        time.sleep(0.5)
    raise AssertionError(f"layer #{layer.pk} still {layer.status} ({layer.windows_done}/{layer.windows_total})")


def test_killed_worker_mid_scan_the_layer_still_ends_with_every_lead_once(broker, tmp_path, settings):
    settings.SCAN_WINDOW_SIZE = 128
    settings.MEDIA_ROOT = str(tmp_path / "media")
    plan = PlanFactory(code="rs-kill")
    scene = scene_for("EPSG:32651", size=1536)
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    expected = 0
    for r in range(60, scene.height - 12, 64):  # 10x10 px = 10 000 m² in the priority unit,
        for c in range(60, scene.width // 3 - 12, 64):  # every other one cut by a window edge
            plant(data, r, c, 10, 1)
            expected += 1
    layer = layer_register(plan=plan, path=scene.write(tmp_path / "k.tif", data), kind="landcover").layer

    first = _worker(tmp_path, "first")
    second = None
    try:
        layer_scan(layer=layer)  # autocommit: the scan task goes to Redis at once
        layer = _wait(layer, lambda x: x.windows_done >= 10, timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        layer.refresh_from_db()
        assert layer.status == LayerStatus.RUNNING and layer.windows_done < layer.windows_total

        second = _worker(tmp_path, "second")
        layer = _wait(layer, lambda x: x.status in (LayerStatus.DONE, LayerStatus.FAILED), timeout=240, sweep=True)
        assert layer.status == LayerStatus.DONE, layer.error
        assert layer.heartbeat_at is not None
        assert Lead.objects.count() == expected == layer.leads_created + layer.leads_repeated
        assert LeadDetection.objects.count() == expected

        # A re-scan through the surviving worker adds nothing and loses nothing.
        layer_scan(layer=layer)
        layer = _wait(
            layer, lambda x: x.status == LayerStatus.DONE and x.finished_at and x.leads_unchanged == expected, 240
        )
        assert (layer.leads_created, layer.leads_unchanged) == (0, expected)
        assert Lead.objects.count() == expected and LeadDetection.objects.count() == expected
        # The chips came after the leads, each once.
        _wait(layer, lambda x: not Lead.objects.filter(evidence_status="pending").exists(), timeout=120)
        assert set(Lead.objects.values_list("evidence_status", flat=True)) == {"ready"}
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if second is not None:
            _stop(second)


def test_two_workers_a_window_fails_mid_scan_and_no_lead_of_the_run_survives(broker, tmp_path, settings):
    """Windows commit their leads side by side; one fails in the middle: the take-back waits for
    the windows still committing and none writes after it, whichever worker runs what."""
    import redis

    from .test_layers import _corrupt_middle_tile

    settings.SCAN_WINDOW_SIZE = 128
    settings.MEDIA_ROOT = str(tmp_path / "media")
    plan = PlanFactory(code="rs-two")
    scene = scene_for("EPSG:32651", size=512)
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    for r in range(20, scene.height - 12, 40):  # patches in the priority unit, in most windows
        for c in range(20, scene.width // 3 - 12, 40):
            plant(data, r, c, 10, 1)
    data[256:320, 256:320] = 7  # the tile read by the middle window: real compressed bytes to break
    path = scene.write(tmp_path / "two.tif", data)
    _corrupt_middle_tile(path)
    layer = layer_register(plan=plan, path=path, kind="landcover").layer
    workers = [_worker(tmp_path, "one"), _worker(tmp_path, "two")]
    try:
        layer_scan(layer=layer)
        layer = _wait(layer, lambda x: x.status in (LayerStatus.DONE, LayerStatus.FAILED), timeout=120)
        assert layer.status == LayerStatus.FAILED and layer.error.startswith("window "), layer.error
        # every message worked off (the window tasks after the failure see it and write nothing)
        r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        deadline = time.monotonic() + 60
        while (r.llen("celery") or r.hlen("unacked")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not r.llen("celery") and not r.hlen("unacked")
        assert Lead.objects.count() == 0 and LeadDetection.objects.count() == 0
        # ... though windows had committed leads before the failure: they were taken back
        from supervision.remote_sensing.models import ChangeLayerWindow

        committed = sum(
            len((result or {}).get("leads", {}).get("created", []))
            for result in ChangeLayerWindow.objects.filter(layer=layer, status="done").values_list("result", flat=True)
        )
        assert committed > 0
    finally:
        for proc in workers:
            _stop(proc)
