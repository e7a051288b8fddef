"""Two people acting at once: one succeeds, the other gets 409 and nothing is written twice."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from supervision import workflow
from supervision.cases.models import LeadEvent
from supervision.cases.services import leads as lead_svc
from supervision.errors import Conflict


@pytest.mark.django_db
def test_stale_copy_loses_the_compare_and_set(make_lead, users):
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3), actor=users["officer"]
    )
    from supervision.cases.models import Lead

    stale = Lead.objects.get(pk=lead.pk)
    lead_svc.lead_dismiss(lead=lead, actor=users["officer"], reason="无变化")
    with pytest.raises(Conflict) as exc:
        lead_svc.lead_confirm(lead=stale, actor=users["admin"])
    assert exc.value.status_code == 409
    assert LeadEvent.objects.filter(lead=lead, to_status__in=["dismissed", "confirmed"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_one_200_one_409(scene, users, make_lead, monkeypatch):
    lead = lead_svc.lead_start_verification(
        lead=lead_svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3), actor=users["officer"]
    )
    # Both requests read the lead as 'verifying' before either writes: the barrier sits
    # between the status check and the compare-and-set UPDATE.
    barrier = threading.Barrier(2, timeout=20)
    original = workflow.transition_check

    def check_then_wait(**kwargs):
        original(**kwargs)
        barrier.wait()

    monkeypatch.setattr(workflow, "transition_check", check_then_wait)
    results = {}

    def act(name, path, payload):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(users[name])
        try:
            results[name] = client.post(f"/api/v1/leads/{lead.pk}/{path}/", payload, format="json").status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("officer", "confirm", {})),
        threading.Thread(target=act, args=("admin", "dismiss", {"reason": "重复", "reason_code": "other"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == [200, 409], results
    lead.refresh_from_db()
    assert lead.status in ("confirmed", "dismissed")
    assert LeadEvent.objects.filter(lead=lead, from_status="verifying").count() == 1
