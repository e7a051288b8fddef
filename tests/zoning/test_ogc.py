"""OGC API – Features at /ogc/: every endpoint through the Django client, then GDAL's OAPIF driver
against a live server, reading the plan as QGIS would (paging, bbox, EPSG:4490)."""

from datetime import timedelta

import pytest
from django.test import override_settings

from supervision.zoning.models import ControlUnit
from tests.factories import DivisionFactory, OverlayFactory, PlanFactory, UnitFactory, plan_content_editable, square

pytestmark = pytest.mark.django_db

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


@pytest.fixture
def plan():
    plan = PlanFactory()
    division = DivisionFactory()
    UnitFactory(plan=plan, division=division, code="ZH22010210001", unit_class="priority", geom=square(125.30, 43.80))
    UnitFactory(plan=plan, division=division, code="ZH22010220001", unit_class="key", geom=square(125.31, 43.80))
    UnitFactory(plan=plan, division=division, code="ZH22010230001", unit_class="general", geom=square(125.32, 43.80))
    OverlayFactory(plan=plan, code="HX-0001")
    return plan


def big_plan(units: int):
    """A plan with `units` 0.01° squares on a 20-wide grid (bulk-created: no per-row area update)."""
    plan = PlanFactory(code="big", name="大方案")
    division = DivisionFactory()
    with plan_content_editable(plan):  # the plan is in force: its content is written as a draft's
        ControlUnit.objects.bulk_create(
            ControlUnit(
                plan=plan,
                division=division,
                code=f"ZH2201021{i + 1:04d}",
                name=f"单元{i + 1}",
                unit_class="priority",
                geom=square(125.0 + (i % 20) * 0.01, 43.0 + (i // 20) * 0.01),
                area_m2=1.0,
            )
            for i in range(units)
        )
    return plan


def test_landing_and_conformance(auth_client, plan):
    landing = auth_client.get("/ogc/")
    assert landing.status_code == 200 and landing["Content-Type"].startswith("application/json")
    rels = {link["rel"]: link["href"] for link in landing.json()["links"]}
    assert rels["conformance"].endswith("/ogc/conformance") and rels["data"].endswith("/ogc/collections")
    conforms = auth_client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conforms


def test_collections_one_pair_per_plan(auth_client, plan):
    PlanFactory(code="other", name="另一方案")
    data = auth_client.get("/ogc/collections").json()
    ids = [c["id"] for c in data["collections"]]
    assert ids == ["cc-test-units", "cc-test-overlays", "other-units", "other-overlays"]
    units = data["collections"][0]
    assert units["crs"] == [CRS84, EPSG4490] and units["storageCrs"] == EPSG4490
    minx, miny, maxx, maxy = units["extent"]["spatial"]["bbox"][0]
    assert (minx, miny) == pytest.approx((125.30, 43.80)) and (maxx, maxy) == pytest.approx((125.33, 43.81))
    one = auth_client.get("/ogc/collections/cc-test-overlays")
    assert one.status_code == 200 and one.json()["id"] == "cc-test-overlays"
    missing = auth_client.get("/ogc/collections/nope-units")
    assert missing.status_code == 404 and missing.json()["code"] == "collection_not_found"


def test_items_geojson_paging_links(auth_client, plan):
    response = auth_client.get("/ogc/collections/cc-test-units/items", {"limit": 2}, HTTP_ACCEPT="application/geo+json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json" and response["Content-Crs"] == f"<{CRS84}>"
    page = response.json()
    assert page["type"] == "FeatureCollection" and page["numberMatched"] == 3 and page["numberReturned"] == 2
    assert [f["id"] for f in page["features"]] == ["ZH22010210001", "ZH22010220001"]
    props = page["features"][0]["properties"]
    assert props["unit_class"] == "priority" and props["adcode"] == "220102" and props["division"] == "南关区"
    lon, lat = page["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 125.29 < lon < 125.32 and 43.79 < lat < 43.82  # CRS84 is lon/lat
    next_link = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "offset=2" in next_link and "limit=2" in next_link
    last = auth_client.get(next_link).json()
    assert [f["id"] for f in last["features"]] == ["ZH22010230001"] and last["numberReturned"] == 1
    assert not [link for link in last["links"] if link["rel"] == "next"]
    assert [link for link in last["links"] if link["rel"] == "prev"]


def test_items_bbox_and_epsg4490_axis_order(auth_client, plan):
    url = "/ogc/collections/cc-test-units/items"
    by_bbox = auth_client.get(url, {"bbox": "125.312,43.801,125.318,43.809"}).json()
    assert [f["id"] for f in by_bbox["features"]] == ["ZH22010220001"] and by_bbox["numberMatched"] == 1
    # bbox-crs EPSG:4490 is latitude first.
    lat_first = auth_client.get(url, {"bbox": "43.801,125.312,43.809,125.318", "bbox-crs": EPSG4490}).json()
    assert [f["id"] for f in lat_first["features"]] == ["ZH22010220001"]
    response = auth_client.get(url, {"crs": EPSG4490, "limit": 1})
    assert response["Content-Crs"] == f"<{EPSG4490}>"
    lat, lon = response.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 43.79 < lat < 43.82 and 125.29 < lon < 125.32
    assert "crs=" in next(link["href"] for link in response.json()["links"] if link["rel"] == "next")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "abc"}, "invalid_parameter"),
        ({"offset": "-1"}, "invalid_parameter"),
        ({"bbox": "1,2,3"}, "invalid_bbox"),
        ({"bbox": "125,44,126,43"}, "invalid_bbox"),
        ({"crs": "EPSG:3857"}, "invalid_crs"),
        ({"bbox": "1,2,3,4", "bbox-crs": "EPSG:2000"}, "invalid_crs"),
    ],
)
def test_items_refuse_bad_parameters(auth_client, plan, params, code):
    response = auth_client.get("/ogc/collections/cc-test-units/items", params)
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["detail"]


