"""A planner takes a plan through a revision in the pages; what the public and other roles may see and do."""

import datetime
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from supervision.zoning.choices import PlanStatus
from supervision.zoning.models import ControlUnit, ZoningPlan
from supervision.zoning.services import access_list_import, plan_file, plan_publish, plan_revise
from tests.zoning.access_plan import U_K, build_plan, row, write_csv
from tests.zoning.test_plan_life import revised_units

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Messages asserted in English whatever the compiled catalogues hold."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def effective(tmp_path):
    plan = build_plan()
    access_list_import(
        path=write_csv(tmp_path / "l.csv", [row("区县", "220102", "NG-01", "禁止", "C26")]), plan_code=plan.code
    )
    plan = plan_file(
        plan=plan, authority="吉林省生态环境厅", number="吉环备〔2024〕1号", date=datetime.date(2024, 12, 1)
    )
    return plan_publish(plan=plan, effective_date=datetime.date(2024, 12, 31))


def _user(django_user_model, name, role):
    user = django_user_model.objects.create_user(name, password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_planner_revises_replaces_diffs_files_and_publishes_in_the_pages(
    effective, client, django_user_model, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PUBLIC_ZONING = True
    client.force_login(_user(django_user_model, "planner_p", "planner"))
    page = client.get("/plans/cc-test/")
    assert page.status_code == 200 and 'id="form-revise"' in page.content.decode()

    r = client.post("/plans/cc-test/revise/", {"code": "cc-test-2029", "name": "长春修订稿", "reason": "五年修编"})
    assert r.status_code == 302 and r["Location"] == "/plans/cc-test-2029/"
    draft = ZoningPlan.objects.get(code="cc-test-2029")
    assert draft.status == "draft" and draft.units.count() == 3

    upload = SimpleUploadedFile("v2.geojson", revised_units(tmp_path).read_bytes())
    r = client.post("/plans/cc-test-2029/replace_units/", {"file": upload}, follow=True)
    assert "4 features imported; the draft's previous ones replaced." in _messages(r)
    assert draft.units.count() == 4

    diff = client.get("/plans/cc-test/diff/cc-test-2029/")
    html = diff.content.decode()
    assert diff.status_code == 200 and f"<code>{U_K}</code> → <code>ZH22010230001</code>" in html
    features = json.loads(re.search(r'id="diff-features"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert {f["properties"]["change"] for f in features["features"]} == {
        "added",
        "reclassified",
        "reshaped",
        "reshaped_before",
    }
    assert 'id="diff-map"' in html
    xlsx = client.get("/plans/cc-test/diff/cc-test-2029/?format=xlsx")
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"

    # Before publication the public still sees the version in force only.
    client.logout()
    assert client.get("/public/units/cc-test-2029/ZH22010230001/").status_code == 404
    assert client.get("/public/").context["plan"].code == "cc-test"
    client.force_login(django_user_model.objects.get(username="planner_p"))

    receipt = SimpleUploadedFile("备案回执.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    r = client.post(
        "/plans/cc-test-2029/file/",
        {
            "authority": "吉林省生态环境厅",
            "number": "吉环备〔2029〕3号",
            "date": "2029-06-01",
            "attachments": [receipt],
        },
        follow=True,
    )
    assert "Plan cc-test-2029 filed." in _messages(r)
    html = r.content.decode()
    assert "吉环备〔2029〕3号" in html and "备案回执.pdf" in html and "planner_p" in html
    client.logout()
    assert client.get("/public/").context["plan"].code == "cc-test"  # filed is not yet public
    client.force_login(django_user_model.objects.get(username="planner_p"))

    r = client.post("/plans/cc-test-2029/publish/", {"effective_date": "2029-07-01"}, follow=True)
    assert "Plan cc-test-2029 is in force." in _messages(r)
    assert "2034-07-01" in r.content.decode()  # the five-year revision date
    effective.refresh_from_db()
    assert effective.status == "superseded"

    client.logout()
    public = client.get("/public/")
    assert public.context["plan"].code == "cc-test-2029"
    assert [p.code for p in public.context["plans"]] == ["cc-test", "cc-test-2029"]
    old = client.get("/public/?plan=cc-test").content.decode()
    assert 'id="plan-superseded"' in old


def test_refusals_in_the_pages_read_as_messages(effective, client, django_user_model):
    client.force_login(_user(django_user_model, "planner_q", "planner"))
    r = client.post("/plans/cc-test/file/", {"authority": "a", "number": "n", "date": "2029-01-01"}, follow=True)
    assert any(f"cannot go from {PlanStatus.EFFECTIVE.label} to {PlanStatus.FILED.label}" in m for m in _messages(r))
    r = client.post("/plans/cc-test/replace_units/", {"file": SimpleUploadedFile("u.geojson", b"{}")}, follow=True)
    assert _messages(r) == [
        f"Plan cc-test is {PlanStatus.EFFECTIVE.label}: its units, overlays and access list cannot change; "
        "revise it into a new draft (plan_revise)."
    ]
    plan_revise(from_code="cc-test", to_code="cc-d")
    r = client.post("/plans/cc-d/publish/", {"effective_date": "2029-01-01"}, follow=True)
    assert any(f"cannot go from {PlanStatus.DRAFT.label} to {PlanStatus.EFFECTIVE.label}" in m for m in _messages(r))
    r = client.post("/plans/cc-d/file/", {"authority": "", "number": "", "date": "bad"}, follow=True)
    # the page refuses as the API does, with the API's words (the same input serializer)
    assert _messages(r) == [
        "authority: This field may not be blank.; number: This field may not be blank.; "
        "date: Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
    ]
    api = APIClient()
    api.force_authenticate(_user(django_user_model, "planner_q2", "planner"))
    body = api.post("/api/v1/zoning/plans/cc-d/file/", {"authority": "", "number": "", "date": "bad"}).json()
    assert "; ".join(body["problems"]) == _messages(r)[0]
    assert ZoningPlan.objects.get(code="cc-d").status == "draft"


def test_only_planners_change_plans(effective, client, api_client, django_user_model):
    officer = _user(django_user_model, "officer_x", "enforcement_officer")
    client.force_login(officer)
    assert client.get("/plans/cc-test/").status_code == 200
    assert 'id="form-revise"' not in client.get("/plans/cc-test/").content.decode()
    assert client.post("/plans/cc-test/revise/", {"code": "x"}).status_code == 403
    api_client.force_authenticate(officer)
    r = api_client.post("/api/v1/zoning/plans/cc-test/revise/", {"code": "x"}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    assert not ZoningPlan.objects.filter(code="x").exists()


def test_api_takes_a_plan_through_its_life(effective, api_client, django_user_model, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    api_client.force_authenticate(_user(django_user_model, "planner_api", "planner"))
    r = api_client.post("/api/v1/zoning/plans/cc-test/revise/", {"code": "cc-api"}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "draft" and r.json()["revised_from"] == "cc-test"
    r = api_client.post("/api/v1/zoning/plans/cc-api/publish/", {"effective_date": "2029-01-01"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "illegal_transition"
    r = api_client.post("/api/v1/zoning/plans/cc-api/file/", {"authority": "厅"}, format="multipart")
    body = r.json()
    assert r.status_code == 400 and {"number", "date"} <= set(body)  # the fields, as DRF names them
    assert [p.split(":")[0] for p in body["problems"]] == ["number", "date"]
    r = api_client.post(
        "/api/v1/zoning/plans/cc-api/file/",
        {"authority": "厅", "number": "1号", "date": "2029-01-02", "attachments": [SimpleUploadedFile("a.pdf", b"x")]},
        format="multipart",
    )
    assert r.status_code == 200 and r.json()["document_number"] == "1号"
    r = api_client.post("/api/v1/zoning/plans/cc-api/publish/", {"effective_date": "2029-02-01"}, format="json")
    assert r.status_code == 200 and r.json()["revision_due"] == "2034-02-01"
    assert api_client.get("/api/v1/zoning/plans/cc-test/").json()["status"] == "superseded"
    r = api_client.post(
        "/api/v1/zoning/plans/cc-api/updates/", {"what": "红线调整", "document": "吉政函〔2030〕1号"}, format="json"
    )
    assert r.status_code == 201
    diff = api_client.get("/api/v1/zoning/plans/cc-test/diff/cc-api/").json()
    assert diff["units"]["unchanged"] == 3 and diff["clauses"] == {"added": [], "removed": [], "changed": []}


# --- what the public sees -------------------------------------------------------------------


def test_public_sees_only_effective_and_superseded_versions(effective, api_client, client, settings, django_user_model):
    settings.PUBLIC_ZONING = True
    plan_revise(from_code="cc-test", to_code="cc-draft")
    filed = plan_revise(from_code="cc-test", to_code="cc-filed")
    plan_file(plan=filed, authority="a", number="n", date=datetime.date(2029, 1, 1))
    codes = {p["code"] for p in api_client.get("/api/v1/zoning/plans/").json()["results"]}
    assert codes == {"cc-test"}
    for hidden in ("cc-draft", "cc-filed"):
        assert api_client.get(f"/api/v1/zoning/plans/{hidden}/").status_code == 404
        assert api_client.get(f"/api/v1/zoning/plans/{hidden}/summary/").status_code == 404
        assert api_client.get(f"/api/v1/zoning/units/?plan={hidden}").json()["features"] == []
        assert api_client.get(f"/api/v1/zoning/units/{hidden}/{U_K}/").status_code == 404
        assert api_client.get(f"/api/v1/zoning/access-requirements/?plan={hidden}").json()["results"] == []
        r = api_client.post(
            "/api/v1/siting-assessments/",
            {"plan": hidden, "industry_code": "C2614", "project_type": "new", "lon": 125.315, "lat": 43.805},
            format="json",
        )
        assert r.status_code == 400 and "plan" in json.dumps(r.json())
        assert client.get(f"/public/units/{hidden}/{U_K}/").status_code == 404
        assert client.get(f"/public/?plan={hidden}").status_code == 404
        assert client.get(f"/public/overlays.json?plan={hidden}").status_code == 404
    # Signed in, every version.
    api_client.force_authenticate(django_user_model.objects.create(username="u"))
    assert {p["code"] for p in api_client.get("/api/v1/zoning/plans/").json()["results"]} >= {"cc-draft", "cc-filed"}


def test_public_geometry_is_generalised_and_rounded(effective, api_client, settings):
    settings.PUBLIC_ZONING = True
    settings.PUBLIC_COORDINATE_DECIMALS = 3
    settings.PUBLIC_GEOMETRY_TOLERANCE_M = 200
    # A unit with a 20 m spike: the public outline drops it; every coordinate has at most 3 decimals.
    ZoningPlan.objects.filter(pk=effective.pk).update(status="draft")
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = (
        (125.40, 43.80),
        (125.4001, 43.8002),
        (125.4002, 43.80),
        (125.42, 43.80),
        (125.42, 43.82),
        (125.40, 43.82),
        (125.40, 43.80),
    )
    unit = ControlUnit.objects.get(code=U_K)
    ControlUnit.objects.filter(pk=unit.pk).update(geom=MultiPolygon(Polygon(ring), srid=settings.STORAGE_SRID))
    ZoningPlan.objects.filter(pk=effective.pk).update(status="effective")
    feature = api_client.get(f"/api/v1/zoning/units/cc-test/{U_K}/").json()
    coords = [pt for poly in feature["geometry"]["coordinates"] for ring_ in poly for pt in ring_]
    assert all(round(v, 3) == pytest.approx(v, abs=1e-9) for pt in coords for v in pt)
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert len(coords) < len(ring) and [125.4001, 43.8002] not in coords


def test_admin_shows_content_of_a_plan_in_force_read_only(effective, client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", password="pw-123456")
    client.force_login(admin_user)
    unit = ControlUnit.objects.get(plan=effective, code=U_K)
    url = f"/admin/zoning/controlunit/{unit.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, {"name": "改"}).status_code == 403
    draft = plan_revise(from_code="cc-test", to_code="cc-admin")
    draft_unit = ControlUnit.objects.get(plan=draft, code=U_K)
    from django.contrib.admin import site
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    unit_admin = site._registry[ControlUnit]
    assert unit_admin.has_change_permission(request, draft_unit) and not unit_admin.has_change_permission(request, unit)
