"""Scans at scale: windows finish their own patches, leads in bulk, chips afterwards, the stall sweep."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from supervision.cases.choices import EvidenceStatus
from supervision.cases.models import Evidence, Lead, LeadDetection
from supervision.cases.services.users import user_upsert
from supervision.remote_sensing import raster as rs
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import (
    layer_register,
    layer_scan,
    layer_scan_start,
    layer_window_failed,
    layers_sweep,
    lead_chips_render,
)
from tests.factories import PlanFactory

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db


def _data(scene):
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 20, 20, 10, 1)  # inside window 0: finished by its window
    plant(data, 60, 60, 12, 2)  # inside window 0
    plant(data, 250, 100, 12, 1)  # across the row edge at 256: joined by the merge
    plant(data, 250, 250, 12, 2)  # across the window corner (256, 256): joined by the merge
    plant(data, 400, 300, 10, 4)  # inside a window of the key unit
    return data


def _scan(plan, path, capture, **kwargs):
    layer = layer_register(plan=plan, path=str(path), kind="landcover", **kwargs).layer
    with capture(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    return layer


def test_windows_finish_inner_patches_and_the_merge_joins_only_edge_ones(tmp_path):
    """window_finish + patches_merge over edge parts == the one-process scan, pair by pair."""
    scene = scene_for("EPSG:32651")
    data = _data(scene)
    path = scene.write(tmp_path / "a.tif", data)
    units = [
        rs.UnitShape(1, "priority", dict(scene.pixel_box(0, 0, 600, 200).__geo_interface__)),
        rs.UnitShape(2, "key", dict(scene.pixel_box(0, 200, 600, 400).__geo_interface__)),
    ]
    rules = rs.ScanRules(kind="landcover")
    info = rs.raster_inspect(path, kind="landcover")
    merged_ref, shapes_ref = rs.scan_raster(path, rules=rules, units=units, window_size=256)
    edge_results, finished = [], []
    for w in rs.windows_plan(info, window_size=256):
        edge, done = rs.window_finish(path, window=w, rules=rules, units=units, info=info)
        edge_results.append(edge)
        finished += done
    merged = rs.patches_merge(edge_results, info=info, rules=rules)
    assert {p.patch_key for p in finished} == {"1-20-20", "2-60-60", "4-400-300"}
    assert {p.patch_key for p in merged.patches} == {"1-250-100", "2-250-250"}  # only edge patches
    assert merged.patches_total == merged_ref.patches_total
    got = {(p.patch_key, uid): (p.units[uid], p.geometries[uid]) for p in finished for uid in p.units}
    edge_shapes = rs.patches_vectorise(
        path, [(p, units[uid - 1]) for p in merged.patches for uid in p.units], rules=rules, info=info
    )
    got.update({(s.patch_key, s.unit_id): ((s.pixels, s.area_m2), s.geometry) for s in edge_shapes})
    assert set(got) == {(s.patch_key, s.unit_id) for s in shapes_ref}
    for s in shapes_ref:
        (pixels, area), _geom = got[(s.patch_key, s.unit_id)]
        assert pixels == s.pixels and area == pytest.approx(s.area_m2)


def test_merge_counts_edge_patches_and_leads_are_bulk_raised_once(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    path = scene.write(tmp_path / "a.tif", _data(scene))
    layer = _scan(plan, path, django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    assert (layer.patches_qualifying, layer.patches_edge, layer.leads_created) == (5, 2, 5)
    assert layer.merge_seconds is not None
    assert Lead.objects.count() == 5 and LeadDetection.objects.count() == 5
    # every lead history starts with its creation event, as with lead_raise
    assert all(lead.events.filter(from_status="", to_status="new").count() == 1 for lead in Lead.objects.all())
    # Re-scan: nothing new, every observation already recorded.
    layer = _scan(plan, path, django_capture_on_commit_callbacks)
    assert (layer.leads_created, layer.leads_repeated, layer.leads_unchanged) == (0, 0, 5)
    assert Lead.objects.count() == 5 and Evidence.objects.count() == 5


def _scan_holding_chips(plan, tmp_path, scene, capture):
    """A scan run step by step as the workers would; the merge's commit callbacks (the chip
    tasks) are captured, not run. Returns the layer and the captured callbacks."""
    from supervision.remote_sensing.services.layers import layer_merge

    layer = _running_layer(plan, tmp_path, scene)
    _windows_run(layer)
    with capture(execute=False) as callbacks:
        layer_merge(layer_id=layer.pk, scan_run=layer.scan_run)
    layer.refresh_from_db()
    return layer, callbacks


def test_chips_come_after_the_leads_and_the_api_says_so(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    layer, chips = _scan_holding_chips(plan, tmp_path, scene, django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE and layer.leads_created == 5
    # The leads are committed with no picture yet: pending, and they say so.
    assert set(Lead.objects.values_list("evidence_status", flat=True)) == {EvidenceStatus.PENDING}
    assert Evidence.objects.count() == 0
    client = APIClient()
    client.force_authenticate(user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0])
    lead_id = Lead.objects.order_by("pk").values_list("pk", flat=True)[0]
    assert client.get(f"/api/v1/leads/{lead_id}/").json()["evidence_status"] == "pending"
    # The chip task (eager here) once the merge has committed: chips attached, status ready.
    for callback in chips:
        callback()
    assert Evidence.objects.count() == 5
    assert client.get(f"/api/v1/leads/{lead_id}/").json()["evidence_status"] == "ready"
    # Again (a redelivered chip task): nothing attached twice.
    ids = list(Lead.objects.values_list("pk", flat=True))
    assert lead_chips_render(lead_ids=ids) == {"ready": 0, "failed": 0}
    assert Evidence.objects.count() == 5


def test_a_chip_that_cannot_be_drawn_fails_its_evidence_not_the_lead(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    _layer, chips = _scan_holding_chips(plan, tmp_path, scene, django_capture_on_commit_callbacks)
    (tmp_path / "a.tif").unlink()
    for callback in chips:
        callback()
    assert set(Lead.objects.values_list("evidence_status", flat=True)) == {EvidenceStatus.FAILED}
    lead = Lead.objects.order_by("pk").first()
    assert lead.evidence["evidence_error"] and lead.status == "new"


def _running_layer(plan, tmp_path, scene):
    layer = layer_register(plan=plan, path=scene.write(tmp_path / "a.tif", _data(scene)), kind="landcover").layer
    layer_scan_start(layer_id=layer.pk)  # running, windows planned, no window task ever runs
    layer.refresh_from_db()
    return layer


def test_sweep_requeues_a_stalled_layer_which_then_finishes(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    layer = _running_layer(plan, tmp_path, scene)
    assert layers_sweep(stall_seconds=60) == []  # fresh heartbeat: left alone
    ChangeLayer.objects.filter(pk=layer.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=120))
    layer.refresh_from_db()
    assert layer.is_stalled is False  # SCAN_STALL_SECONDS is 900 by default
    with django_capture_on_commit_callbacks(execute=True):
        assert layers_sweep(stall_seconds=60) == [(layer.pk, "requeued")]
    layer.refresh_from_db()
    assert layer.status == LayerStatus.DONE and layer.requeues == 1 and layer.scan_run == 2
    assert layer.leads_created == 5 and Lead.objects.count() == 5
    events = list(layer.events.values_list("to_status", "comment"))
    assert ("queued", "stalled: no progress for 60 s (windows 0, 1, 2, 3, 4 of 9 unfinished); requeued (1 of 2)") in [
        (s, c) for s, c in events
    ]


def test_sweep_fails_a_layer_stalled_too_often_and_the_page_says_why(
    plan, tmp_path, media, small_windows, settings, client
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    layer = _running_layer(plan, tmp_path, scene)
    settings.SCAN_STALL_SECONDS = 30
    ChangeLayer.objects.filter(pk=layer.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=40))
    layer.refresh_from_db()
    assert layer.state == "stalled" and layer.state_detail.startswith("no progress since")
    call_command("sweep_change_layers", "--max-requeues", "0")
    call_command("sweep_change_layers", "--max-requeues", "0")  # twice: nothing more happens
    layer.refresh_from_db()
    assert layer.status == LayerStatus.FAILED and layer.state == "failed"
    assert layer.error.startswith("stalled: no progress for 30 s (windows 0, 1, 2, 3, 4 of 9 unfinished)")
    assert layer.error.endswith("gave up after 0 requeues")
    assert Lead.objects.count() == 0
    client.force_login(user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0])
    page = client.get(reverse("web:layer-list")).content.decode()
    assert "gave up after 0 requeues" in page


def test_chord_error_callback_fails_the_layer_naming_the_window(plan, tmp_path, media, small_windows):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    layer = _running_layer(plan, tmp_path, scene)
    error = f"Dependency change-layer{layer.pk}-run{layer.scan_run}-window4 raised TimeLimitExceeded(660)"
    assert layer_window_failed(layer_id=layer.pk, scan_run=layer.scan_run, error=error) is True
    layer.refresh_from_db()
    assert layer.status == LayerStatus.FAILED
    assert layer.error.startswith("window 4 (rows 256-512, cols 256-512): the task failed")
    assert "TimeLimitExceeded" in layer.error
    # again (a second errback): already failed, nothing changes
    assert layer_window_failed(layer_id=layer.pk, scan_run=layer.scan_run, error=error) is False


def test_a_busy_queue_is_not_a_stall_but_a_window_that_died_is(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    from supervision.remote_sensing.models import ChangeLayerWindow

    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    waiting = _running_layer(plan, tmp_path, scene)
    other_plan = PlanFactory(code="other-plan")
    three_units(other_plan, scene, prefix="ZH22020")
    busy = layer_register(
        plan=other_plan, path=scene.write(tmp_path / "b.tif", _data(scene) * 0), kind="landcover"
    ).layer
    layer_scan_start(layer_id=busy.pk)  # another plan's layer the workers are busy with (fresh heartbeat)
    assert ChangeLayer.objects.get(pk=busy.pk).status == LayerStatus.RUNNING
    old = timezone.now() - timedelta(seconds=120)
    ChangeLayer.objects.filter(pk=waiting.pk).update(heartbeat_at=old)
    # Its windows never started: they wait in the queue behind the busy layer.
    assert layers_sweep(stall_seconds=60) == []
    # One of them started two minutes ago and never finished: its worker died.
    ChangeLayerWindow.objects.filter(layer=waiting, index=3).update(attempts=1, started_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert layers_sweep(stall_seconds=60) == [(waiting.pk, "requeued")]
    waiting.refresh_from_db()
    assert waiting.status == LayerStatus.DONE and waiting.leads_created == 5


def _later(scene):
    """The same five patches seen again by a later layer (a different file: one more stray pixel)."""
    data = _data(scene)
    data[500, 500] = 3
    return data


def _windows_run(layer, indices=None):
    """Run a running layer's window tasks in this process (as a worker would), some or all."""
    from supervision.remote_sensing.models import ChangeLayerWindow
    from supervision.remote_sensing.services.layers import layer_window_scan

    rows = ChangeLayerWindow.objects.filter(layer=layer, scan_run=layer.scan_run).order_by("index")
    for index in rows.values_list("index", flat=True):
        if indices is None or index in indices:
            assert layer_window_scan(layer_id=layer.pk, scan_run=layer.scan_run, index=index) is True


