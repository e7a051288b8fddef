"""Every malformed input found by fuzzing is a 4xx naming the field, never a 500."""

import json

import pytest
from django.test import override_settings

from supervision.cases.models import Lead


def lead_body(scene, **override):
    body = {
        "source": "complaint",
        "plan": scene.plan.code,
        "title": "群众举报",
        "location": {"type": "Point", "coordinates": [125.305, 43.805]},
    }
    body.update(override)
    return body


def siting_body(scene, **override):
    body = {
        "plan": scene.plan.code,
        "geometry": {"type": "Point", "coordinates": [125.305, 43.805]},
        "industry_code": "C2614",
        "project_type": "new",
    }
    body.update(override)
    return body


def assert_names(response, status, field):
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "code"} <= set(body), body
    assert field in json.dumps(body, ensure_ascii=False), body


@pytest.mark.django_db
def test_timezone_offset_beyond_the_earths_in_a_filter_is_400(client_for, users):
    r = client_for("admin").get("/api/v1/leads/", {"detected_after": "2026-01-01T00:00:00+20:00"})
    assert_names(r, 400, "detected_after")


@pytest.mark.django_db
def test_timezone_offset_beyond_the_earths_in_a_body_is_400(client_for, scene):
    r = client_for("admin").post(
        "/api/v1/leads/", lead_body(scene, received_at="2026-01-01T00:00:00+20:00"), format="json"
    )
    assert_names(r, 400, "received_at")


@pytest.mark.django_db
def test_target_count_beyond_an_integer_is_400(client_for, scene):
    body = {
        "name": "抽查",
        "zoning_plan": scene.plan.code,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "target_count": 3_000_000_000,
    }
    assert_names(client_for("admin").post("/api/v1/inspection-plans/", body, format="json"), 400, "target_count")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/v1/leads/", {"plan": "a\x00b"}),
        ("/api/v1/zoning/units/", {"plan": "a\x00b"}),
        ("/api/v1/targets/", {"q": "\x00"}),
        ("/api/v1/cases/", {"division": "22\x0001"}),
    ],
)
def test_nul_in_a_filter_is_400_naming_it(client_for, path, params):
    r = client_for("admin").get(path, params)
    assert_names(r, 400, next(iter(params)))


@pytest.mark.django_db
def test_nul_in_a_body_string_is_400_naming_it(client_for, scene):
    r = client_for("admin").post("/api/v1/leads/", lead_body(scene, plan="cc\x00"), format="json")
    assert_names(r, 400, "plan")
    r = client_for("admin").post(
        "/api/v1/siting-assessments/", siting_body(scene, industry_code="C\x0026"), format="json"
    )
    assert_names(r, 400, "industry_code")


@pytest.mark.django_db
@pytest.mark.parametrize("srid", [5773, 0, -1, 3_000_000_000, 999999])
def test_srid_not_a_horizontal_crs_is_400(client_for, scene, srid):
    r = client_for("admin").post("/api/v1/zoning/lookup/", siting_body(scene, srid=srid), format="json")
    assert_names(r, 400, "srid")
    r = client_for("admin").post("/api/v1/leads/", lead_body(scene, srid=srid), format="json")
    assert_names(r, 400, "srid")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [125.3, 43.8, 10, 1]},
        {"type": "Point", "coordinates": [125.3]},
        {"type": "Point", "coordinates": ["a", "b"]},
        {"type": "Point", "coordinates": [True, 1]},
        {"type": "Point", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[125.3, 43.8], [125.4, 43.8], [125.3, 43.8]]]},
        {"type": "GeometryCollection", "geometries": []},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [125.3, 43.8]}]},
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "Feature", "geometry": None},
        {"coordinates": [1, 2]},
        [125.3, 43.8],
        "POINT(125.3 43.8)",
        12,
        None,
    ],
)
def test_malformed_geometry_is_400_naming_it(client_for, scene, geometry):
    client = client_for("admin")
    assert_names(
        client.post("/api/v1/siting-assessments/", siting_body(scene, geometry=geometry), format="json"),
        400,
        "geometry",
    )
    assert_names(
        client.post("/api/v1/zoning/lookup/", siting_body(scene, geometry=geometry), format="json"), 400, "geometry"
    )
    assert_names(client.post("/api/v1/leads/", lead_body(scene, location=geometry), format="json"), 400, "location")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "override",
    [
        {"geometry": {"type": "Point", "coordinates": [200, 43.8]}},
        {"geometry": {"type": "Point", "coordinates": [125.3, 100]}},
        {"geometry": {"type": "Point", "coordinates": [1e9, 1e9]}, "srid": 4547},
        {"geometry": {"type": "Point", "coordinates": [1e300, -1e300]}, "srid": 3857},
        # Valid numbers for EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E), but in Africa.
        {"geometry": {"type": "Point", "coordinates": [500000, -3000000]}, "srid": 4547},
    ],
)
def test_impossible_location_is_refused_not_stored(client_for, scene, override):
    client = client_for("admin")
    assert_names(
        client.post("/api/v1/siting-assessments/", siting_body(scene, **override), format="json"), 400, "geometry"
    )
    lead = lead_body(scene, location=override["geometry"], srid=override.get("srid", 4326))
    assert_names(client.post("/api/v1/leads/", lead, format="json"), 400, "location")
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_projected_location_in_its_area_is_accepted(client_for, scene):
    # 125.305E 43.805N in EPSG:4551 (CGCS2000 / 3-degree Gauss-Kruger CM 126E).
    from django.contrib.gis.geos import Point

    p = Point(125.305, 43.805, srid=4490)
    p.transform(4551)
    r = client_for("admin").post(
        "/api/v1/leads/",
        lead_body(scene, location={"type": "Point", "coordinates": [p.x, p.y]}, srid=4551),
        format="json",
    )
    assert r.status_code == 201, r.content
    assert Lead.objects.get().unit_id == scene.unit_a.pk