def test_single_item_and_overlays(auth_client, plan):
    response = auth_client.get("/ogc/collections/cc-test-units/items/ZH22010220001")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == "ZH22010220001"
    assert feature["properties"]["unit_class"] == "key"
    missing = auth_client.get("/ogc/collections/cc-test-units/items/ZH22010220099")
    assert missing.status_code == 404 and missing.json()["code"] == "feature_not_found"
    overlays = auth_client.get("/ogc/collections/cc-test-overlays/items").json()
    assert [f["id"] for f in overlays["features"]] == ["HX-0001"]
    assert overlays["features"][0]["properties"]["kind"] == "red_line"


@override_settings(PUBLIC_ZONING=False)
def test_anonymous_refused_without_public_zoning(api_client, plan):
    for url in ("/ogc/", "/ogc/collections", "/ogc/collections/cc-test-units/items"):
        assert api_client.get(url).status_code in (401, 403)


@override_settings(PUBLIC_ZONING=True)
def test_anonymous_reads_with_public_zoning(api_client, plan):
    assert api_client.get("/ogc/collections/cc-test-units/items").json()["numberMatched"] == 3


@override_settings(PUBLIC_ZONING=True)
def test_the_public_never_reads_a_draft_plan_through_ogc_lookup_or_export(api_client, auth_client, plan):
    """Drafts stay internal on every open interface: one selector (plans_for_user) decides."""
    draft = PlanFactory(code="draft-plan", name="草案", status="draft")
    with plan_content_editable(draft):
        UnitFactory(plan=draft, division=DivisionFactory(), code="ZH22010210099", geom=square(125.30, 43.80))
    ids = [c["id"] for c in api_client.get("/ogc/collections").json()["collections"]]
    assert ids == ["cc-test-units", "cc-test-overlays"]
    for path in ("/ogc/collections/draft-plan-units", "/ogc/collections/draft-plan-units/items"):
        refused = api_client.get(path)
        assert refused.status_code == 404 and refused.json()["code"] == "collection_not_found", path
    at = {"lon": 125.305, "lat": 43.805}
    refused = api_client.get("/api/v1/zoning/units/at/", {**at, "plan": "draft-plan"})
    assert refused.status_code == 400 and "plan" in refused.json()["problems"][0], refused.content
    assert api_client.get("/api/v1/zoning/plans/draft-plan/export/", {"format": "gpkg"}).status_code == 404
    # Signed in, the draft is there on each of them.
    assert "draft-plan-units" in [c["id"] for c in auth_client.get("/ogc/collections").json()["collections"]]
    assert auth_client.get("/ogc/collections/draft-plan-units/items").json()["numberMatched"] == 1
    found = auth_client.get("/api/v1/zoning/units/at/", {**at, "plan": "draft-plan"})
    assert [u["code"] for u in found.json()] == ["ZH22010210099"]
    assert auth_client.get("/api/v1/zoning/plans/draft-plan/export/", {"format": "gpkg"}).status_code == 200