def test_windows_commit_their_leads_and_a_failed_run_takes_them_back_except_those_acted_on(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    from supervision.cases.models import LeadEvent
    from supervision.cases.services.leads import lead_attach, lead_dispatch
    from supervision.remote_sensing.services.layers import layer_fail

    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    layer = _running_layer(plan, tmp_path, scene)
    _windows_run(layer, indices={0, 4})  # the two patches inside window 0, the key unit's inside window 4
    assert Lead.objects.count() == 3 and LeadEvent.objects.count() == 3
    # visible from the window's commit on, with their history and a chip still to come
    first, second, third = Lead.objects.order_by("change_class", "pk")  # classes 1, 2 (window 0), 4
    assert first.status == "new" and first.evidence_status == EvidenceStatus.PENDING
    admin = user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0]
    lead_dispatch(lead=first, actor=admin, days=5)  # somebody acts on one before the run fails
    lead_attach(lead=third, actor=admin, files=[_png("site.png")], caption="现场照片")  # a photo on another (an event)
    assert layer_fail(layer=layer, error="window 3: the disk went away") is True
    layer.refresh_from_db()
    assert layer.status == LayerStatus.FAILED
    assert layer.error == "window 3: the disk went away (2 of its leads were acted on meanwhile and are kept)"
    # the untouched lead is gone with its detection and creation event; the other two stay
    assert sorted(Lead.objects.values_list("pk", flat=True)) == sorted([first.pk, third.pk])
    assert not LeadDetection.objects.filter(lead_id=second.pk).exists()
    assert not LeadEvent.objects.filter(lead_id=second.pk).exists()
    # a re-scan raises the rest once: the kept leads' observations are already recorded
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    assert layer.status == LayerStatus.DONE, layer.error
    assert (layer.leads_created, layer.leads_repeated, layer.leads_unchanged) == (3, 0, 2)
    assert Lead.objects.count() == 5 and LeadDetection.objects.count() == 5


