"""Look-ups: the unit(s) under a point, and every unit and overlay a site touches."""

import pytest
from django.contrib.gis.geos import LineString, Point, Polygon
from pyproj import Transformer

from supervision.zoning.selectors import geometry_lookup, units_at_point, zoning_summary
from tests.factories import DivisionFactory, OverlayFactory, PlanFactory, UnitFactory, square

pytestmark = pytest.mark.django_db
S = 0.01


@pytest.fixture
def plan():
    """Two units side by side (shared edge at lon 125.31), a gap, then a third unit."""
    plan = PlanFactory()
    nanguan = DivisionFactory(adcode="220102", name="南关区")
    kuancheng = DivisionFactory(adcode="220103", name="宽城区")
    UnitFactory(plan=plan, division=nanguan, code="ZH22010210001", unit_class="priority", geom=square(125.30, 43.80, S))
    UnitFactory(plan=plan, division=nanguan, code="ZH22010220001", unit_class="key", geom=square(125.31, 43.80, S))
    UnitFactory(
        plan=plan, division=kuancheng, code="ZH22010330001", unit_class="general", geom=square(125.33, 43.80, S)
    )
    OverlayFactory(plan=plan, kind="red_line", code="HX-1", geom=square(125.302, 43.802, 0.004))
    return plan


def codes(qs):
    return [u.code for u in qs]


def test_point_inside_one_unit(plan):
    assert codes(units_at_point(plan=plan, point=Point(125.305, 43.805, srid=4490))) == ["ZH22010210001"]


def test_point_on_shared_boundary_belongs_to_both(plan):
    assert codes(units_at_point(plan=plan, point=Point(125.31, 43.805, srid=4490))) == [
        "ZH22010210001",
        "ZH22010220001",
    ]


def test_point_in_gap_between_units_and_outside_plan(plan):
    assert codes(units_at_point(plan=plan, point=Point(125.325, 43.805, srid=4490))) == []
    assert codes(units_at_point(plan=plan, point=Point(100.0, 30.0, srid=4490))) == []


def test_point_given_in_projected_srid(plan):
    x, y = Transformer.from_crs(4490, 32651, always_xy=True).transform(125.315, 43.805)
    point = Point(x, y, srid=32651)
    point.transform(4490)
    assert codes(units_at_point(plan=plan, point=point)) == ["ZH22010220001"]


def test_polygon_straddling_two_units_shares_sum_to_one(plan):
    site = Polygon.from_bbox((125.305, 43.801, 125.315, 43.809))
    site.srid = 4490
    result = geometry_lookup(plan=plan, geometry=site)
    assert [u.unit.code for u in result.units] == ["ZH22010210001", "ZH22010220001"]
    assert sum(u.share for u in result.units) == pytest.approx(1.0, abs=1e-6)
    assert result.units[0].share == pytest.approx(0.5, abs=1e-3)
    assert sum(u.overlap_m2 for u in result.units) == pytest.approx(result.site_area_m2, rel=1e-6)
    assert [o.overlay.code for o in result.overlays] == ["HX-1"]
    assert result.overlays[0].overlap_m2 > 0


def test_line_shares_by_length_and_point_on_boundary_splits(plan):
    line = LineString((125.305, 43.805), (125.315, 43.805), srid=4490)
    result = geometry_lookup(plan=plan, geometry=line)
    assert [round(u.share, 3) for u in result.units] == [0.5, 0.5]
    assert result.site_length_m == pytest.approx(sum(u.overlap_m for u in result.units), rel=1e-6)
    point = geometry_lookup(plan=plan, geometry=Point(125.31, 43.805, srid=4490))
    assert [u.share for u in point.units] == [0.5, 0.5]


def test_site_in_projected_srid_is_transformed(plan):
    t = Transformer.from_crs(4490, 32651, always_xy=True)
    (x0, y0), (x1, y1) = t.transform(125.331, 43.801), t.transform(125.339, 43.809)
    site = Polygon.from_bbox((x0, y0, x1, y1))
    site.srid = 32651
    result = geometry_lookup(plan=plan, geometry=site)
    assert [u.unit.code for u in result.units] == ["ZH22010330001"]
    assert result.units[0].share == pytest.approx(1.0, abs=1e-6)


def test_summary_rows_per_district_then_city(plan):
    rows = zoning_summary(plan=plan)
    assert [r["adcode"] for r in rows] == ["220102", "220103", "220100"]
    nanguan, kuancheng, city = rows
    assert (nanguan["priority_units"], nanguan["key_units"], nanguan["general_units"]) == (1, 1, 0)
    assert str(nanguan["priority_area_pct"]) == "50.00" and str(nanguan["general_area_pct"]) == "0.00"
    assert str(kuancheng["general_area_pct"]) == "100.00"
    assert city["district"] == "全市" and city["priority_units"] == 1
    # Three equal squares: a third each, rounded to 2 decimals.
    assert [str(city[f"{c}_area_pct"]) for c in ("priority", "key", "general")] == ["33.33", "33.33", "33.33"]
