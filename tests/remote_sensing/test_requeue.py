"""The sweep of queued-but-not-started scans: sends each stale layer once, leaves fresh ones alone."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import layer_register, layers_requeue

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db


@pytest.fixture
def stuck_layers(plan, tmp_path, media, small_windows):
    """Two layers registered and left queued: one sent an hour ago, one sent a minute ago."""
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    layers = []
    for name, value in (("old.tif", 2), ("fresh.tif", 4)):
        data = np.zeros((scene.height, scene.width), dtype=np.uint8)
        plant(data, 40, 40, 10, value)
        layers.append(layer_register(plan=plan, path=scene.write(tmp_path / name, data), kind="landcover").layer)
    old, fresh = layers
    now = timezone.now()
    ChangeLayer.objects.filter(pk=old.pk).update(task_sent_at=now - timedelta(hours=1))
    ChangeLayer.objects.filter(pk=fresh.pk).update(task_sent_at=now - timedelta(minutes=1))
    return old, fresh


def test_sweep_sends_stale_layers_once_and_spares_fresh_ones(stuck_layers, settings):
    settings.TASKS_REQUEUE_AFTER_MINUTES = 10
    old, fresh = stuck_layers
    out = StringIO()
    call_command("requeue_queued", stdout=out)
    assert out.getvalue().strip() == f"1 change layers sent again: {old.pk}"
    old.refresh_from_db()
    fresh.refresh_from_db()
    # Eager here: the task ran and scanned the layer; the fresh one waits for its own task.
    assert old.status == LayerStatus.DONE and old.leads_created == 1
    assert fresh.status == LayerStatus.QUEUED
    # A second run finds nothing stale.
    out = StringIO()
    call_command("requeue_queued", stdout=out)
    assert out.getvalue().strip() == "0 change layers sent again"


def test_sweep_claims_a_layer_before_sending_so_a_concurrent_run_skips_it(stuck_layers):
    old, _ = stuck_layers
    now = timezone.now()
    # Another sweep claimed it a moment ago (task_sent_at moved past this sweep's cutoff).
    ChangeLayer.objects.filter(pk=old.pk).update(task_sent_at=now)
    assert layers_requeue(older_than=timedelta(minutes=10), now=now) == []
    old.refresh_from_db()
    assert old.status == LayerStatus.QUEUED


def test_never_sent_layers_are_sent_and_done_ones_are_left(stuck_layers):
    old, fresh = stuck_layers
    ChangeLayer.objects.filter(pk=fresh.pk).update(task_sent_at=None)
    ChangeLayer.objects.filter(pk=old.pk).update(status=LayerStatus.FAILED)
    assert layers_requeue(older_than=timedelta(minutes=10)) == [fresh.pk]
    assert ChangeLayer.objects.get(pk=old.pk).status == LayerStatus.FAILED


def test_chips_lost_with_the_broker_are_sent_again_hourly_until_they_come(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """The layer finished while the broker was down: its leads wait for chips until the sweep."""
    from supervision.cases.models import Evidence, Lead
    from supervision.remote_sensing.services import layers as layer_services
    from supervision.remote_sensing.services.layers import layer_scan, layers_chips_requeue

    settings.SCAN_CHIPS_REQUEUE_MINUTES = 60
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 40, 40, 10, 2)
    plant(data, 300, 100, 10, 1)
    layer = layer_register(plan=plan, path=scene.write(tmp_path / "a.tif", data), kind="landcover").layer
    lost = []
    monkeypatch.setattr(layer_services, "task_send", lambda task, *args, **kw: lost.append(task.name))
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)  # the scan runs (eager); its chip task never leaves
    monkeypatch.undo()
    assert lost == ["supervision.remote_sensing.tasks.change_layer_chips"]
    layer.refresh_from_db()
    assert layer.status == LayerStatus.DONE and layer.leads_created == 2 and layer.chips_sent_at is not None
    assert set(Lead.objects.values_list("evidence_status", flat=True)) == {"pending"}
    # Beat's tick every 5 minutes for four hours while the broker stays down: the chips are
    # sent again once an hour (a slow queue is not flooded), never on every tick.
    start = layer.chips_sent_at
    monkeypatch.setattr(layer_services, "task_send", lambda task, *args, **kw: lost.append(args))
    sent_at = []
    for tick in range(1, 49):
        now = start + timedelta(minutes=5 * tick)
        if layers_chips_requeue(now=now) == [layer.pk]:
            sent_at.append(5 * tick)
    monkeypatch.undo()
    assert sent_at == [60, 120, 180, 240]
    assert set(Lead.objects.values_list("evidence_status", flat=True)) == {"pending"}
    # the broker back: the next due tick sends them, rendered (eager here), and then nothing more
    later = start + timedelta(minutes=305)
    assert layers_chips_requeue(now=later) == [layer.pk]
    assert set(Lead.objects.values_list("evidence_status", flat=True)) == {"ready"}
    assert Evidence.objects.count() == 2
    for tick in range(1, 25):
        assert layers_chips_requeue(now=later + timedelta(minutes=5 * tick)) == []
    out = StringIO()
    call_command("requeue_chips", "--older-than-minutes", "0", stdout=out)
    assert out.getvalue().strip() == "chips of 0 change layers sent again"