def _png(name: str):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def test_a_failed_later_layer_takes_back_the_detections_it_added(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    from supervision.remote_sensing.services.layers import layer_fail

    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    first = _scan(plan, scene.write(tmp_path / "a.tif", _data(scene)), django_capture_on_commit_callbacks)
    assert first.leads_created == 5
    before = dict(Lead.objects.values_list("pk", "last_detected_at"))
    later = layer_register(
        plan=plan,
        path=scene.write(tmp_path / "later.tif", _later(scene)),
        kind="landcover",
        after_date=date(2031, 5, 1),
    ).layer
    layer_scan_start(layer_id=later.pk)
    later.refresh_from_db()
    _windows_run(later, indices={0})
    assert sorted(Lead.objects.values_list("detections", flat=True)) == [1, 1, 1, 2, 2]
    assert layer_fail(layer=later, error="merge: out of memory") is True
    assert Lead.objects.count() == 5 and LeadDetection.objects.count() == 5
    assert set(Lead.objects.values_list("detections", flat=True)) == {1}
    assert dict(Lead.objects.values_list("pk", "last_detected_at")) == before


def test_one_running_layer_per_plan_the_next_starts_when_it_ends(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    from supervision.remote_sensing.services.layers import layer_merge

    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    first = _running_layer(plan, tmp_path, scene)
    later = layer_register(
        plan=plan,
        path=scene.write(tmp_path / "later.tif", _later(scene)),
        kind="landcover",
        after_date=date(2031, 5, 1),
    ).layer
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=later)  # its task runs now (eager) but must not start beside the first
    later.refresh_from_db()
    assert later.status == LayerStatus.QUEUED and later.scan_run == 0
    assert (
        later.state == "waiting"
        and later.state_detail == f"waits for change layer #{first.pk} of the same plan or file"
    )
    client = APIClient()
    client.force_authenticate(user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0])
    shown = client.get(f"/api/v1/change-layers/{later.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (shown["state"], shown["state_detail"]) == (
        "waiting",
        f"等待同一规划或同一文件的变化图层 #{first.pk} 扫描完成",
    )
    _windows_run(first)
    with django_capture_on_commit_callbacks(execute=True):
        layer_merge(layer_id=first.pk, scan_run=first.scan_run)  # done: the waiting layer is sent
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == LayerStatus.DONE and first.leads_created == 5
    # the later layer saw the same five patches: one more detection on each open lead
    assert later.status == LayerStatus.DONE, later.error
    assert (later.leads_created, later.leads_repeated, later.leads_unchanged) == (0, 5, 0)
    assert Lead.objects.count() == 5 and set(Lead.objects.values_list("detections", flat=True)) == {2}


