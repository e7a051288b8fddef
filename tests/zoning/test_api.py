"""Zoning REST API: auth, public read, GeoJSON units with filters, look-ups, summary, schema."""

import pytest
from django.test import override_settings

from tests.factories import DivisionFactory, PlanFactory, UnitFactory, square

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    plan = PlanFactory()
    division = DivisionFactory()
    UnitFactory(plan=plan, division=division, code="ZH22010210001", unit_class="priority", geom=square(125.30, 43.80))
    UnitFactory(plan=plan, division=division, code="ZH22010220001", unit_class="key", geom=square(125.31, 43.80))
    return plan


def test_token_auth(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"username": "planner1", "password": "pw-123456"})
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/zoning/plans/").status_code == 200
    bad = api_client.post("/api/v1/auth/token/", {"username": "planner1", "password": "wrong"})
    assert bad.status_code == 400


@override_settings(PUBLIC_ZONING=False)
def test_anonymous_refused_without_public_zoning(api_client, plan):
    assert api_client.get("/api/v1/zoning/plans/").status_code in (401, 403)
    assert api_client.get("/api/v1/zoning/units/").status_code in (401, 403)


@override_settings(PUBLIC_ZONING=True)
def test_anonymous_reads_plans_and_units_with_public_zoning(api_client, plan):
    type(plan).objects.filter(pk=plan.pk).update(status="draft")
    assert api_client.get("/api/v1/zoning/plans/").json()["results"] == []  # a draft is not public
    type(plan).objects.filter(pk=plan.pk).update(status="effective")
    assert api_client.get("/api/v1/zoning/plans/").json()["results"][0]["code"] == "cc-test"
    assert api_client.get("/api/v1/zoning/units/").status_code == 200
    # Public read is read: no writes to anything else.
    assert api_client.post("/api/v1/zoning/plans/", {}).status_code in (401, 403, 405)


def test_units_feature_collection_filters(auth_client, plan):
    data = auth_client.get("/api/v1/zoning/units/", {"plan": "cc-test"}).json()
    assert data["type"] == "FeatureCollection" and data["count"] == 2
    feature = data["features"][0]
    assert feature["id"] == "ZH22010210001" and feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["unit_class"] == "priority" and feature["properties"]["division"] == "220102"
    lon = feature["geometry"]["coordinates"][0][0][0][0]
    assert 125.29 < lon < 125.32  # API_SRID lon/lat order
    by_class = auth_client.get("/api/v1/zoning/units/", {"class": "key"}).json()
    assert [f["id"] for f in by_class["features"]] == ["ZH22010220001"]
    by_code = auth_client.get("/api/v1/zoning/units/", {"code": "ZH2201022"}).json()
    assert by_code["count"] == 1
    by_bbox = auth_client.get("/api/v1/zoning/units/", {"bbox": "125.312,43.801,125.318,43.809"}).json()
    assert [f["id"] for f in by_bbox["features"]] == ["ZH22010220001"]
    contains = auth_client.get("/api/v1/zoning/units/", {"plan": "cc-test", "contains": "125.305,43.805"}).json()
    assert [f["id"] for f in contains["features"]] == ["ZH22010210001"]
    paged = auth_client.get("/api/v1/zoning/units/", {"page_size": 1}).json()
    assert len(paged["features"]) == 1 and paged["count"] == 2 and paged["next"]


def test_units_contains_in_projected_srid(auth_client, plan):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32651, always_xy=True).transform(125.315, 43.805)
    data = auth_client.get("/api/v1/zoning/units/", {"contains": f"{x},{y}", "srid": 32651}).json()
    assert [f["id"] for f in data["features"]] == ["ZH22010220001"]


def test_units_bad_query_is_400(auth_client, plan):
    response = auth_client.get("/api/v1/zoning/units/", {"contains": "abc"})
    assert response.status_code == 400
    assert "contains" in str(response.json())
    response = auth_client.get("/api/v1/zoning/units/", {"contains": "125,43", "srid": 999999})
    assert response.status_code == 400


def test_unit_detail(auth_client, plan):
    data = auth_client.get("/api/v1/zoning/units/cc-test/ZH22010210001/").json()
    assert data["properties"]["name"] == "单元ZH22010210001" and data["type"] == "Feature"
    assert auth_client.get("/api/v1/zoning/units/cc-test/ZH29999999999/").status_code == 404


def test_lookup_endpoint(auth_client, plan):
    site = {
        "type": "Polygon",
        "coordinates": [
            [[125.305, 43.801], [125.315, 43.801], [125.315, 43.809], [125.305, 43.809], [125.305, 43.801]]
        ],
    }
    response = auth_client.post("/api/v1/zoning/lookup/", {"plan": "cc-test", "geometry": site}, format="json")
    assert response.status_code == 200, response.json()
    units = response.json()["units"]
    assert [u["code"] for u in units] == ["ZH22010210001", "ZH22010220001"]
    assert sum(u["share"] for u in units) == pytest.approx(1.0, abs=1e-6)
    assert all(u["overlap_m2"] > 0 for u in units)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"plan": "cc-test", "geometry": {"type": "Polygon", "coordinates": "x"}}, "geometry"),
        ({"plan": "cc-test", "geometry": {"type": "Point", "coordinates": [125.3, 43.8]}, "srid": 999999}, "srid"),
        ({"plan": "nope", "geometry": {"type": "Point", "coordinates": [125.3, 43.8]}}, "plan"),
        ({"plan": "cc-test"}, "geometry"),
    ],
)
def test_lookup_bad_input_is_400(auth_client, plan, body, message):
    response = auth_client.post("/api/v1/zoning/lookup/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()


def test_summary_endpoint(auth_client, plan):
    rows = auth_client.get("/api/v1/zoning/plans/cc-test/summary/").json()
    assert rows[-1]["district"] == "全市" and rows[-1]["priority_units"] == 1
    assert rows[0]["priority_area_pct"] == 50.0
    assert auth_client.get("/api/v1/zoning/plans/nope/summary/").status_code == 404


def test_openapi_schema_and_swagger(auth_client):
    schema = auth_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/zoning/lookup/" in schema.content
    assert auth_client.get("/api/schema/swagger-ui/").status_code == 200


def test_api_root_links_every_collection(api_client):
    data = api_client.get("/api/v1/").json()
    assert data["zoning_units"].endswith("/api/v1/zoning/units/")
    assert data["leads"].endswith("/api/v1/leads/") and data["schema"] == "/api/schema/"
