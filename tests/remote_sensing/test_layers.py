"""Registering change layers: every bad raster refused cleanly; a failure mid-scan leaves no lead."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from django.core.management import call_command

from supervision.cases.models import Lead
from supervision.errors import ServiceError
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer, ChangeLayerEvent, ScanRuleSet
from supervision.remote_sensing.services import layers as layer_services
from supervision.remote_sensing.services.layers import layer_register, layer_scan

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(plan):
    s = scene_for("EPSG:32651")
    three_units(plan, s)
    return s


def _data(scene):
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    for k in range(5):
        plant(data, 20 + 110 * k, 100, 10, 2)  # five class-2 patches in the priority unit
    return data


def _refused(plan, path, kind="landcover"):
    with pytest.raises(ServiceError) as info:
        layer_register(plan=plan, path=str(path), kind=kind)
    assert ChangeLayer.objects.count() == 0 and Lead.objects.count() == 0
    return info.value


def test_truncated_file_is_refused(plan, scene, tmp_path):
    path = scene.write(tmp_path / "t.tif", _data(scene))
    raw = open(path, "rb").read()
    (tmp_path / "cut.tif").write_bytes(raw[: len(raw) // 2])
    err = _refused(plan, tmp_path / "cut.tif")
    assert "cut.tif" in err.message and err.code == "raster_open"


def test_missing_file_and_garbage_are_refused(plan, scene, tmp_path):
    assert _refused(plan, tmp_path / "none.tif").code == "raster_open"
    (tmp_path / "junk.tif").write_bytes(b"not a tiff at all")
    assert _refused(plan, tmp_path / "junk.tif").code == "raster_open"


def test_raster_without_crs_is_refused(plan, scene, tmp_path):
    path = scene.write(tmp_path / "nocrs.tif", _data(scene), crs=None)
    err = _refused(plan, path)
    assert err.code == "raster_crs" and "coordinate reference system" in err.message


def test_wrong_dtype_is_refused(plan, scene, tmp_path):
    path = scene.write(tmp_path / "u16.tif", _data(scene), dtype="uint16")
    err = _refused(plan, path)
    assert err.code == "raster_dtype" and "uint16" in err.message
    fpath = scene.write(tmp_path / "f.tif", _data(scene).astype("float32"))
    assert _refused(plan, fpath).code == "raster_dtype"  # float is not a landcover class raster
    assert _refused(plan, path, kind="ndvi_diff").code == "raster_dtype"


def test_nodata_equal_to_a_change_class_is_refused(plan, scene, tmp_path):
    path = scene.write(tmp_path / "nd.tif", _data(scene), nodata=2)
    assert _refused(plan, path).code == "raster_nodata"


def test_raster_outside_the_plan_is_refused(plan, scene, tmp_path):
    from affine import Affine

    far = type(scene)(scene.crs, Affine(10, 0, 200_000, 0, -10, 3_000_000), scene.width, scene.height)
    path = far.write(tmp_path / "far.tif", _data(scene))
    err = _refused(plan, path)
    assert err.code == "raster_overlap" and "does not overlap" in err.message


def test_unknown_kind_and_threshold_on_landcover_are_refused(plan, scene, tmp_path):
    path = scene.write(tmp_path / "a.tif", _data(scene))
    _refused(plan, path, kind="radar")
    with pytest.raises(ServiceError, match="threshold"):
        layer_register(plan=plan, path=path, kind="landcover", threshold=-0.3)


def test_registration_records_checksum_info_and_default_rules(plan, scene, tmp_path):
    path = scene.write(tmp_path / "a.tif", _data(scene))
    reg = layer_register(plan=plan, path=path, kind="landcover", sensor="GF-1")
    layer = reg.layer
    assert reg.created and layer.status == LayerStatus.QUEUED and len(layer.checksum) == 64
    assert layer.info["width"] == 600 and "32651" in layer.info["crs_wkt"] or "UTM zone 51N" in layer.info["crs_wkt"]
    again = layer_register(plan=plan, path=path, kind="landcover")
    assert not again.created and again.layer.pk == layer.pk
    with pytest.raises(ServiceError, match="already registered"):
        layer_register(plan=plan, path=path, kind="ndvi_diff")
    rules = (
        ScanRuleSet.objects.get(plan=plan) if ScanRuleSet.objects.exists() else layer_services.scan_rules_get(plan=plan)
    )
    assert rules.classes_by_unit_class == {"priority": [1, 2, 3, 4], "key": [2, 4], "general": []}
    assert rules.min_area_m2 == 1000 and rules.ndvi_threshold == -0.2
    assert rules.legend["2"] == "新增建设"


def _corrupt_middle_tile(path: str) -> None:
    """Overwrite the compressed bytes of a tile in the middle window; header, first and last tiles stay readable."""
    with rasterio.open(path) as ds:
        offset = int(ds.get_tag_item("BLOCK_OFFSET_4_4", "TIFF", bidx=1))
        size = int(ds.get_tag_item("BLOCK_SIZE_4_4", "TIFF", bidx=1))
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xff" * size)


def test_a_failed_window_fails_the_layer_and_leaves_no_leads(
    plan, scene, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    data = _data(scene)
    data[256:320, 256:320] = 7  # make the middle tiles non-trivial so they compress to real data
    path = scene.write(tmp_path / "bad.tif", data)
    _corrupt_middle_tile(path)
    layer = layer_register(plan=plan, path=path, kind="landcover").layer
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    assert layer.status == LayerStatus.FAILED
    assert layer.error.startswith("window 4 (rows 256-512, cols 256-512)")
    assert Lead.objects.count() == 0
    assert list(ChangeLayerEvent.objects.filter(layer=layer).values_list("to_status", flat=True)) == [
        "queued",
        "running",
        "failed",
    ]


def test_a_failure_while_raising_leads_rolls_all_of_them_back(
    plan, scene, tmp_path, media, small_windows, django_capture_on_commit_callbacks, monkeypatch
):
    real = layer_services.leads_raise_bulk
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second batch: the first one was written already
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(layer_services, "LEAD_BATCH", 2)
    monkeypatch.setattr(layer_services, "leads_raise_bulk", flaky)
    layer = layer_register(plan=plan, path=scene.write(tmp_path / "a.tif", _data(scene)), kind="landcover").layer
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    assert layer.status == LayerStatus.FAILED and "database went away" in layer.error
    assert Lead.objects.count() == 0
    # The cause gone, scanning again (failed → queued) raises all five.
    monkeypatch.setattr(layer_services, "leads_raise_bulk", real)
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    assert layer.status == LayerStatus.DONE and Lead.objects.count() == 5


def test_file_changed_after_registration_fails_the_scan(
    plan, scene, tmp_path, media, django_capture_on_commit_callbacks
):
    path = scene.write(tmp_path / "a.tif", _data(scene))
    layer = layer_register(plan=plan, path=path, kind="landcover").layer
    scene.write(tmp_path / "a.tif", np.zeros((scene.height, scene.width), dtype=np.uint8))
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    assert layer.status == LayerStatus.FAILED and "changed since it was registered" in layer.error


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("cut", {}),
        ("nocrs", {"crs": None}),
        ("u16", {"dtype": "uint16"}),
    ],
)
def test_cli_exits_non_zero_with_the_reason(plan, scene, tmp_path, capsys, name, kwargs):
    path = scene.write(tmp_path / f"{name}.tif", _data(scene), **kwargs)
    if name == "cut":
        raw = open(path, "rb").read()
        open(path, "wb").write(raw[: len(raw) // 3])
    with pytest.raises(SystemExit) as exc:
        call_command("scan_change_layer", path, "--plan", plan.code, "--kind", "landcover", "--wait")
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert f"{name}.tif" in err
    assert ChangeLayer.objects.count() == 0 and Lead.objects.count() == 0


def test_cli_unknown_plan_exits_non_zero(plan, scene, tmp_path, capsys):
    path = scene.write(tmp_path / "a.tif", _data(scene))
    with pytest.raises(SystemExit) as exc:
        call_command("scan_change_layer", path, "--plan", "nope", "--kind", "landcover")
    assert exc.value.code == 1 and "No zoning plan with code 'nope'" in capsys.readouterr().err


def test_inbox_picks_up_a_geotiff_with_its_sidecar_once(
    plan, scene, tmp_path, media, settings, django_capture_on_commit_callbacks
):
    import json

    from supervision.remote_sensing.tasks import change_layer_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings.CHANGE_LAYER_INBOX = str(inbox)
    scene.write(inbox / "scene.tif", _data(scene))
    scene.write(inbox / "waiting.tif", _data(scene))  # no sidecar yet: left alone
    (inbox / "scene.json").write_text(
        json.dumps({"plan": plan.code, "kind": "landcover", "after_date": "2024-09-01", "sensor": "GF-1"}),
        encoding="utf-8",
    )
    scene.write(inbox / "bad.tif", _data(scene), crs=None)
    (inbox / "bad.json").write_text(json.dumps({"plan": plan.code, "kind": "landcover"}), encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        ids = change_layer_inbox.delay().get()
    assert len(ids) == 1
    layer = ChangeLayer.objects.get(pk=ids[0])
    assert layer.status == LayerStatus.DONE and layer.sensor == "GF-1" and str(layer.after_date) == "2024-09-01"
    assert Lead.objects.count() == 5
    assert (inbox / "waiting.tif").exists() and not (inbox / "scene.tif").exists()
    assert layer.path.startswith(str(inbox / "done")) and (inbox / "done" / "scene.json").exists()
    assert "coordinate reference system" in (inbox / "failed" / "bad.tif.error.txt").read_text(encoding="utf-8")
    # The beat runs again: nothing new to take.
    with django_capture_on_commit_callbacks(execute=True):
        assert change_layer_inbox.delay().get() == []
    assert ChangeLayer.objects.count() == 1


def test_page_upload_stores_before_and_after_imagery_like_the_api(plan, scene, tmp_path, media, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    from supervision.cases.services.users import user_upsert

    admin = user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0]
    rgb = np.random.default_rng(3).integers(0, 255, (scene.height, scene.width), dtype=np.uint8)
    before = scene.write(tmp_path / "before.tif", rgb)
    after = scene.write(tmp_path / "after.tif", 255 - rgb)

    def upload(name, data):
        files = {}
        for field, path in (
            ("file", scene.write(tmp_path / name, data)),
            ("before_image", before),
            ("after_image", after),
        ):
            with open(path, "rb") as f:
                files[field] = SimpleUploadedFile(f"{field}.tif", f.read(), content_type="image/tiff")
        return {"plan": plan.code, "kind": "landcover", **files}

    client.force_login(admin)
    response = client.post("/layers/", upload("page.tif", _data(scene)), HTTP_ACCEPT="application/json")
    assert response.status_code == 201, response.content
    page_layer = ChangeLayer.objects.get(pk=response.json()["id"])
    api = APIClient()
    api.force_authenticate(admin)
    other = _data(scene)
    plant(other, 500, 100, 10, 2)
    response = api.post("/api/v1/change-layers/", upload("api.tif", other), format="multipart")
    assert response.status_code == 201, response.content
    api_layer = ChangeLayer.objects.get(pk=response.json()["id"])
    for layer in (page_layer, api_layer):
        for stored, original in ((layer.before_image, before), (layer.after_image, after)):
            assert stored and open(stored, "rb").read() == open(original, "rb").read()
    # The same imagery is stored once, wherever it came from.
    assert (page_layer.before_image, page_layer.after_image) == (api_layer.before_image, api_layer.after_image)

    # Imagery that is no GeoTIFF is refused naming its field; nothing is registered.
    count = ChangeLayer.objects.count()
    bad = upload("bad.tif", _data(scene) * 0 + 2)
    bad["after_image"] = SimpleUploadedFile("after.tif", b"not a tiff", content_type="image/tiff")
    response = client.post("/layers/", bad, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "after_image" in response.json()["error"]
    assert ChangeLayer.objects.count() == count


def test_a_stale_layer_step_is_refused_as_a_conflict_not_a_crash(plan, scene, tmp_path):
    """Layer events record no actor: a lost race (the sweep, a second failing window) still reads as a conflict."""
    from supervision.errors import Conflict
    from supervision.remote_sensing.services.layers import _transition

    layer = layer_register(plan=plan, path=scene.write(tmp_path / "a.tif", _data(scene)), kind="landcover").layer
    stale = ChangeLayer.objects.get(pk=layer.pk)  # read while queued
    _transition(layer, LayerStatus.RUNNING)  # another process started it meanwhile
    with pytest.raises(Conflict) as info:
        _transition(stale, LayerStatus.FAILED)
    assert info.value.code == "conflict" and "Scanning" in info.value.message
    assert ChangeLayer.objects.get(pk=layer.pk).status == LayerStatus.RUNNING