@pytest.mark.django_db
def test_deep_json_body_is_400(client_for):
    body = "[" * 100_000 + "]" * 100_000
    r = client_for("admin").post("/api/v1/zoning/lookup/", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"], r.content
    body = json.dumps(
        {"plan": "x", "geometry": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}
    )
    r = client_for("admin").post("/api/v1/zoning/lookup/", body, content_type="application/json")
    assert_names(r, 400, "geometry")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {
            "plan": 12,
            "geometry": {"type": "Point", "coordinates": [125.3, 43.8]},
            "industry_code": [],
            "project_type": 1,
        },
        {"industry_code": "C2614", "project_type": "new"},
        {"plan": None, "geometry": None, "industry_code": None, "project_type": None},
        {"plan": {"code": "x"}, "geometry": {"type": "Point", "coordinates": [125.3, 43.8]}, "srid": "abc"},
        [],
        "text",
    ],
)
def test_malformed_siting_body_is_400(client_for, scene, body):
    r = client_for("admin").post("/api/v1/siting-assessments/", body, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid" and r.json()["problems"], r.json()


@pytest.mark.django_db
@override_settings(GEOMETRY_MAX_VERTICES=1000)
def test_geometry_past_the_vertex_limit_is_413_naming_it(client_for, scene):
    ring = (
        [[125.30 + 0.00001 * i, 43.80] for i in range(600)]
        + [[125.306, 43.81]]
        + [[125.30 + 0.00001 * i, 43.82] for i in range(600, 0, -1)]
    )
    ring.append(ring[0])
    polygon = {"type": "Polygon", "coordinates": [ring]}
    client = client_for("admin")
    for path, body, field in [
        ("/api/v1/zoning/lookup/", siting_body(scene, geometry=polygon), "geometry"),
        ("/api/v1/siting-assessments/", siting_body(scene, geometry=polygon), "geometry"),
        ("/api/v1/leads/", lead_body(scene, location=polygon), "location"),
    ]:
        r = client.post(path, body, format="json")
        assert r.status_code == 413, (path, r.content)
        assert r.json()["code"] == "too_many_vertices" and field in r.json()["problems"][0]


@pytest.mark.django_db
def test_geometry_past_the_extent_limit_is_400(client_for, scene):
    box = {"type": "Polygon", "coordinates": [[[100, 20], [130, 20], [130, 50], [100, 50], [100, 20]]]}
    assert_names(
        client_for("admin").post("/api/v1/zoning/lookup/", siting_body(scene, geometry=box), format="json"),
        400,
        "geometry",
    )


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_body_past_the_size_limit_is_413(client_for, scene):
    body = siting_body(scene, industry_code="C" * 20_000)
    r = client_for("admin").post("/api/v1/siting-assessments/", body, format="json")
    assert r.status_code == 413 and r.json()["code"] == "request_too_large", r.content


@pytest.mark.django_db
@override_settings(API_UPLOAD_MAX_BYTES=50_000)
def test_upload_past_its_limit_is_413_and_a_smaller_one_passes_the_door(client_for, make_lead):
    from django.core.files.uploadedfile import SimpleUploadedFile

    lead = make_lead()
    big = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 60_000, content_type="image/png")
    r = client_for("officer").post(f"/api/v1/leads/{lead.pk}/attachments/", {"files": [big]}, format="multipart")
    assert r.status_code == 413 and r.json()["code"] == "request_too_large", r.content
    small = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 600, content_type="image/png")
    r = client_for("officer").post(f"/api/v1/leads/{lead.pk}/attachments/", {"files": [small]}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "bad_attachment", (
        r.content
    )  # past the size door, refused by content
