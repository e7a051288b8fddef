"""export_leads: every lead of a plan as GeoJSON (EPSG:4326) or CSV with the contract's properties."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import call_command

from supervision.cases.services.leads import lead_raise
from supervision.remote_sensing.services.layers import layer_register, layer_scan
from tests.factories import PlanFactory, UnitFactory, square

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db

FIELDS = ["id", "source", "unit_code", "unit_class", "change_class", "area_m2", "status", "detected_at", "layer"]


@pytest.fixture
def leads(plan, tmp_path, media, small_windows, django_capture_on_commit_callbacks):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 100, 100, 10, 1)
    plant(data, 300, 300, 10, 4)
    layer = layer_register(plan=plan, path=scene.write(tmp_path / "x.tif", data), kind="landcover").layer
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    # a complaint lead without a unit's change class, and one of another plan (not exported)
    unit = plan.units.get(unit_class="general")
    lead_raise(
        source="complaint",
        source_key="c:1",
        plan=plan,
        unit=unit,
        geom=unit.geom.point_on_surface,
        title="群众举报",
        reason="12369",
    )
    other = PlanFactory(code="other-plan")
    u = UnitFactory(plan=other, code="ZH22010230009", geom=square(125.5, 43.5))
    lead_raise(source="complaint", source_key="c:2", plan=other, unit=u, geom=u.geom, title="x", reason="y")
    return layer


def test_geojson_export(leads, tmp_path):
    out = tmp_path / "leads.geojson"
    call_command("export_leads", "--plan", "rs-test", "--format", "geojson", "--output", str(out))
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    for f in fc["features"]:
        assert list(f["properties"]) == FIELDS
        x, y = (
            f["geometry"]["coordinates"][0][0][0]
            if f["geometry"]["type"] == "MultiPolygon"
            else f["geometry"]["coordinates"]
        )
        assert 125 < x < 126 and 43 < y < 44.5
    rs = [f["properties"] for f in fc["features"] if f["properties"]["source"] == "remote_sensing"]
    assert sorted((p["unit_class"], p["change_class"]) for p in rs) == [("key", 4), ("priority", 1)]
    assert all(p["layer"] == f"change_layer:{leads.pk}" and p["area_m2"] > 9000 for p in rs)
    complaint = next(f["properties"] for f in fc["features"] if f["properties"]["source"] == "complaint")
    assert complaint["change_class"] is None and complaint["layer"] is None and complaint["unit_class"] == "general"


def test_csv_export_to_stdout(leads, capsys):
    call_command("export_leads", "--plan", "rs-test", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3 and list(rows[0]) == [*FIELDS, "wkt"]
    assert {r["source"] for r in rows} == {"remote_sensing", "complaint"}
    assert all(r["wkt"].startswith(("MULTIPOLYGON", "POINT")) for r in rows)


def test_export_refuses_unknown_plan_and_format(leads, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("export_leads", "--plan", "nope", "--format", "csv")
    assert exc.value.code == 1 and "nope" in capsys.readouterr().err
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_leads", "--plan", "rs-test", "--format", "kml")
