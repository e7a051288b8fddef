import itertools

import pytest
from django.utils import timezone

from supervision.cases.choices import LEAD_TRANSITIONS, LeadStatus
from supervision.cases.models import Case, Lead, LeadDetection, LeadEvent
from supervision.cases.services import leads as svc
from supervision.errors import ServiceError

pytestmark = pytest.mark.django_db

ALLOWED = [(a, b) for a, targets in LEAD_TRANSITIONS.items() for b in targets]
FORBIDDEN = [(a, b) for a, b in itertools.product(LeadStatus.values, LeadStatus.values) if b not in LEAD_TRANSITIONS[a]]


def put_in(lead, status):
    """Force a lead into a status with the columns its constraints ask for (test set-up only)."""
    fields = {"status": status}
    if status in ("dispatched", "verifying"):
        fields["verification_due_at"] = timezone.now() + timezone.timedelta(days=3)
    if status == "dismissed":
        fields["dismiss_reason"] = "x"
    if status == "merged":
        fields["merged_into"] = Lead.objects.exclude(pk=lead.pk).first()
    Lead.objects.filter(pk=lead.pk).update(**fields)
    lead.refresh_from_db()
    return lead


def test_lead_table_lists_every_status():
    assert set(LEAD_TRANSITIONS) == set(LeadStatus.values)
    assert len(ALLOWED) == 5 and len(FORBIDDEN) == 31


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_lead_transition_is_refused_and_changes_nothing(make_lead, users, current, target):
    other = make_lead()
    lead = put_in(make_lead(), current)
    events = LeadEvent.objects.count()
    with pytest.raises(ServiceError) as exc:
        svc.lead_transition_to(lead, target=target, actor=users["officer"], fields={"merged_into": other})
    # Repeating the step it is in (a stale second tab) is a conflict saying what happened; others are illegal.
    assert exc.value.code == ("conflict" if current == target else "illegal_transition")
    assert exc.value.status_code == (409 if current == target else 400)
    lead.refresh_from_db()
    assert lead.status == current
    assert LeadEvent.objects.count() == events


def test_full_happy_path_new_to_confirmed_opens_a_case(make_lead, users):
    officer = users["officer"]
    lead = make_lead()
    assert lead.events.get().to_status == "new"  # creation is the first event
    lead = svc.lead_dispatch(lead=lead, actor=officer, days=5, day_kind="working", comment="go")
    assert lead.status == "dispatched" and lead.verification_due_at and lead.dispatched_at
    assert lead.verification_day_kind == "working"
    lead = svc.lead_start_verification(lead=lead, actor=officer)
    lead, case = svc.lead_confirm(lead=lead, actor=officer, comment="属实")
    assert lead.status == "confirmed" and lead.concluded_at
    assert case.status == "opened" and case.division == lead.division and case.unit == lead.unit
    assert case.opened_at and case.plan == lead.plan
    steps = list(lead.events.values_list("from_status", "to_status", "actor__username"))
    assert steps == [
        ("", "new", None),
        ("new", "dispatched", "officer"),
        ("dispatched", "verifying", "officer"),
        ("verifying", "confirmed", "officer"),
    ]
    assert list(case.events.values_list("from_status", "to_status")) == [("", "opened")]


def test_dismiss_requires_a_reason_and_records_it(make_lead, users):
    lead = make_lead()
    lead = svc.lead_dispatch(lead=lead, actor=users["officer"], days=3)
    lead = svc.lead_start_verification(lead=lead, actor=users["officer"])
    with pytest.raises(ServiceError, match="reason is required"):
        svc.lead_dismiss(lead=lead, actor=users["officer"], reason="  ")
    lead.refresh_from_db()
    assert lead.status == "verifying"
    lead = svc.lead_dismiss(lead=lead, actor=users["officer"], reason="耕地轮作", reason_code="natural")
    assert (lead.status, lead.dismiss_code, lead.dismiss_reason) == ("dismissed", "natural", "耕地轮作")
    assert lead.concluded_at is not None
    assert lead.events.last().comment == "耕地轮作"


def test_merge_moves_the_sources_to_the_surviving_lead(make_lead, users):
    keep = make_lead()
    dup = make_lead()
    dup = svc.lead_dispatch(lead=dup, actor=users["officer"], days=3)
    dup = svc.lead_start_verification(lead=dup, actor=users["officer"])
    dup = svc.lead_merge(lead=dup, actor=users["officer"], into_id=keep.pk, comment="同一图斑")
    keep.refresh_from_db()
    assert dup.status == "merged" and dup.merged_into == keep
    assert keep.detections == 2
    assert LeadDetection.objects.filter(lead=keep).count() == 2
    assert keep.events.filter(kind="merged_in").exists()
    assert list(keep.merged_leads.all()) == [dup]


def test_merge_refuses_itself_and_an_unknown_lead(make_lead, users):
    lead = svc.lead_start_verification(
        lead=svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3), actor=users["officer"]
    )
    with pytest.raises(ServiceError, match="itself"):
        svc.lead_merge(lead=lead, actor=users["officer"], into_id=lead.pk)
    with pytest.raises(ServiceError, match="Unknown lead"):
        svc.lead_merge(lead=lead, actor=users["officer"], into_id=999999)
    other_division = make_lead(division="b")
    with pytest.raises(ServiceError, match="Unknown lead"):
        svc.lead_merge(lead=lead, actor=users["officer"], into_id=other_division.pk)


def test_confirm_is_atomic_with_case_opening(make_lead, users, monkeypatch):
    lead = svc.lead_start_verification(
        lead=svc.lead_dispatch(lead=make_lead(), actor=users["officer"], days=3), actor=users["officer"]
    )

    def boom(**kwargs):
        raise RuntimeError("case store down")

    monkeypatch.setattr("supervision.cases.services.cases.case_open", boom)
    with pytest.raises(RuntimeError):
        svc.lead_confirm(lead=lead, actor=users["officer"])
    lead.refresh_from_db()
    assert lead.status == "verifying" and not Case.objects.exists()


def test_lead_raise_keeps_its_contract_and_adds_a_creation_event(scene):
    from tests.factories import square

    kwargs = dict(
        source="remote_sensing",
        source_key="layer1:patch7",
        plan=scene.plan,
        geom=square(125.301, 43.801, 0.001),
        title="植被减少",
        reason="NDVI",
        unit=scene.unit_a,
    )
    first = svc.lead_raise(**kwargs)
    again = svc.lead_raise(**kwargs)
    assert first.created and not again.created and again.lead == first.lead
    assert first.lead.division == scene.nanguan
    assert LeadEvent.objects.filter(lead=first.lead).count() == 1


def test_dispatch_elsewhere_is_refused_for_a_district_officer(make_lead, users, scene):
    lead = make_lead()
    with pytest.raises(ServiceError, match="own division"):
        svc.lead_dispatch(lead=lead, actor=users["officer"], division=scene.kuancheng, days=3)
    lead = svc.lead_dispatch(lead=lead, actor=users["admin"], division=scene.kuancheng, days=3)
    assert lead.division == scene.kuancheng
