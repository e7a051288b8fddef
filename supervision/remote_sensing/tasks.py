"""Thin Celery tasks: take ids, call one service. JSON arguments only.

A scan is `change_layer_scan` → chord(group(`change_layer_window` per window),
`change_layer_merge`), with `change_layer_scan_failed` as the chord's error callback;
after the merge commits, `change_layer_chips` render the evidence in parallel.

Every raster task is idempotent (upsert on the window row, leads on their natural key,
compare-and-set status), so all are `acks_late` with `reject_on_worker_lost`: a worker
killed mid-window has the window redelivered instead of dropped. Each has a soft time
limit (the service fails the layer naming the window) below its hard one; the Redis
`visibility_timeout` (settings) is above the longest hard limit. What no redelivery can
save (a message lost with its worker until the visibility timeout) the beat's
`change_layer_sweep` requeues or fails after `SCAN_STALL_SECONDS` without progress.
"""

from __future__ import annotations

from celery import chord, group, shared_task
from django.conf import settings

from .services import inbox, layers, monitoring

_RASTER = {"acks_late": True, "reject_on_worker_lost": True}


def window_task_id(layer_id: int, scan_run: int, index: int) -> str:
    """A window task's id names its window, so a chord error can say which one failed."""
    return f"change-layer{layer_id}-run{scan_run}-window{index}"


@shared_task(
    name="supervision.remote_sensing.tasks.change_layer_scan",
    soft_time_limit=settings.SCAN_START_SOFT_SECONDS,
    time_limit=settings.SCAN_START_SOFT_SECONDS + 30,
    **_RASTER,
)
def change_layer_scan(layer_id: int) -> int:
    """Start a queued layer's scan and fan its windows out; returns the number of windows."""
    started = layers.layer_scan_start(layer_id=layer_id)
    if started is None:
        return 0
    layer, run, indices = started
    header = group(
        change_layer_window.si(layer.pk, run, i).set(task_id=window_task_id(layer.pk, run, i)) for i in indices
    )
    body = change_layer_merge.si(layer.pk, run).on_error(change_layer_scan_failed.s(layer.pk, run))
    chord(header)(body)
    return len(indices)


@shared_task(
    name="supervision.remote_sensing.tasks.change_layer_window",
    soft_time_limit=settings.SCAN_WINDOW_SOFT_SECONDS,
    time_limit=settings.SCAN_WINDOW_SOFT_SECONDS + 60,
    **_RASTER,
)
def change_layer_window(layer_id: int, scan_run: int, index: int) -> bool:
    # Never raises for a bad window: the service fails the layer, and the chord callback
    # still runs and sees the failed layer (a raised error would leave the chord hanging).
    return layers.layer_window_scan(layer_id=layer_id, scan_run=scan_run, index=index)


@shared_task(
    name="supervision.remote_sensing.tasks.change_layer_merge",
    soft_time_limit=settings.SCAN_MERGE_SOFT_SECONDS,
    time_limit=settings.SCAN_MERGE_SOFT_SECONDS + 120,
    **_RASTER,
)
def change_layer_merge(layer_id: int, scan_run: int) -> dict | None:
    outcome = layers.layer_merge(layer_id=layer_id, scan_run=scan_run)
    if outcome is None:
        return None
    return {"created": outcome.created, "repeated": outcome.repeated, "unchanged": outcome.unchanged}


@shared_task(name="supervision.remote_sensing.tasks.change_layer_scan_failed")
def change_layer_scan_failed(request, exc, traceback, layer_id: int, scan_run: int) -> bool:
    """Chord error callback: a window or the merge task itself failed (hard time limit, crash)."""
    return layers.layer_window_failed(layer_id=layer_id, scan_run=scan_run, error=str(exc))


@shared_task(
    name="supervision.remote_sensing.tasks.change_layer_chips",
    soft_time_limit=settings.SCAN_CHIPS_SOFT_SECONDS,
    time_limit=settings.SCAN_CHIPS_SOFT_SECONDS + 60,
    **_RASTER,
)
def change_layer_chips(lead_ids: list[int]) -> dict:
    """Render the evidence chips of newly raised scan leads (after their commit)."""
    return layers.lead_chips_render(lead_ids=lead_ids)


@shared_task(name="supervision.remote_sensing.tasks.change_layer_chips_requeue", acks_late=True)
def change_layer_chips_requeue() -> list[int]:
    """Beat: send the chip tasks again for done layers whose leads still wait for their chips."""
    return layers.layers_chips_requeue()


@shared_task(name="supervision.remote_sensing.tasks.change_layer_sweep", acks_late=True)
def change_layer_sweep() -> list:
    """Beat: requeue or fail running layers with no progress for SCAN_STALL_SECONDS."""
    return layers.layers_sweep()


@shared_task(name="supervision.remote_sensing.tasks.change_layer_inbox", acks_late=True)
def change_layer_inbox() -> list[int]:
    """Beat: register and scan the GeoTIFFs (with their sidecar JSON) dropped into the inbox."""
    return [layer.pk for layer in inbox.inbox_collect()]


@shared_task(name="supervision.remote_sensing.tasks.monitoring_evaluate_all", acks_late=True)
def monitoring_evaluate_all() -> int:
    """Beat: evaluate the last complete period of every plan in force; returns leads raised."""
    return monitoring.monitoring_evaluate_all()


@shared_task(name="supervision.remote_sensing.tasks.change_layers_requeue", acks_late=True)
def change_layers_requeue() -> list[int]:
    """Beat: send the scan task again for layers left queued (broker down when it was sent)."""
    return layers.layers_requeue()
