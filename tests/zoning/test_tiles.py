"""Vector tiles from PostGIS: contents, attributes, clustering, district scoping, ETag/304, invalidation;
and the unit under a clicked point."""

import math
from pathlib import Path

import mapbox_vector_tile
import pytest
from django.core.management import call_command
from django.test import override_settings

from supervision.zoning.models import ZoningPlan
from supervision.zoning.services import plan_revise
from tests.factories import OverlayFactory

pytestmark = pytest.mark.django_db


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def url(layer: str, lon: float, lat: float, z: int, **params) -> str:
    z, x, y = tile_of(lon, lat, z)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/tiles/{layer}/{z}/{x}/{y}.pbf" + (f"?{query}" if query else "")


def decode(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def test_units_tile_holds_the_plans_units_with_trimmed_attributes(client_for, scene):
    client = client_for("planner")
    layers = decode(client.get(url("units", 125.35, 43.85, 9, plan="changchun-test")))
    features = layers["units"]["features"]
    assert sorted(f["properties"]["code"] for f in features) == ["ZH22010210001", "ZH22010320001"]
    assert set(features[0]["properties"]) == {"code", "class", "name"}
    assert {f["properties"]["class"] for f in features} == {"priority", "key"}
    # Further out, codes without names, then the class alone; the squares are still there.
    mid = decode(client.get(url("units", 125.35, 43.85, 8, plan="changchun-test")))["units"]["features"]
    assert len(mid) == 2 and set(mid[0]["properties"]) == {"code", "class"}
    far = decode(client.get(url("units", 125.35, 43.85, 6, plan="changchun-test")))["units"]["features"]
    assert len(far) == 2 and set(far[0]["properties"]) == {"class"}
    # A tile elsewhere is empty.
    assert client.get(url("units", 100.0, 30.0, 9, plan="changchun-test")).content == b""


def test_overlays_tile(client_for, scene):
    OverlayFactory(plan=scene.plan, code="HX-0001")
    layers = decode(client_for("planner").get(url("overlays", 125.303, 43.803, 12, plan="changchun-test")))
    assert [f["properties"] for f in layers["overlays"]["features"]] == [
        {"code": "HX-0001", "kind": "red_line", "name": "生态保护红线"}
    ]


def test_tile_input_refused(client_for, scene):
    client = client_for("planner")
    assert client.get("/api/v1/tiles/units/3/8/0.pbf?plan=changchun-test").json()["code"] == "invalid_tile"
    assert client.get("/api/v1/tiles/units/3/1/1.pbf").json()["code"] == "plan_required"
    assert client.get("/api/v1/tiles/units/3/1/1.pbf?plan=nope").json()["code"] == "plan_not_found"
    assert client.get("/api/v1/tiles/rivers/3/1/1.pbf").status_code == 404


def test_leads_scoped_and_clustered(client_for, make_lead, scene):
    for _ in range(3):
        make_lead("a")
    make_lead("b")
    city = client_for("admin")
    # Zoom 8: one cell holds the three leads of 南关区, another the one of 宽城区.
    clusters = decode(city.get(url("leads", 125.35, 43.85, 8)))["leads"]["features"]
    assert sorted(f["properties"]["count"] for f in clusters) == [1, 3]
    officer = client_for("officer")  # 南关区 only, as the leads API
    mine = decode(officer.get(url("leads", 125.35, 43.85, 8)))["leads"]["features"]
    assert [f["properties"]["count"] for f in mine] == [3]
    # Zoom 14: single leads with their status.
    single = decode(officer.get(url("leads", 125.3015, 43.8015, 14)))["leads"]["features"]
    assert len(single) == 3 and {f["properties"]["status"] for f in single} == {"new"}
    listed = officer.get("/api/v1/leads/").json()
    api_ids = {lead["id"] for lead in listed.get("features") or listed["results"]}
    assert {f["properties"]["id"] for f in single} == api_ids
    assert officer.get(url("leads", 125.405, 43.905, 14)).content == b""


def test_targets_scoped(client_for, scene):
    all_targets = decode(client_for("admin").get(url("targets", 125.35, 43.85, 8)))["targets"]["features"]
    assert sorted(f["properties"]["name"] for f in all_targets) == ["南关化工", "宽城热电"]
    officer_b = decode(client_for("officer_b").get(url("targets", 125.35, 43.85, 8)))["targets"]["features"]
    assert [f["properties"]["name"] for f in officer_b] == ["宽城热电"]
    assert client_for("nobody").get(url("targets", 125.35, 43.85, 8)).status_code == 403


@override_settings(PUBLIC_ZONING=True)
def test_public_reads_units_but_not_leads(api_client, scene):
    assert api_client.get(url("units", 125.35, 43.85, 9, plan="changchun-test")).status_code == 200
    assert api_client.get(url("leads", 125.35, 43.85, 9)).status_code in (401, 403)


@override_settings(PUBLIC_ZONING=True, PUBLIC_GEOMETRY_TOLERANCE_M=2000)
def test_public_tiles_are_generalised_and_never_of_a_draft(api_client, client_for, scene):
    ZoningPlan.objects.filter(pk=scene.plan.pk).update(status="draft")
    draft = api_client.get(url("units", 125.35, 43.85, 12, plan="changchun-test"))
    assert draft.status_code in (400, 404) and draft.json()["code"] == "plan_not_found"
    ZoningPlan.objects.filter(pk=scene.plan.pk).update(status="effective")
    public = api_client.get(url("units", 125.305, 43.805, 14, plan="changchun-test"))
    full = client_for("planner").get(url("units", 125.305, 43.805, 14, plan="changchun-test"))
    assert public["ETag"] != full["ETag"]

    def vertices(response) -> int:
        feats = decode(response)["units"]["features"]
        return sum(len(ring) for f in feats for poly in _polygons(f["geometry"]) for ring in poly)

    assert 0 < vertices(public) <= vertices(full)
    assert public.content != full.content


def _polygons(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


@override_settings(PUBLIC_ZONING=False)
def test_anonymous_refused_units_without_public_zoning(api_client, scene):
    assert api_client.get(url("units", 125.35, 43.85, 9, plan="changchun-test")).status_code in (401, 403)


def test_etag_304_and_invalidation_after_import(client_for, scene, tmp_path):
    # The plan in force cannot change: the import goes into a draft revised from it.
    plan_revise(from_code="changchun-test", to_code="changchun-draft")
    client = client_for("planner")
    tile = url("units", 125.35, 43.85, 9, plan="changchun-draft")
    first = client.get(tile)
    etag = first["ETag"]
    assert etag and "no-cache" in first["Cache-Control"]
    again = client.get(tile, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    # An import into the plan moves its content version on: the old ETag no longer matches.
    geojson = tmp_path / "more.geojson"
    geojson.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4490"}}, "features": ['
        '{"type": "Feature", "properties": {"环境管控单元编码": "ZH22010230001", "环境管控单元名称": "新单元"},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[125.36, 43.85], [125.37, 43.85], [125.37, 43.86],'
        " [125.36, 43.86], [125.36, 43.85]]]}}]}",
        encoding="utf-8",
    )
    version = ZoningPlan.objects.get(code="changchun-draft").content_version
    call_command("import_units", str(geojson), "--plan", "changchun-draft", stdout=open(Path("/dev/null"), "w"))
    assert ZoningPlan.objects.get(code="changchun-draft").content_version > version
    after = client.get(tile, HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after["ETag"] != etag
    codes = {f["properties"]["code"] for f in mapbox_vector_tile.decode(after.content)["units"]["features"]}
    assert "ZH22010230001" in codes


def test_leads_etag_is_the_contents(client_for, make_lead, scene):
    make_lead("a")
    client = client_for("admin")
    tile = url("leads", 125.35, 43.85, 8)
    etag = client.get(tile)["ETag"]
    assert client.get(tile, HTTP_IF_NONE_MATCH=etag).status_code == 304
    make_lead("a")
    assert client.get(tile, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_unit_at_point(client_for, scene):
    client = client_for("planner")
    found = client.get("/api/v1/zoning/units/at/", {"plan": "changchun-test", "lon": 125.305, "lat": 43.805}).json()
    assert [u["code"] for u in found] == ["ZH22010210001"] and found[0]["division_name"] == "南关区"
    assert client.get("/api/v1/zoning/units/at/", {"plan": "changchun-test", "lon": 120, "lat": 30}).json() == []
    bad = client.get("/api/v1/zoning/units/at/", {"plan": "changchun-test", "lon": 200, "lat": 30})
    assert bad.status_code == 400 and "lon" in str(bad.json())


def _with_small_general_unit(scene):
    """A third unit in 南关区, general and much smaller than its priority unit; areas stored."""
    from supervision.zoning.models import ControlUnit
    from supervision.zoning.services import units_area_refresh
    from tests.factories import UnitFactory, plan_content_editable, square

    with plan_content_editable(scene.plan):
        UnitFactory(
            plan=scene.plan,
            division=scene.nanguan,
            code="ZH22010230001",
            unit_class="general",
            geom=square(125.32, 43.80, 0.002),
        )
        units_area_refresh(queryset=ControlUnit.objects.filter(plan=scene.plan))
    scene.plan.refresh_from_db()


def test_low_zooms_draw_shapes_built_once_per_content_version(client_for, scene):
    from supervision.zoning.models import TileShape
    from supervision.zoning.tiles import TILE_BANDS, tile_shapes_build

    _with_small_general_unit(scene)
    client = client_for("planner")
    # Zooms 0-5: one shape per district, in the class covering most of it (南关区: priority, not general).
    far = decode(client.get(url("units", 125.35, 43.85, 4, plan="changchun-test")))["units"]["features"]
    assert sorted(f["properties"]["class"] for f in far) == ["key", "priority"]
    assert all(set(f["properties"]) == {"class"} for f in far)
    # Zoom 6: dissolved by district and class, so the general unit is back.
    z6 = decode(client.get(url("units", 125.35, 43.85, 6, plan="changchun-test")))["units"]["features"]
    assert sorted(f["properties"]["class"] for f in z6) == ["general", "key", "priority"]
    # Zoom 8: one shape per unit, with codes.
    z8 = decode(client.get(url("units", 125.35, 43.85, 8, plan="changchun-test")))["units"]["features"]
    assert sorted(f["properties"]["code"] for f in z8) == ["ZH22010210001", "ZH22010230001", "ZH22010320001"]
    shapes = TileShape.objects.filter(plan=scene.plan, layer="units")
    assert {s.content_version for s in shapes} == {scene.plan.content_version}
    assert sorted(shapes.values_list("band", flat=True).distinct()) == list(range(len(TILE_BANDS)))
    assert shapes.filter(band=0).count() == 2 and shapes.filter(band=1).count() == 3
    assert shapes.filter(band=2).count() == 3 and shapes.first().geom.srid == 3857
    # Built once: building again for the same content writes nothing.
    assert tile_shapes_build(plan=scene.plan) == 0


def test_low_zoom_shapes_follow_a_content_change(client_for, scene):
    from supervision.zoning.models import TileShape

    client = client_for("planner")
    before = decode(client.get(url("units", 125.35, 43.85, 6, plan="changchun-test")))["units"]["features"]
    assert sorted(f["properties"]["class"] for f in before) == ["key", "priority"]
    old_version = ZoningPlan.objects.get(pk=scene.plan.pk).content_version
    _with_small_general_unit(scene)
    after = decode(client.get(url("units", 125.35, 43.85, 6, plan="changchun-test")))["units"]["features"]
    assert sorted(f["properties"]["class"] for f in after) == ["general", "key", "priority"]
    versions = set(TileShape.objects.filter(plan=scene.plan).values_list("content_version", flat=True))
    assert versions == {scene.plan.content_version} and old_version not in versions


def test_overlays_at_low_zoom_keep_their_attributes(client_for, scene):
    OverlayFactory(plan=scene.plan, code="HX-0001")
    layers = decode(client_for("planner").get(url("overlays", 125.303, 43.803, 5, plan="changchun-test")))
    assert [f["properties"] for f in layers["overlays"]["features"]] == [
        {"code": "HX-0001", "kind": "red_line", "name": "生态保护红线"}
    ]


def test_lead_tiles_take_the_leads_api_filters(client_for, make_lead, scene):
    from supervision.cases.models import Lead

    make_lead("a", title="河道采砂")
    make_lead("a", title="植被减少")
    merged = make_lead("a", title="植被减少 重复")
    Lead.objects.filter(pk=merged.pk).update(status="merged", merged_into=Lead.objects.exclude(pk=merged.pk).first())
    admin = client_for("admin")

    def counts(**params):
        layers = decode(admin.get(url("leads", 125.3015, 43.8015, 14, **params)))
        return len(layers["leads"]["features"]) if layers else 0

    # Merged leads (duplicates of another) are left out unless a status is asked for.
    assert counts() == 2
    assert counts(status="merged") == 1
    assert counts(q="采砂") == 1
    assert counts(status="new", plan="changchun-test") == 2
    assert counts(source="complaint") == 0
    bad = admin.get(url("leads", 125.3015, 43.8015, 14, status="nope"))
    assert bad.status_code == 400 and "status" in str(bad.json())
    assert admin.get(url("leads", 125.3015, 43.8015, 14, plan="nope")).json()["code"] == "plan_not_found"


def test_tiles_seed_draws_a_plans_low_zooms_into_the_cache(scene, client_for):
    import io

    from django.core.cache import cache

    from supervision.zoning.tiles import TileAddress, _tile_key, tiles_over_bounds

    cache.clear()
    out = io.StringIO()
    call_command("tiles_seed", "--plan", "changchun-test", "--max-zoom", "6", stdout=out)
    bounds = (125.30, 43.80, 125.41, 43.91)
    expected = sum(len(tiles_over_bounds(bounds=bounds, z=z)) for z in range(7)) * 2
    assert out.getvalue().startswith(f"plan changchun-test: {expected} tiles drawn to zoom 6")
    z, x, y = tile_of(125.35, 43.85, 6)
    cached = cache.get(_tile_key(plan=scene.plan, address=TileAddress("units", z, x, y), public=False))
    assert cached and cached == client_for("planner").get(url("units", 125.35, 43.85, 6, plan="changchun-test")).content
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("tiles_seed", "--plan", "changchun-test", "--max-zoom", "15", stderr=err)
    assert exit_info.value.code == 1 and "max zoom: 15" in err.getvalue()
    with pytest.raises(SystemExit):
        call_command("tiles_seed", "--plan", "nope", stderr=io.StringIO())
