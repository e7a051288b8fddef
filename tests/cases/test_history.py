"""The event history is append-only: no API, admin or model path edits or deletes it."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from supervision.cases.models import CaseEvent, LeadEvent
from supervision.cases.services import leads as lead_svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_with_history(make_lead, users):
    lead = lead_svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3, comment="派发")
    return lead_svc.lead_start_verification(lead=lead, actor=users["officer"])


def test_events_carry_from_to_actor_at_comment(lead_with_history):
    event = lead_with_history.events.get(to_status="dispatched")
    assert (event.from_status, event.to_status, event.actor.username, event.comment) == (
        "new",
        "dispatched",
        "officer",
        "派发",
    )
    assert event.at is not None


def test_api_offers_no_way_to_change_or_delete(lead_with_history, client_for):
    client = client_for("admin")
    pk = lead_with_history.pk
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/v1/leads/{pk}/", {}, format="json").status_code == 405
    from django.urls import get_resolver

    paths = [str(p.pattern) for p in get_resolver().url_patterns]
    assert not any("events" in p for p in paths)  # events are only read, inside the detail
    detail = client.get(f"/api/v1/leads/{pk}/").json()
    assert [e["to_status"] for e in detail["events"]] == ["new", "dispatched", "verifying"]


def test_model_refuses_update_and_delete(lead_with_history):
    event = LeadEvent.objects.filter(lead=lead_with_history).last()
    event.comment = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert LeadEvent.objects.get(pk=event.pk).comment == ""


def test_admin_is_read_only_for_events(users):
    request = RequestFactory().get("/")
    request.user = users["admin"]
    request.user.is_superuser = True
    for model in (LeadEvent, CaseEvent):
        admin = site._registry[model]
        assert not admin.has_add_permission(request)
        assert not admin.has_change_permission(request)
        assert not admin.has_delete_permission(request)
