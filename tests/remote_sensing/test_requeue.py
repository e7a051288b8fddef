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
