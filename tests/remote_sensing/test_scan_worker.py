"""A real Celery worker against Redis: the scan's chord fans out over windows and merges.

The worker runs in a thread of this process (celery.contrib.testing), with its own
database connections to the test database, so the test is transactional=True (data
committed, visible to the worker) and switches eager mode off for itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from celery.contrib.testing.worker import start_worker

from config.celery_app import app
from supervision.cases.models import Lead
from supervision.remote_sensing import tasks
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayerWindow
from supervision.remote_sensing.services.layers import layer_register, layer_scan, layer_wait
from tests.factories import PlanFactory

from .conftest import plant, scene_for, three_units

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping for the start check

    old = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.control.purge()
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=True, shutdown_timeout=30):
            yield app
    finally:
        app.conf.task_always_eager = old


def test_worker_scans_a_layer_end_to_end(worker, tmp_path, settings):
    settings.SCAN_WINDOW_SIZE = 128
    settings.MEDIA_ROOT = str(tmp_path / "media")
    plan = PlanFactory(code="rs-worker")
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 120, 120, 16, 2)  # across the window corner at (128, 128): priority unit
    plant(data, 250, 250, 12, 4)  # across (256, 256): key unit
    plant(data, 400, 100, 10, 1)
    plant(data, 400, 500, 10, 2)  # general unit: nothing
    layer = layer_register(plan=plan, path=scene.write(tmp_path / "w.tif", data), kind="landcover").layer
    layer_scan(layer=layer)  # autocommit: on_commit sends the task to Redis at once
    layer = layer_wait(layer=layer, timeout_s=90, poll_s=0.2)
    assert layer.status == LayerStatus.DONE, layer.error
    assert layer.windows_total == 25 and layer.windows_done == 25
    assert layer.leads_created == 3
    assert sorted((lead.unit.unit_class, lead.change_class) for lead in Lead.objects.all()) == [
        ("key", 4),
        ("priority", 1),
        ("priority", 2),
    ]

    # Each idempotent task run again through the worker changes nothing.
    assert tasks.change_layer_window.delay(layer.pk, layer.scan_run, 0).get(timeout=30) is False
    assert tasks.change_layer_merge.delay(layer.pk, layer.scan_run).get(timeout=30) is None
    assert ChangeLayerWindow.objects.filter(layer=layer, status="done").count() == 25

    # A re-scan through the worker: done again, nothing new.
    layer_scan(layer=layer)
    layer = layer_wait(layer=layer, timeout_s=90, poll_s=0.2)
    assert layer.status == LayerStatus.DONE and layer.scan_run == 2
    assert (layer.leads_created, layer.leads_unchanged) == (0, 3)
    assert Lead.objects.count() == 3


def test_worker_failed_window_fails_the_layer_without_leads(worker, tmp_path, settings):
    settings.SCAN_WINDOW_SIZE = 128
    settings.MEDIA_ROOT = str(tmp_path / "media")
    plan = PlanFactory(code="rs-worker-bad")
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 20, 20, 10, 2)
    data[256:320, 256:320] = 7
    path = scene.write(tmp_path / "bad.tif", data)
    from .test_layers import _corrupt_middle_tile

    _corrupt_middle_tile(path)
    layer = layer_register(plan=plan, path=path, kind="landcover").layer
    layer_scan(layer=layer)
    layer = layer_wait(layer=layer, timeout_s=90, poll_s=0.2)
    assert layer.status == LayerStatus.FAILED and layer.error.startswith("window ")
    assert Lead.objects.count() == 0
