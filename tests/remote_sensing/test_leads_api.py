"""Upload a change layer through the API, follow its status, list its leads as GeoJSON with filters."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from supervision.cases.models import Lead
from supervision.cases.services.users import user_upsert
from supervision.remote_sensing.models import ChangeLayer
from tests.factories import DivisionFactory

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    user, _ = user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def officer_client(db, plan):
    DivisionFactory(adcode="220102")
    user, _ = user_upsert(username="rs-officer", role="enforcement_officer", division_adcode="220102", password="pw-1")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def scanned(plan, tmp_path, media, small_windows, admin_client, django_capture_on_commit_callbacks):
    scene = scene_for("EPSG:32651")
    units = three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    for k, c in enumerate((1, 2, 4)):
        plant(data, 50 + 150 * k, 80, 10, c)  # priority unit: classes 1, 2, 4
    plant(data, 100, 300, 10, 2)  # key unit: class 2
    path = scene.write(tmp_path / "api.tif", data)
    with open(path, "rb") as fh, django_capture_on_commit_callbacks(execute=True):
        resp = admin_client.post(
            "/api/v1/change-layers/",
            {
                "file": SimpleUploadedFile("api.tif", fh.read(), "image/tiff"),
                "plan": plan.code,
                "kind": "landcover",
                "after_date": "2024-09-01",
                "sensor": "GF-1",
            },
            format="multipart",
        )
    assert resp.status_code == 201, resp.content
    return scene, units, resp.json(), path


def test_upload_scans_and_detail_shows_status_progress_and_counts(scanned, admin_client):
    _, _, created, _ = scanned
    detail = admin_client.get(f"/api/v1/change-layers/{created['id']}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100
    assert detail["leads_created"] == 4 and detail["windows_total"] == detail["windows_done"] == 9
    assert detail["sensor"] == "GF-1" and len(detail["checksum"]) == 64
    assert admin_client.get("/api/v1/change-layers/?plan=rs-test").json()["count"] == 1


def test_uploading_the_same_file_again_returns_the_existing_layer(scanned, admin_client, plan):
    _, _, created, path = scanned
    with open(path, "rb") as fh:
        resp = admin_client.post(
            "/api/v1/change-layers/",
            {"file": SimpleUploadedFile("copy.tif", fh.read()), "plan": plan.code, "kind": "landcover"},
            format="multipart",
        )
    assert resp.status_code == 200 and resp.json()["id"] == created["id"]
    assert ChangeLayer.objects.count() == 1 and Lead.objects.count() == 4


def test_bad_upload_is_refused_with_the_reason(plan, admin_client, media):
    three_units(plan, scene_for("EPSG:32651"))
    resp = admin_client.post(
        "/api/v1/change-layers/",
        {"file": SimpleUploadedFile("junk.tif", b"II*\x00garbage"), "plan": plan.code, "kind": "landcover"},
        format="multipart",
    )
    assert resp.status_code == 400 and "junk.tif" in resp.json()["detail"]
    assert ChangeLayer.objects.count() == 0
    assert not list((media / "layers").glob("*junk*"))


def test_upload_size_limit(plan, admin_client, media, settings):
    settings.CHANGE_LAYER_MAX_UPLOAD_MB = 0
    resp = admin_client.post(
        "/api/v1/change-layers/",
        {"file": SimpleUploadedFile("big.tif", b"x" * 10), "plan": plan.code, "kind": "landcover"},
        format="multipart",
    )
    assert resp.status_code == 400 and resp.json()["code"] == "too_large"


def test_only_admins_upload(plan, officer_client):
    resp = officer_client.post(
        "/api/v1/change-layers/",
        {"file": SimpleUploadedFile("a.tif", b"x"), "plan": plan.code, "kind": "landcover"},
        format="multipart",
    )
    assert resp.status_code == 403


def _features(client, query=""):
    resp = client.get("/api/v1/leads/?" + query.lstrip("&"))  # GeoJSON is the default
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def test_leads_list_as_geojson_with_filters(scanned, admin_client):
    scene, units, _, _ = scanned
    features = _features(admin_client, "&plan=rs-test")
    assert len(features) == 4
    f = features[0]
    assert f["type"] == "Feature" and f["geometry"]["type"] == "MultiPolygon"
    lon, lat = f["geometry"]["coordinates"][0][0][0]
    assert 125 < lon < 126 and 43 < lat < 44.5  # EPSG:4326 lon/lat
    props = f["properties"]
    assert {"source", "status", "unit", "unit_class", "change_class", "area_m2", "detected_at", "layer"} <= set(props)
    assert len(_features(admin_client, f"&unit={units['key'].code}")) == 1
    assert [x["properties"]["change_class"] for x in _features(admin_client, "&class=4")] == [4]
    assert len(_features(admin_client, "&class=2")) == 2
    assert len(_features(admin_client, "&source=remote_sensing&status=new")) == 4
    assert _features(admin_client, "&source=complaint") == []
    assert _features(admin_client, "&plan=other") == []
    # bbox around the key-unit patch only (in EPSG:4326)
    key_lead = Lead.objects.get(unit=units["key"])
    minx, miny, maxx, maxy = key_lead.geom.extent
    bbox = f"&bbox={minx - 1e-4},{miny - 1e-4},{maxx + 1e-4},{maxy + 1e-4}"
    assert [x["id"] for x in _features(admin_client, bbox)] == [key_lead.pk]
    assert admin_client.get("/api/v1/leads/?format=geojson&bbox=1,2").status_code == 400
    # the plain JSON list, asked for by name
    plain = admin_client.get("/api/v1/leads/?format=json&plan=rs-test&class=1").json()  # plain JSON on request
    assert plain["count"] == 1 and plain["results"][0]["change_class"] == 1


def test_division_scoping_applies_to_the_geojson_list(scanned, db):
    DivisionFactory(adcode="220103", name="宽城区")
    user, _ = user_upsert(username="rs-other", role="enforcement_officer", division_adcode="220103", password="pw-1")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    assert _features(client) == []
    assert get_user_model().objects.filter(username="rs-other").exists()
