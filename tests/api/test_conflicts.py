"""Losers of a race get 409 with what happened (current status, who, when), never 400."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from supervision.cases.models import LeadEvent
from supervision.cases.services import leads as lead_svc


def race(users, requests):
    """Fire the (user, path, body) requests at once, each on its own connection; their responses by user."""
    barrier = threading.Barrier(len(requests), timeout=20)
    results = {}

    def act(name, path, payload):
        client = APIClient()
        client.force_authenticate(users[name])
        try:
            barrier.wait()
            results[name] = client.post(path, payload, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_both_dispatch_at_once_one_wins_the_other_gets_409(users, make_lead):
    lead = make_lead()
    path = f"/api/v1/leads/{lead.pk}/dispatch/"
    results = race(users, [("officer", path, {"days": 3}), ("admin", path, {"days": 5})])
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: r.content for k, r in results.items()}
    winner = next(k for k, r in results.items() if r.status_code == 200)
    loser = results[next(k for k, r in results.items() if r.status_code == 409)].json()
    assert loser["code"] == "conflict"
    assert loser["current_status"] == "dispatched" and loser["changed_by"] == winner and loser["changed_at"]
    assert winner in loser["detail"]
    assert LeadEvent.objects.filter(lead=lead, to_status="dispatched").count() == 1


@pytest.mark.django_db(transaction=True)
def test_confirm_against_a_dismiss_at_once_loser_gets_409(users, make_lead):
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3), actor=users["officer"]
    )
    results = race(
        users,
        [
            ("officer", f"/api/v1/leads/{lead.pk}/confirm/", {}),
            ("admin", f"/api/v1/leads/{lead.pk}/dismiss/", {"reason": "重复", "reason_code": "other"}),
        ],
    )
    assert sorted(r.status_code for r in results.values()) == [200, 409], {k: r.content for k, r in results.items()}
    lead.refresh_from_db()
    loser = next(r.json() for r in results.values() if r.status_code == 409)
    assert loser["current_status"] == lead.status
    assert LeadEvent.objects.filter(lead=lead, from_status="verifying").count() == 1


@pytest.mark.django_db
def test_acting_on_a_stale_page_after_someone_else_moved_it_is_409(client_for, users, make_lead):
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3), actor=users["officer"]
    )
    lead_svc.lead_dismiss(lead=lead, actor=users["admin"], reason="无变化")
    r = client_for("officer").post(f"/api/v1/leads/{lead.pk}/confirm/", {}, format="json")
    assert r.status_code == 409, r.content
    assert r.json()["current_status"] == "dismissed" and r.json()["changed_by"] == "admin"


@pytest.mark.django_db
def test_a_transition_that_was_never_legal_stays_400(client_for, make_lead):
    lead = make_lead()  # new: confirming needs dispatch and verification first
    r = client_for("officer").post(f"/api/v1/leads/{lead.pk}/confirm/", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "illegal_transition", r.content