def test_a_scan_lead_reads_in_the_readers_language(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks, client
):
    from django.utils import translation

    scene = scene_for("EPSG:32651")
    units = three_units(plan, scene)
    _scan(plan, scene.write(tmp_path / "a.tif", _data(scene)), django_capture_on_commit_callbacks)
    lead = Lead.objects.get(unit=units["key"], change_class=4)  # the excavation patch in the key unit
    code, area = units["key"].code, f"{lead.area_m2:,.0f}"
    # stored in Chinese, whoever started the scan; Chinese readers see it as stored
    assert lead.title.startswith(units["key"].name) and "平方米" in lead.title
    with translation.override("zh-hans"):
        assert (lead.display_title, lead.display_reason) == (lead.title, lead.reason)
    with translation.override("en"):
        assert lead.display_title == f"Excavation / bare soil patch in {code} ({area} m²)"
        assert lead.display_reason.startswith(
            f"Change layer #{lead.evidence['layer_id']} (a.tif) found a patch of excavation / bare soil in "
        )
        assert f"Key control unit {code}: {area} m² inside the unit, at least 1,000 m²" in lead.display_reason
    user = user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0]
    client.force_login(user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("web:lead-detail", args=[lead.pk])).content.decode()
    assert f"Excavation / bare soil patch in {code} ({area} m²)" in page and "平方米" not in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("web:lead-detail", args=[lead.pk])).content.decode()
    assert lead.title in page and lead.reason in page
    # the API keeps the stored text and adds the reader's
    api = APIClient()
    api.force_authenticate(user)
    body = api.get(f"/api/v1/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (body["title"], body["display_title"]) == (lead.title, f"Excavation / bare soil patch in {code} ({area} m²)")
    assert body["events"][0]["display_comment"] == body["display_reason"] != lead.reason
    body = api.get(f"/api/v1/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (body["display_title"], body["display_reason"]) == (lead.title, lead.reason)
