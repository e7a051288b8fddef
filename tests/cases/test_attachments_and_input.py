"""Bad input gets a 400 with a clear message and changes nothing; attachments are checked by content."""

import pytest

from supervision.cases.models import Evidence, Lead, LeadEvent
from supervision.cases.services import leads as lead_svc
from tests.cases.conftest import JPEG, PDF, upload

pytestmark = pytest.mark.django_db


def verifying(make_lead, users):
    lead = lead_svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3)
    return lead_svc.lead_start_verification(lead=lead, actor=users["officer"])


def test_missing_reason_is_a_400_and_changes_nothing(make_lead, users, client_for):
    lead = verifying(make_lead, users)
    events = LeadEvent.objects.count()
    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        r = client_for("officer").post(f"/api/v1/leads/{lead.pk}/dismiss/", payload, format="json")
        assert r.status_code == 400, payload
        assert "reason" in str(r.json()).lower()
    lead.refresh_from_db()
    assert lead.status == "verifying" and LeadEvent.objects.count() == events


def test_unknown_target_and_unknown_division_are_400(scene, client_for):
    client = client_for("admin")
    base = {
        "source": "complaint",
        "plan": scene.plan.code,
        "title": "举报",
        "location": {"type": "Point", "coordinates": [125.305, 43.805]},
        "srid": 4490,
    }
    r = client.post("/api/v1/leads/", {**base, "target": 999999}, format="json")
    assert r.status_code == 400 and "Unknown enforcement target 999999" in r.json()["detail"]
    r = client.post("/api/v1/leads/", {**base, "division": "999999"}, format="json")
    assert r.status_code == 400 and "Unknown division" in str(r.json())
    r = client.post("/api/v1/leads/", {**base, "location": {"type": "Point", "coordinates": [0, 0]}}, format="json")
    assert r.status_code == 400 and "no unit" in r.json()["detail"]
    r = client.post("/api/v1/leads/", {**base, "source": "remote_sensing"}, format="json")
    assert r.status_code == 400
    r = client.post("/api/v1/leads/", {**base, "location": {"type": "Nope"}}, format="json")
    assert r.status_code == 400 and "GeoJSON" in str(r.json())
    assert not Lead.objects.exists()


def test_complaint_lead_is_created_in_the_unit_with_attachments(scene, client_for):
    r = client_for("officer").post(
        "/api/v1/leads/",
        {
            "source": "hotline_12369",
            "plan": scene.plan.code,
            "title": "河道排污",
            "description": "夜间排放",
            "location": '{"type": "Point", "coordinates": [125.305, 43.805]}',
            "srid": 4490,
            "files": [upload("a.jpg", JPEG, "image/jpeg"), upload("b.pdf", PDF, "application/pdf")],
        },
        format="multipart",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["division"], body["unit"], body["source"]) == (
        "new",
        "220102",
        scene.unit_a.code,
        "hotline_12369",
    )
    assert sorted(a["content_type"] for a in body["attachments"]) == ["application/pdf", "image/jpeg"]
    assert body["events"][0]["to_status"] == "new"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.exe", b"MZ\x90\x00" + b"\x00" * 40, "not a JPEG, PNG or PDF"),
        ("photo.png", b"GIF89a" + b"\x00" * 40, "not a JPEG, PNG or PDF"),
        ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "name ends otherwise"),
        ("empty.png", b"", "files"),  # DRF refuses an empty upload itself
    ],
)
def test_wrong_file_is_refused_with_a_clear_message(make_lead, client_for, name, content, message):
    lead = make_lead()
    r = client_for("officer").post(
        f"/api/v1/leads/{lead.pk}/attachments/", {"files": [upload(name, content, "image/png")]}, format="multipart"
    )
    assert r.status_code == 400
    assert message in str(r.json())
    assert not Evidence.objects.filter(lead=lead).exists()


def test_file_over_the_size_limit_is_refused(make_lead, client_for, settings):
    settings.CASES_ATTACHMENT_MAX_BYTES = 100
    lead = make_lead()
    r = client_for("officer").post(
        f"/api/v1/leads/{lead.pk}/attachments/",
        {"files": [upload("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)]},
        format="multipart",
    )
    assert r.status_code == 400 and "at most" in r.json()["detail"]


def test_one_bad_file_refuses_the_whole_transition(make_lead, users, client_for):
    lead = verifying(make_lead, users)
    r = client_for("officer").post(
        f"/api/v1/leads/{lead.pk}/confirm/",
        {"files": [upload(), upload("x.txt", b"hello", "text/plain")]},
        format="multipart",
    )
    assert r.status_code == 400
    lead.refresh_from_db()
    assert lead.status == "verifying" and not Evidence.objects.exists()


def test_case_api_bad_input(make_lead, users, client_for):
    lead = verifying(make_lead, users)
    case_id = client_for("officer").post(f"/api/v1/leads/{lead.pk}/confirm/", {}, format="json").json()["case"]
    client = client_for("officer")
    r = client.post(
        f"/api/v1/cases/{case_id}/order-rectification/",
        {"requirements": "拆除", "due_date": "2001-01-01"},
        format="json",
    )
    assert r.status_code == 400 and "in the past" in r.json()["detail"]
    r = client.post(f"/api/v1/cases/{case_id}/order-rectification/", {"days": 3}, format="json")
    assert r.status_code == 400 and "requirements" in str(r.json()).lower()
    r = client.post(
        f"/api/v1/cases/{case_id}/order-rectification/",
        {"requirements": "拆除", "days": 3, "target": 987654},
        format="json",
    )
    assert r.status_code == 400 and "Unknown enforcement target" in r.json()["detail"]
    r = client.post(f"/api/v1/cases/{case_id}/accept/", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "illegal_transition"
    assert "cannot go from Opened to Accepted" in r.json()["detail"]
    r = client.post(f"/api/v1/cases/{case_id}/accept/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.json()["code"] == "illegal_transition" and "不能从" in r.json()["detail"]
    ok = client.post(
        f"/api/v1/cases/{case_id}/order-rectification/",
        {"requirements": "拆除", "days": 10, "day_kind": "working"},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "rectification_ordered"
    no_files = client.post(f"/api/v1/cases/{case_id}/submit-rectification/", {"comment": "done"}, format="multipart")
    assert no_files.status_code == 400 and "Evidence is required" in no_files.json()["detail"]
    r = client.post(f"/api/v1/cases/{case_id}/penalty/", {"amount_yuan": "-5", "legal_basis": "x"}, format="json")
    assert r.status_code == 400
