"""One rule in one place: the API, the pages and the templates ask the same selectors and permissions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.web.conftest import PASSWORD


def _case_submitted(world):
    from supervision.cases.services import cases as case_services
    from supervision.cases.services import leads as lead_services
    from tests.cases.conftest import raw_file

    officer = world.users["officer_a"]
    lead = lead_services.lead_dispatch(lead=world.leads["a"], actor=officer, days=5)
    lead = lead_services.lead_start_verification(lead=lead, actor=officer)
    _, case = lead_services.lead_confirm(lead=lead, actor=officer)
    case = case_services.case_order_rectification(
        case=case, actor=officer, requirements="拆除", days=10, target_id=world.target.pk
    )
    return case_services.case_submit_rectification(case=case, actor=officer, files=[raw_file()])


@pytest.mark.django_db
def test_the_page_and_the_api_offer_the_same_actions(world, client):
    from supervision.cases.services.users import user_upsert

    case = _case_submitted(world)
    colleague, _ = user_upsert(
        username="officer_a2", role="enforcement_officer", division_adcode="220102", password=PASSWORD
    )
    for user, may_accept in ((world.users["officer_a"], False), (colleague, True)):
        api = APIClient()
        api.force_authenticate(user)
        actions = api.get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
        assert ("accept" in actions) is may_accept and "return" in actions
        client.force_login(user)
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert ('id="form-accept"' in page) is may_accept
        for action in actions:
            assert f'id="form-{action}"' in page
    lead = world.leads["a2"]
    api = APIClient()
    api.force_authenticate(world.users["officer_a"])
    assert api.get(f"/api/v1/leads/{lead.pk}/").json()["allowed_actions"] == ["dispatch", "assign", "attach"]


@pytest.mark.django_db
def test_layer_upload_is_refused_to_officers_on_the_page_as_in_the_api(world, client):
    client.force_login(world.users["officer_a"])
    assert client.post("/layers/", {}).status_code == 403
    api = APIClient()
    api.force_authenticate(world.users["officer_a"])
    assert api.post("/api/v1/change-layers/", {}, format="multipart").status_code == 403
    client.force_login(world.users["admin"])
    response = client.post("/layers/", {"kind": "landcover"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "file" in response.json()["error"] and "plan" in response.json()["error"]


@pytest.mark.django_db
def test_a_notification_opens_its_object_and_is_marked_read(world, client):
    from supervision.cases.models import Notification
    from supervision.cases.services import leads as lead_services

    lead_services.lead_dispatch(lead=world.leads["a"], actor=world.users["admin"], days=5)
    n = Notification.objects.filter(
        recipient=world.users["officer_a"], read_at__isnull=True, lead__isnull=False
    ).first()
    assert n is not None
    client.force_login(world.users["officer_b"])
    assert client.post(f"/desk/notifications/{n.pk}/", {"open": "1"}).status_code == 404
    client.force_login(world.users["officer_a"])
    desk = client.get("/desk/").content.decode()
    assert f'data-notification="{n.pk}"' in desk
    response = client.post(f"/desk/notifications/{n.pk}/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == f"/desk/leads/{n.lead_id}/"
    n.refresh_from_db()
    assert n.read_at is not None
    assert f'data-notification="{n.pk}"' not in client.get("/desk/").content.decode()


@pytest.mark.django_db
def test_a_case_without_a_known_party_is_ordered_and_named_later(world, client):
    from supervision.cases.services import leads as lead_services

    officer = world.users["officer_a"]
    lead = lead_services.lead_dispatch(lead=world.leads["a"], actor=officer, days=5)
    lead = lead_services.lead_start_verification(lead=lead, actor=officer)
    _, case = lead_services.lead_confirm(lead=lead, actor=officer)
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(officer)
    url = f"/api/v1/cases/{case.pk}/"
    refused = api.post(url + "order-rectification/", {"requirements": "恢复植被", "days": 30}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "target_required"
    ordered = api.post(
        url + "order-rectification/", {"requirements": "恢复植被", "days": 30, "party_unknown": True}, format="json"
    )
    assert ordered.status_code == 200 and ordered.json()["target"] is None
    assert "name_party" in ordered.json()["allowed_actions"]
    client.force_login(officer)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="form-name_party"' in page and "不明（待查）" in page
    client.post(f"/cases/{case.pk}/name_party/", {"target": world.target.pk})
    case.refresh_from_db()
    assert case.target == world.target
    again = api.post(url + "name-party/", {"target": world.target.pk}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "already_recorded"
    assert "name_party" not in api.get(url).json()["allowed_actions"]


@pytest.mark.django_db
def test_the_desk_sorts_and_exports_what_it_shows(world, client):
    import csv
    import io
    import re

    from openpyxl import load_workbook

    from supervision.cases.models import Lead

    Lead.objects.filter(pk=world.leads["a"].pk).update(title='=HYPERLINK("http://x")')
    client.force_login(world.users["admin"])
    ids = [world.leads[k].pk for k in ("a", "a2", "b")]
    page = client.get("/desk/?sort=id").content.decode()
    shown = [int(x) for x in re.findall(r'<tr data-lead="(\d+)"', page)]
    assert shown == sorted(ids)
    page = client.get("/desk/?sort=-id").content.decode()
    assert [int(x) for x in re.findall(r'<tr data-lead="(\d+)"', page)] == sorted(ids, reverse=True)
    assert 'href="?sort=id"' in page
    body = b"".join(client.get("/desk/?sort=id&export=csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "编号" and [int(r[0]) for r in rows[1:]] == sorted(ids)
    assert rows[1][1].startswith("'=HYPERLINK")  # a formula cell is quoted, never live
    xlsx = load_workbook(io.BytesIO(client.get("/desk/?status=new&export=xlsx").content))
    assert xlsx.active.max_row == 1 + Lead.objects.filter(status="new").count()
    client.cookies["django_language"] = "en"
    body = b"".join(client.get("/desk/?export=csv").streaming_content).decode("utf-8-sig")
    assert body.startswith("No.,Title")


def test_evidence_fields_have_readable_names_and_no_empty_or_technical_rows():
    from django.utils import translation

    from supervision.cases.web import _evidence_rows

    evidence = {
        "layer_checksum": "ab12",
        "patch_key": "p-1",
        "before_date": None,
        "after_date": "2025-08-01",
        "area_m2": 1234.5,
        "valid_fraction": 0.981,
        "change_class_name": "植被减少",
    }
    with translation.override("zh-hans"):
        rows = dict(_evidence_rows(evidence))
    assert rows == {
        "后时相": "2025-08-01",
        "面积（平方米）": "1,234.5",
        "有效像元比例": "98.1 %",
        "变化类型": "植被减少",
    }
    with translation.override("en"):
        assert "Area (m²)" in dict(_evidence_rows(evidence))


@pytest.mark.django_db
def test_the_lead_page_gives_coordinates_navigation_and_the_geometry_to_take_along(world, client):
    import json

    lead = world.leads["a"]
    client.force_login(world.users["officer_a"])
    page = client.get(f"/desk/leads/{lead.pk}/").content.decode()
    assert 'href="geo:43.810000,125.310000?q=43.810000,125.310000"' in page
    assert "125.31, 43.81" in page and "CGCS2000" in page and "WGS84" in page
    feature = json.loads(client.get(f"/desk/leads/{lead.pk}/geometry.geojson").content)
    assert feature["geometry"]["type"] == "Point" and feature["properties"]["id"] == lead.pk
    kml = client.get(f"/desk/leads/{lead.pk}/geometry.kml").content.decode()
    assert "<Placemark>" in kml and "<coordinates>125.31,43.81" in kml
    client.force_login(world.users["officer_b"])
    assert client.get(f"/desk/leads/{lead.pk}/geometry.kml").status_code == 404


@pytest.mark.django_db
def test_a_lead_and_a_case_are_assigned_to_a_person_of_their_division(world, client):
    from supervision.cases.models import Notification
    from supervision.cases.services.users import user_upsert

    colleague, _ = user_upsert(
        username="officer_a2", role="enforcement_officer", division_adcode="220102", password=PASSWORD
    )
    lead = world.leads["a"]
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(world.users["officer_a"])
    wrong = api.post(f"/api/v1/leads/{lead.pk}/assign/", {"assignee": world.users["officer_b"].pk}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "bad_assignee"
    ok = api.post(f"/api/v1/leads/{lead.pk}/assign/", {"assignee": colleague.pk}, format="json")
    assert ok.status_code == 200 and ok.json()["assignee"] == colleague.pk
    assert Notification.objects.filter(recipient=colleague, lead=lead).exists()
    client.force_login(world.users["officer_a"])
    page = client.get(f"/desk/leads/{lead.pk}/").content.decode()
    assert 'id="form-assign"' in page and f'<option value="{colleague.pk}" selected>' in page
    client.post(f"/desk/leads/{lead.pk}/assign/", {"assignee": ""})
    lead.refresh_from_db()
    assert lead.assignee is None


@pytest.mark.django_db
def test_accepting_shows_the_leads_evidence_beside_the_rectification_photos(world, client):
    from supervision.cases.models import Evidence
    from supervision.cases.services.leads import lead_attach
    from tests.cases.conftest import raw_file

    officer = world.users["officer_a"]
    original = lead_attach(lead=world.leads["a"], actor=officer, files=[raw_file("scene.png")])[0]
    case = _case_submitted(world)
    rectified = Evidence.objects.get(case=case, case_event__to_status="rectification_submitted")
    client.force_login(officer)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    before = page[page.index('id="compare-before"') : page.index('id="compare-after"')]
    after = page[page.index('id="compare-after"') : page.index("</section>", page.index('id="compare-after"'))]
    assert f'<img src="/desk/evidence/{original.pk}/" alt=' in before and 'loading="lazy"' in before
    assert f'<img src="/desk/evidence/{rectified.pk}/"' in after and f"/desk/evidence/{original.pk}/" not in after
    # Both are thumbnails in the materials and the timeline too, not bare file names.
    assert page.count(f'<img src="/desk/evidence/{rectified.pk}/"') >= 2


def test_the_api_and_the_pages_take_lead_and_case_actions_from_one_table():
    """Every lead/case action route of the API is built from `cases.actions`, the same entries the pages run."""
    from django.urls import resolve

    from supervision.cases import actions

    api_paths = {
        (actions.LEADS, "dispatch"): "/api/v1/leads/1/dispatch/",
        (actions.LEADS, "start_verification"): "/api/v1/leads/1/start-verification/",
        (actions.LEADS, "dismiss"): "/api/v1/leads/1/dismiss/",
        (actions.LEADS, "merge"): "/api/v1/leads/1/merge/",
        (actions.LEADS, "confirm"): "/api/v1/leads/1/confirm/",
        (actions.LEADS, "assign"): "/api/v1/leads/1/assign/",
        (actions.LEADS, "attach"): "/api/v1/leads/1/attachments/",
        (actions.CASES, "order_rectification"): "/api/v1/cases/1/order-rectification/",
        (actions.CASES, "assign"): "/api/v1/cases/1/assign/",
        (actions.CASES, "name_party"): "/api/v1/cases/1/name-party/",
        (actions.CASES, "submit_rectification"): "/api/v1/cases/1/submit-rectification/",
        (actions.CASES, "accept"): "/api/v1/cases/1/accept/",
        (actions.CASES, "return"): "/api/v1/cases/1/return/",
        (actions.CASES, "penalty"): "/api/v1/cases/1/penalty/",
        (actions.CASES, "transfer_police"): "/api/v1/cases/1/transfer-to-police/",
        (actions.CASES, "publish"): "/api/v1/cases/1/publish/",
        (actions.CASES, "attach"): "/api/v1/cases/1/attachments/",
    }
    assert {(t, n) for t in (actions.LEADS, actions.CASES) for n in t.actions} == set(api_paths)
    for (table, name), path in api_paths.items():
        view = resolve(path).func.view_class
        assert view.table is table and view.object_action is table[name]


@pytest.mark.django_db
def test_a_role_without_the_action_is_refused_before_its_input_on_the_page_and_the_api(world, client):
    """The assessor reads leads but may not dispatch: 403 from both, even for empty input (role before input)."""
    lead = world.leads["a"]
    api = APIClient()
    api.force_authenticate(world.users["assessor"])
    assert api.post(f"/api/v1/leads/{lead.pk}/dispatch/", {}, format="json").status_code == 403
    client.force_login(world.users["assessor"])
    assert client.post(f"/desk/leads/{lead.pk}/dispatch/", {}).status_code == 403
    lead.refresh_from_db()
    assert lead.status == "new"
