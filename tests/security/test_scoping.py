"""Every id a request names resolves within the user's scope; a foreign id reads exactly like a missing one."""

import pytest

from supervision.cases.models import CaseEvent, Lead, LeadEvent
from supervision.cases.services import leads as lead_svc

pytestmark = pytest.mark.django_db

MISSING = 987654321


def _body(response):
    return response.status_code, response.json()


def _normalise(body, foreign_id):
    """The same answer with the id put back: only the number itself may differ."""
    return str(body).replace(str(MISSING), "<id>").replace(str(foreign_id), "<id>")


def test_lead_create_refuses_another_districts_target_like_a_missing_one(scene, client_for):
    client = client_for("officer")  # 南关区 officer; target_b lies in 宽城区
    base = {
        "source": "complaint",
        "plan": scene.plan.code,
        "title": "举报",
        "location": {"type": "Point", "coordinates": [125.305, 43.805]},
        "srid": 4490,
    }
    foreign = client.post("/api/v1/leads/", {**base, "target": scene.target_b.pk}, format="json")
    missing = client.post("/api/v1/leads/", {**base, "target": MISSING}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["code"] == missing.json()["code"] == "unknown_target"
    assert _normalise(foreign.json(), scene.target_b.pk) == _normalise(missing.json(), scene.target_b.pk)
    assert "target" in foreign.json()["problems"][0]
    assert not Lead.objects.exists() and not LeadEvent.objects.exists()
    # The own district's target is accepted.
    ok = client.post("/api/v1/leads/", {**base, "target": scene.target_a.pk}, format="json")
    assert ok.status_code == 201 and ok.json()["target"] == scene.target_a.pk


def test_order_rectification_refuses_another_districts_target_like_a_missing_one(scene, users, make_lead, client_for):
    officer = users["officer"]
    lead = lead_svc.lead_dispatch(lead=make_lead(), actor=officer, days=3)
    lead = lead_svc.lead_start_verification(lead=lead, actor=officer)
    case = lead_svc.lead_confirm(lead=lead, actor=officer)[1]
    events = CaseEvent.objects.filter(case=case).count()
    client = client_for("officer")
    url = f"/api/v1/cases/{case.pk}/order-rectification/"
    payload = {"requirements": "拆除", "days": 10}
    foreign = client.post(url, {**payload, "target": scene.target_b.pk}, format="json")
    missing = client.post(url, {**payload, "target": MISSING}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["code"] == missing.json()["code"] == "unknown_target"
    assert _normalise(foreign.json(), scene.target_b.pk) == _normalise(missing.json(), scene.target_b.pk)
    case.refresh_from_db()
    assert case.status == "opened" and case.target_id == scene.target_a.pk
    assert CaseEvent.objects.filter(case=case).count() == events
    # A city-wide admin may name any target.
    r = client_for("admin").post(url, {**payload, "target": scene.target_b.pk}, format="json")
    assert r.status_code == 200 and r.json()["target"] == scene.target_b.pk


def test_merge_into_another_districts_lead_reads_like_a_missing_one(users, make_lead, client_for):
    officer = users["officer"]
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=officer, days=3), actor=officer
    )
    other = make_lead(division="b")
    client = client_for("officer")
    foreign = client.post(f"/api/v1/leads/{lead.pk}/merge/", {"into": other.pk}, format="json")
    missing = client.post(f"/api/v1/leads/{lead.pk}/merge/", {"into": MISSING}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["code"] == missing.json()["code"] == "unknown_into"
    assert _normalise(foreign.json(), other.pk) == _normalise(missing.json(), other.pk)
    lead.refresh_from_db()
    assert lead.status == "verifying"


@pytest.mark.parametrize("kind", ["leads", "cases"])
def test_foreign_and_missing_objects_in_the_url_get_the_same_404(kind, users, make_lead, client_for):
    officer_b = users["officer_b"]
    other = make_lead(division="b")
    if kind == "cases":
        other = lead_svc.lead_start_verification(
            lead=lead_svc.lead_dispatch(lead=other, actor=officer_b, days=3), actor=officer_b
        )
        other = lead_svc.lead_confirm(lead=other, actor=officer_b)[1]
    client = client_for("officer")
    foreign = client.get(f"/api/v1/{kind}/{other.pk}/")
    missing = client.get(f"/api/v1/{kind}/{MISSING}/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "not_found"
    assert _normalise(foreign.json(), other.pk) == _normalise(missing.json(), other.pk)


def test_the_case_page_form_refuses_another_districts_target_like_a_missing_one(scene, users, make_lead, client):
    from django.contrib.messages import get_messages

    officer = users["officer"]
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=officer, days=3), actor=officer
    )
    case = lead_svc.lead_confirm(lead=lead, actor=officer)[1]
    client.force_login(officer)
    texts = []
    for target in (scene.target_b.pk, MISSING):
        r = client.post(
            f"/cases/{case.pk}/order_rectification/", {"requirements": "拆除", "days": 10, "target": target}
        )
        assert r.status_code == 302
        message = [str(m) for m in get_messages(r.wsgi_request)][-1]  # the refusal of this request
        texts.append(message.replace(str(target), "<id>"))
    assert "<id>" in texts[0]
    assert texts[0] == texts[1]
    case.refresh_from_db()
    assert case.status == "opened" and case.target_id == scene.target_a.pk
