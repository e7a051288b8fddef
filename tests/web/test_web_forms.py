"""Pages validate their forms with the API's input serializers: the same bad input, the same words."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.web.test_one_rule import _case_submitted


def _problems(api, url, data) -> list[str]:
    response = api.post(url, data, format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["problems"]
    return body["problems"]


def _page_says(client, url, data) -> str:
    response = client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _same_refusal(world, client, user, page_url, api_url, data):
    api = APIClient()
    api.force_authenticate(user)
    client.force_login(user)
    problems = _problems(api, api_url, data)
    page = _page_says(client, page_url, data)
    for problem in problems:
        assert problem in page, (problem, page_url)
    return problems


@pytest.mark.django_db
def test_lead_transitions_refuse_bad_input_with_the_apis_words(world, client):
    officer, lead = world.users["officer_a"], world.leads["a"]
    events = lead.events.count()
    cases = [
        ("dispatch", "dispatch", {"days": "0"}, "days: "),
        ("dispatch", "dispatch", {"days": "3", "due_date": "2030-01-01"}, "either days or due_date"),
        ("dispatch", "dispatch", {"division": "999999"}, "division: Unknown division adcode '999999'."),
        ("dismiss", "dismiss", {"reason_code": "nonsense", "reason": "x"}, "reason_code: "),
        ("dismiss", "dismiss", {}, "reason: A reason is required to dismiss a lead."),
        ("merge", "merge", {"into": "abc"}, "into: A valid integer is required."),
        ("assign", "assign", {"assignee": "x"}, "assignee: A valid integer is required."),
    ]
    for page_action, api_action, data, expected in cases:
        problems = _same_refusal(
            world,
            client,
            officer,
            f"/desk/leads/{lead.pk}/{page_action}/",
            f"/api/v1/leads/{lead.pk}/{api_action}/",
            data,
        )
        assert any(expected in p for p in problems), (problems, expected)
    lead.refresh_from_db()
    assert lead.status == "new" and lead.events.count() == events


@pytest.mark.django_db
def test_case_transitions_refuse_bad_input_with_the_apis_words(world, client):
    case = _case_submitted(world)
    officer, admin = world.users["officer_a"], world.users["admin"]
    cases = [
        (officer, "return", "return", {"note": "redo", "days": "-1"}, "days: "),
        (officer, "return", "return", {}, "note: A note is required."),
        (admin, "penalty", "penalty", {"amount_yuan": "abc", "legal_basis": "x"}, "amount_yuan: "),
        (admin, "penalty", "penalty", {"amount_yuan": "0", "legal_basis": "x"}, "amount_yuan: "),
        (admin, "transfer_police", "transfer-to-police", {"comment": "x"}, "agency: "),
        (admin, "name_party", "name-party", {"target": "abc"}, "target: A valid integer is required."),
        (admin, "attach", "attachments", {"caption": "x"}, "files: "),
    ]
    for user, page_action, api_action, data, expected in cases:
        problems = _same_refusal(
            world, client, user, f"/cases/{case.pk}/{page_action}/", f"/api/v1/cases/{case.pk}/{api_action}/", data
        )
        assert any(expected in p for p in problems), (problems, expected)
    case.refresh_from_db()
    assert case.status == "rectification_submitted" and case.penalty_amount_yuan is None


@pytest.mark.django_db
def test_a_lead_filed_on_the_desk_is_checked_as_the_api_checks_it(world, client):
    from supervision.cases.models import Lead

    officer = world.users["officer_a"]
    before = Lead.objects.count()
    bad = {"source": "satellite", "plan": "no-such-plan", "title": ""}
    api = APIClient()
    api.force_authenticate(officer)
    location = '{"type": "Point", "coordinates": [125.312, 43.812]}'
    problems = _problems(api, "/api/v1/leads/", {**bad, "location": location})
    client.force_login(officer)
    page = _page_says(client, "/desk/leads/new/", {**bad, "lon": "125.312", "lat": "43.812"})
    assert {p.split(":")[0] for p in problems} == {"source", "plan", "title"}
    for problem in problems:
        assert problem in page
    assert Lead.objects.count() == before
    good = {"source": "complaint", "plan": "web-city", "title": "群众举报", "lon": "125.312", "lat": "43.812"}
    response = client.post("/desk/leads/new/", good)
    lead = Lead.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/desk/leads/{lead.pk}/"
    assert lead.title == "群众举报" and lead.source == "complaint"


@pytest.mark.django_db
def test_an_inspection_plan_refuses_bad_input_with_the_apis_words(world, client):
    admin = world.users["admin"]
    data = {"name": "抽查", "zoning_plan": "nope", "period_start": "2030-13-01", "target_count": "0"}
    problems = _same_refusal(world, client, admin, "/inspections/", "/api/v1/inspection-plans/", data)
    assert {p.split(":")[0] for p in problems} >= {"zoning_plan", "period_start", "period_end", "target_count"}


def test_the_case_pages_no_longer_parse_the_transitions_fields_by_hand():
    source = (Path(__file__).resolve().parents[2] / "supervision" / "cases" / "web.py").read_text()
    for field in (
        "division",
        "days",
        "due_on",
        "reason",
        "into",
        "assignee",
        "requirements",
        "target",
        "amount_yuan",
        "agency",
        "summary",
        "note",
        "result",
        "period_start",
        "zoning_plan",
        "source",
        "title",
        "description",
        "lon",
        "lat",
    ):
        assert not re.search(rf"""POST\.get\(["']{field}["']""", source), field
        assert not re.search(rf"""p\.get\(["']{field}["']""", source), field


@pytest.mark.django_db
def test_a_checklist_item_refuses_a_bad_result_with_the_apis_words(world, client):
    from tests.web.test_phone import _scene

    _, _, inspection = _scene(world)
    item = inspection.items.first()
    admin = world.users["admin"]
    api = APIClient()
    api.force_authenticate(admin)
    bad = {"result": "maybe", "note": "x"}
    problems = _problems(api, f"/api/v1/inspections/{inspection.pk}/items/{item.pk}/record/", bad)
    assert problems == ['result: "maybe" is not a valid choice.']
    client.force_login(admin)
    page = _page_says(client, f"/inspections/{inspection.pk}/", {**bad, "action": "record", "item": item.pk})
    assert problems[0] in page
    item.refresh_from_db()
    assert item.result == "pending"


@pytest.mark.django_db
def test_an_empty_file_input_is_no_file_on_the_page(world, client):
    """Browsers send an empty <input type=file> as a blank part: the page confirms without files."""
    from supervision.cases.services import leads as lead_services

    officer = world.users["officer_a"]
    lead = lead_services.lead_dispatch(lead=world.leads["a"], actor=officer, days=5)
    lead = lead_services.lead_start_verification(lead=lead, actor=officer)
    client.force_login(officer)
    response = client.post(f"/desk/leads/{lead.pk}/confirm/", {"title": lead.title, "comment": "属实", "files": ""})
    lead.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == f"/cases/{lead.case.pk}/"
