"""Thin Celery tasks: take ids, call one service. JSON arguments only.

A scan is `change_layer_scan` → chord(group(`change_layer_window` per window),
`change_layer_merge`). Window and merge tasks are idempotent (upsert on the window
row, leads on their natural key, compare-and-set status), so they are acks_late: a
worker lost mid-window has the window redelivered instead of dropped.
"""

from __future__ import annotations

from celery import chord, group, shared_task

from .services import inbox, layers, monitoring


@shared_task(name="supervision.remote_sensing.tasks.change_layer_scan", acks_late=True)
def change_layer_scan(layer_id: int) -> int:
    """Start a queued layer's scan and fan its windows out; returns the number of windows."""
    started = layers.layer_scan_start(layer_id=layer_id)
    if started is None:
        return 0
    layer, run, indices = started
    header = group(change_layer_window.si(layer.pk, run, i) for i in indices)
    chord(header)(change_layer_merge.si(layer.pk, run))
    return len(indices)


@shared_task(name="supervision.remote_sensing.tasks.change_layer_window", acks_late=True)
def change_layer_window(layer_id: int, scan_run: int, index: int) -> bool:
    # Never raises for a bad window: the service fails the layer, and the chord callback
    # still runs and sees the failed layer (a raised error would leave the chord hanging).
    return layers.layer_window_scan(layer_id=layer_id, scan_run=scan_run, index=index)


@shared_task(name="supervision.remote_sensing.tasks.change_layer_merge", acks_late=True)
def change_layer_merge(layer_id: int, scan_run: int) -> dict | None:
    outcome = layers.layer_merge(layer_id=layer_id, scan_run=scan_run)
    if outcome is None:
        return None
    return {"created": outcome.created, "repeated": outcome.repeated, "unchanged": outcome.unchanged}


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
