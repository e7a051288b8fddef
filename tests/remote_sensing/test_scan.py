"""The scan end to end (eager Celery, PostGIS): planted patches → leads, idempotence, repeats."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from supervision.cases.models import Evidence, Lead, LeadDetection
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import layer_register, layer_scan, scan_rules_update

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db


def _scan(path, plan, kind="landcover", capture=None, **fields):
    reg = layer_register(plan=plan, path=str(path), kind=kind, **fields)
    with capture(execute=True):
        layer_scan(layer=reg.layer)
    reg.layer.refresh_from_db()
    return reg.layer


def _every_class_everywhere(scene):
    """Classes 1-4 as 10x10 px patches (10 000 m² at 10 m) in each unit column."""
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    for u in range(3):
        for k, c in enumerate((1, 2, 3, 4)):
            plant(data, 40 + 100 * k, 50 + 200 * u, 10, c)
    return data


def _pairs(plan):
    return sorted((lead.unit.unit_class, lead.change_class) for lead in Lead.objects.filter(plan=plan))


@pytest.mark.parametrize("crs", ["EPSG:32651", "EPSG:4551", "EPSG:4326"])
def test_planted_patches_raise_leads_by_unit_class_and_change_class(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks, crs
):
    """Priority units: 1, 2, 3, 4; key units: 2, 4; general: none — in UTM, CGCS2000 GK and lon/lat rasters."""
    scene = scene_for(crs)
    three_units(plan, scene)
    path = scene.write(tmp_path / "change.tif", _every_class_everywhere(scene))
    layer = _scan(path, plan, capture=django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    assert _pairs(plan) == [("key", 2), ("key", 4), ("priority", 1), ("priority", 2), ("priority", 3), ("priority", 4)]
    assert layer.leads_created == 6 and layer.patches_qualifying == 6
    assert layer.windows_total == 9 and layer.windows_done == 9 and layer.progress == 100
    for lead in Lead.objects.filter(plan=plan):
        assert lead.source == "remote_sensing"
        assert lead.geom.srid == 4490 and lead.geom.geom_type == "MultiPolygon"
        assert lead.unit.geom.contains(lead.geom.point_on_surface)
        assert lead.area_m2 == pytest.approx(10_000, rel=0.25 if crs == "EPSG:4326" else 0.01)
        assert lead.evidence["patch_key"] and lead.evidence["unit_code"] == lead.unit.code
        assert lead.reason and lead.layer_ref == f"change_layer:{layer.pk}"
        chip = Evidence.objects.get(lead=lead)
        assert chip.content_type == "image/png" and chip.file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_area_threshold_and_patch_cut_by_window_edges(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    units = three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 20, 20, 3, 1)  # 900 m² in a priority unit: below 1000 m²
    plant(data, 60, 20, 4, 1)  # 1600 m²: qualifies
    # A class-2 patch across the window corner at (256, 256), inside the key unit; each
    # quarter alone is 36 px = 3600 m² and the whole 144 px.
    plant(data, 250, 250, 12, 2)
    # A class-4 L-shape whose pieces touch only diagonally across the window edge (8-connectivity).
    data[500:511, 250:256] = 4
    data[511:520, 256:262] = 4
    path = scene.write(tmp_path / "edges.tif", data)
    layer = _scan(path, plan, capture=django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    leads = {(lead.unit.unit_class, lead.change_class): lead for lead in Lead.objects.filter(plan=plan)}
    assert set(leads) == {("priority", 1), ("key", 2), ("key", 4)}
    assert leads[("priority", 1)].area_m2 == pytest.approx(1600, rel=0.01)
    assert leads[("key", 2)].area_m2 == pytest.approx(14_400, rel=0.01)
    assert leads[("key", 4)].area_m2 == pytest.approx((66 + 54) * 100, rel=0.01)
    assert Lead.objects.filter(unit=units["key"]).count() == 2  # one lead per patch, not per window piece


def test_patch_over_two_units_raises_a_lead_per_qualifying_unit(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    units = three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    data[100:120, 190:210] = 2  # 10 columns in the priority unit, 10 in the key unit
    data[300:320, 390:410] = 4  # key / general: only the key part raises a lead
    path = scene.write(tmp_path / "split.tif", data)
    layer = _scan(path, plan, capture=django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    got = sorted((lead.unit.code, lead.change_class, round(lead.area_m2, -2)) for lead in Lead.objects.all())
    assert got == sorted(
        [(units["priority"].code, 2, 20_000), (units["key"].code, 2, 20_000), (units["key"].code, 4, 20_000)]
    )


def test_nodata_is_ignored_and_valid_fraction_recorded(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    data[:, :100] = 255  # nodata over the west half of the priority unit
    plant(data, 300, 120, 10, 1)
    path = scene.write(tmp_path / "nodata.tif", data, nodata=255)
    layer = _scan(path, plan, capture=django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    assert layer.valid_fraction == pytest.approx(1 - 100 / 600)
    assert Lead.objects.count() == 1


def test_ndvi_diff_below_threshold_is_vegetation_loss(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.float32)
    data[100:110, 100:110] = -0.5  # priority: vegetation loss
    data[300:310, 100:110] = -0.1  # above the default threshold -0.2
    data[100:110, 300:310] = -0.5  # key units do not raise class 1
    data[0:50, 0:50] = np.nan
    path = scene.write(tmp_path / "ndvi.tif", data)
    layer = _scan(path, plan, kind="ndvi_diff", capture=django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    assert _pairs(plan) == [("priority", 1)]
    layer2 = _scan(
        scene.write(tmp_path / "ndvi2.tif", data + 0),
        plan,
        kind="ndvi_diff",
        threshold=-0.05,
        capture=django_capture_on_commit_callbacks,
    )
    # same bytes → same layer; a different threshold needs a different file
    assert layer2.pk == layer.pk


def test_rescan_of_the_same_file_adds_nothing(plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    path = scene.write(tmp_path / "change.tif", _every_class_everywhere(scene))
    first = _scan(path, plan, capture=django_capture_on_commit_callbacks)
    leads_before = list(Lead.objects.values_list("id", "detections"))
    # Register again (same checksum → same layer) and scan again, twice.
    for _ in range(2):
        again = _scan(path, plan, capture=django_capture_on_commit_callbacks)
        assert again.pk == first.pk and again.status == LayerStatus.DONE
        assert (again.leads_created, again.leads_repeated, again.leads_unchanged) == (0, 0, 6)
    assert list(Lead.objects.values_list("id", "detections")) == leads_before
    assert LeadDetection.objects.count() == 6 and Evidence.objects.count() == 6
    assert ChangeLayer.objects.count() == 1


def test_later_layer_seeing_the_same_patch_counts_a_repeat_detection(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 100, 100, 10, 2)
    first = _scan(scene.write(tmp_path / "a.tif", data), plan, capture=django_capture_on_commit_callbacks)
    data[100:115, 100:115] = 2  # the patch has grown; and a new one appears elsewhere
    plant(data, 400, 100, 10, 4)
    import datetime as dt

    second = _scan(
        scene.write(tmp_path / "b.tif", data),
        plan,
        after_date=dt.date(2030, 1, 1),
        capture=django_capture_on_commit_callbacks,
    )
    assert second.pk != first.pk
    assert (second.leads_created, second.leads_repeated) == (1, 1)
    grown = Lead.objects.get(change_class=2)
    assert grown.detections == 2 and grown.last_detected_at.date() == dt.date(2030, 1, 1)
    assert set(grown.detection_rows.values_list("layer_ref", flat=True)) == {
        f"change_layer:{first.pk}",
        f"change_layer:{second.pk}",
    }
    assert Lead.objects.count() == 2


def test_plan_rules_in_the_database_change_what_qualifies(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    scan_rules_update(plan=plan, classes_by_unit_class={"priority": [3], "key": [], "general": [1]}, min_area_m2=5000)
    path = scene.write(tmp_path / "change.tif", _every_class_everywhere(scene))
    layer = _scan(path, plan, capture=django_capture_on_commit_callbacks)
    assert _pairs(plan) == [("general", 1), ("priority", 3)]
    assert layer.rules["min_area_m2"] == 5000


def test_nearest_target_within_200_m_is_named(plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks):
    from django.conf import settings
    from django.contrib.gis.geos import Point
    from pyproj import Transformer

    from supervision.cases.models import EnforcementTarget
    from supervision.cases.validators import credit_code_check_char

    scene = scene_for("EPSG:32651")
    units = three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 100, 100, 10, 2)  # pixels rows 100-110, cols 100-110
    plant(data, 400, 100, 10, 2)
    tr = Transformer.from_crs("EPSG:32651", f"EPSG:{settings.STORAGE_SRID}", always_xy=True)

    def target(name, col, row, code17):
        x, y = scene.transform * (col, row)
        return EnforcementTarget.objects.create(
            name=name,
            credit_code=code17 + credit_code_check_char(code17),
            location=Point(*tr.transform(x, y), srid=settings.STORAGE_SRID),
            division=units["priority"].division,
        )

    near = target("近企业", 105, 125, "91220102MA0000001")  # 15 px = 150 m south of the first patch
    target("远企业", 105, 140, "91220102MA0000002")  # 300 m away
    target("更远", 105, 360, "91220102MA0000003")  # 300 m north of the second
    layer = _scan(scene.write(tmp_path / "t.tif", data), plan, capture=django_capture_on_commit_callbacks)
    assert layer.status == LayerStatus.DONE, layer.error
    first = Lead.objects.get(geom__intersects=scene.to_storage(scene.pixel_box(100, 100, 110, 110)))
    assert first.target == near
    assert first.evidence["nearest_target"]["distance_m"] == pytest.approx(150, abs=3)
    other = Lead.objects.exclude(pk=first.pk).get()
    assert other.target is None and other.evidence["nearest_target"] is None


@pytest.mark.django_db(transaction=True)
def test_cli_scans_and_prints_a_summary(tmp_path, media, small_windows, capsys):
    """Autocommit (transaction=True): the command's on_commit queueing fires as in production."""
    from tests.factories import PlanFactory

    plan = PlanFactory(code="rs-cli")
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    path = scene.write(tmp_path / "change.tif", _every_class_everywhere(scene))
    args = [path, "--plan", plan.code, "--kind", "landcover", "--wait", "--timeout", "60"]
    call_command("scan_change_layer", *args)
    out = capsys.readouterr().out
    assert "done" in out and "6 new" in out
    call_command("scan_change_layer", *args)
    out = capsys.readouterr().out
    assert "scanning it again" in out and "0 new" in out and "6 already recorded" in out


def test_before_and_after_imagery_chips_are_attached(
    plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks
):
    """With before/after imagery registered, each lead carries a chip of each beside the change mask."""
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 40, 50, 10, 2)  # one new-construction patch in the priority unit
    path = scene.write(tmp_path / "change.tif", data)
    rgb = np.random.default_rng(7).integers(0, 255, (scene.height, scene.width), dtype=np.uint8)
    before = scene.write(tmp_path / "before.tif", rgb)
    after = scene.write(tmp_path / "after.tif", 255 - rgb)
    layer = _scan(
        path, plan, capture=django_capture_on_commit_callbacks, before_image=str(before), after_image=str(after)
    )
    assert layer.status == LayerStatus.DONE, layer.error
    lead = Lead.objects.get(plan=plan)
    files = list(Evidence.objects.filter(lead=lead).order_by("id"))
    assert len(files) == 3
    assert {f.caption for f in files} >= {"前时相影像", "后时相影像"}
    for f in files:
        assert f.content_type == "image/png" and f.file.read(8) == b"\x89PNG\r\n\x1a\n"
        f.file.seek(0)
        assert float(Image.open(f.file).text["scale_bar_m"]) > 0  # every chip carries its scale bar