def test_token_auth(api_client, user, plan):
    from supervision.cases.services.tokens import token_issue

    token = token_issue(user=user)
    response = api_client.get("/ogc/collections", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    response = api_client.get("/ogc/collections", HTTP_AUTHORIZATION=f"Bearer {token.key}")
    assert response.status_code == 200
    assert api_client.get("/ogc/collections", HTTP_AUTHORIZATION="Bearer wrong").status_code in (401, 403)


@override_settings(PUBLIC_ZONING=False)
def test_an_expired_token_is_refused_by_the_ogc_api_too(api_client, user, plan):
    from supervision.cases.models import ApiToken
    from supervision.cases.services.tokens import token_issue

    key = token_issue(user=user).key
    ApiToken.objects.update(created=ApiToken.objects.get().created - timedelta(hours=13))
    for scheme in ("Token", "Bearer"):
        response = api_client.get("/ogc/collections", HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert response.status_code in (401, 403) and response.json()["code"] == "token_expired"


# --- GDAL's OAPIF driver against a live server -----------------------------------------------
# GDAL runs in a child process: pyogrio holds the GIL while GDAL fetches, which would starve the
# live server's thread in this process.

GDAL_READ = """
import json, sys
import pyogrio
from shapely import from_wkb
source, layer, bbox = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
info = pyogrio.read_info(source, layer=layer)
meta, _, geometry, fields = pyogrio.raw.read(source, layer=layer, bbox=tuple(bbox) if bbox else None)
print(json.dumps({
    "layers": [str(name) for name, _ in pyogrio.list_layers(source)],
    "crs": meta["crs"], "count": info["features"],
    "codes": list(fields[list(meta["fields"]).index("code")]),
    "bounds": list(from_wkb(geometry[0]).bounds) if len(geometry) else None,
}))
"""


def gdal_read(url: str, layer: str, token: str, bbox=None) -> dict:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token}
    out = subprocess.run(
        [sys.executable, "-c", GDAL_READ, f"OAPIF:{url}/ogc", layer, json.dumps(bbox)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture
def gdal_token(user):
    """GDAL sends the API token as a bearer token (GDAL_HTTP_AUTH=BEARER)."""
    from supervision.cases.services.tokens import token_issue

    return token_issue(user=user).key


@pytest.mark.django_db(transaction=True)
def test_gdal_oapif_pages_through_a_large_plan(live_server, gdal_token):
    big_plan(250)
    read = gdal_read(live_server.url, "big-units", gdal_token)
    assert "big-units" in read["layers"] and "big-overlays" in read["layers"]
    codes = read["codes"]
    # GDAL asks for 20 a page here: 13 pages followed by their next links.
    assert len(codes) == 250 and len(set(codes)) == 250 and codes[0] == "ZH22010210001"


@pytest.mark.django_db(transaction=True)
def test_gdal_oapif_bbox_and_cgcs2000(live_server, gdal_token):
    big_plan(60)
    # Rows 0-2, columns 0-1 of the grid: six units (a box strictly inside their squares).
    read = gdal_read(live_server.url, "big-units", gdal_token, bbox=[125.001, 43.001, 125.019, 43.029])
    assert sorted(read["codes"]) == [
        "ZH22010210001",
        "ZH22010210002",
        "ZH22010210021",
        "ZH22010210022",
        "ZH22010210041",
        "ZH22010210042",
    ]
    # GDAL reads the storage CRS (CGCS2000, latitude first on the wire) and hands lon/lat out.
    assert read["crs"] == "EPSG:4490" and read["count"] == 60
    minx, miny, _, _ = read["bounds"]
    assert 124.99 < minx < 125.03 and 42.99 < miny < 43.04
