"""The demo plan on PostGIS: every district row of the summary equals Annex 1 of the Changchun plan."""

import csv
import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from supervision.zoning.demo import PLAN_CODE, zoning_demo_load
from supervision.zoning.demo_geometry import ANNEX1_CSV
from supervision.zoning.models import ControlUnit, Overlay

pytestmark = pytest.mark.django_db

SHARED_ANNEX = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "changchun_annex1.csv"


def annex_rows():
    text = SHARED_ANNEX.read_text(encoding="utf-8") if SHARED_ANNEX.exists() else ANNEX1_CSV
    return list(csv.DictReader(io.StringIO(text)))


def test_demo_summary_reproduces_annex1_district_rows():
    zoning_demo_load()
    out = StringIO()
    call_command("zoning_summary", "--plan", PLAN_CODE, "--format", "csv", stdout=out)
    computed = {row["adcode"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    expected = annex_rows()
    assert len(computed) == 12
    for row in expected:
        if row["district"] == "全市":
            continue
        got = computed[row["adcode"]]
        assert got["district"] == row["district"]
        for key in ("priority_units", "key_units", "general_units"):
            assert int(got[key]) == int(row[key]), (row["district"], key)
        for key in ("priority_area_pct", "key_area_pct", "general_area_pct"):
            assert float(got[key]) == pytest.approx(float(row[key]), abs=1e-9), (row["district"], key)
    city = computed["220100"]
    assert city["district"] == "全市"
    assert (int(city["priority_units"]), int(city["key_units"]), int(city["general_units"])) == (75, 73, 9)
    # Computed from the real boundaries, not forced to the published 35.10 / 38.64 / 26.26.
    assert float(city["priority_area_pct"]) == pytest.approx(34.13, abs=0.02)
    assert float(city["area_km2"]) == pytest.approx(24694, rel=0.001)


def test_demo_is_idempotent_and_has_overlays():
    plan = zoning_demo_load()
    ids = sorted(ControlUnit.objects.values_list("id", "code", "area_m2"))
    zoning_demo_load()
    assert sorted(ControlUnit.objects.values_list("id", "code", "area_m2")) == ids
    assert plan.units.count() == 157
    assert Overlay.objects.filter(plan=plan, kind="basin").count() == 2
    red = Overlay.objects.filter(plan=plan, kind="red_line")
    assert red.exists()
    # The red line lies inside priority units.
    for overlay in red[:5]:
        inside = ControlUnit.objects.filter(
            plan=plan, unit_class="priority", geom__intersects=overlay.geom.point_on_surface
        )
        assert inside.exists()
    plan.refresh_from_db()
    assert plan.status == "effective" and plan.events.count() == 2
