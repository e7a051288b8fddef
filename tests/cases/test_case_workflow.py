import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from supervision.cases.choices import CASE_TRANSITIONS, CaseStatus
from supervision.cases.models import Case, CaseEvent
from supervision.cases.services import cases as svc
from supervision.cases.services import leads as lead_svc
from supervision.cases.services.users import user_upsert
from supervision.errors import Forbidden, ServiceError
from tests.cases.conftest import PDF, raw_file

pytestmark = pytest.mark.django_db

ALLOWED = [(a, b) for a, targets in CASE_TRANSITIONS.items() for b in targets]
FORBIDDEN = [(a, b) for a, b in itertools.product(CaseStatus.values, CaseStatus.values) if b not in CASE_TRANSITIONS[a]]


@pytest.fixture
def open_case(make_lead, users):
    def make(division="a"):
        officer = users["officer"] if division == "a" else users["officer_b"]
        lead = lead_svc.lead_dispatch(lead=make_lead(division=division), actor=officer, days=3)
        lead = lead_svc.lead_start_verification(lead=lead, actor=officer)
        return lead_svc.lead_confirm(lead=lead, actor=officer)[1]

    return make


def put_in(case, status):
    fields = {"status": status}
    if status != "opened":
        fields["rectification_due_at"] = timezone.now() + timezone.timedelta(days=5)
    if status == "accepted":
        fields["accepted_at"] = timezone.now()
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    return case


def test_case_table_lists_every_status():
    assert set(CASE_TRANSITIONS) == set(CaseStatus.values)
    assert len(ALLOWED) == 6 and len(FORBIDDEN) == 19


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_case_transition_is_refused(open_case, users, current, target):
    case = put_in(open_case(), current)
    before = CaseEvent.objects.count()
    with pytest.raises(ServiceError) as exc:
        svc.case_transition_to(case, target=target, actor=users["officer"])
    # Repeating the step it is in (a stale second tab) is a conflict saying what happened; others are illegal.
    assert exc.value.code == ("conflict" if current == target else "illegal_transition")
    case.refresh_from_db()
    assert case.status == current and CaseEvent.objects.count() == before


def test_rectification_cycle_with_return_and_acceptance(open_case, users, scene):
    officer = users["officer"]
    case = open_case()
    case = svc.case_order_rectification(case=case, actor=officer, requirements="拆除违建", days=10, day_kind="working")
    assert case.status == "rectification_ordered" and case.rectification_due_at > timezone.now()
    assert case.target == scene.target_a
    case = svc.case_submit_rectification(case=case, actor=officer, files=[raw_file()], comment="已拆除")
    assert case.status == "rectification_submitted" and case.submitted_at
    assert case.events.last().attachments.count() == 1
    case = svc.case_return(case=case, actor=officer, note="仍有残留")
    assert case.status == "returned"
    case = svc.case_submit_rectification(case=case, actor=officer, files=[raw_file("report.pdf", PDF)])
    # Separation of duties: the officer who ordered the rectification cannot accept it; a colleague can.
    with pytest.raises(Forbidden) as refused:
        svc.case_accept(case=case, actor=officer, comment="验收通过")
    assert refused.value.code == "separation_of_duties"
    colleague, _ = user_upsert(username="officer_a2", role="enforcement_officer", division_adcode="220102")
    case = svc.case_accept(case=case, actor=colleague, comment="验收通过")
    assert case.status == "accepted" and case.accepted_at
    path = list(case.events.values_list("from_status", "to_status"))
    assert path == [
        ("", "opened"),
        ("opened", "rectification_ordered"),
        ("rectification_ordered", "rectification_submitted"),
        ("rectification_submitted", "returned"),
        ("returned", "rectification_submitted"),
        ("rectification_submitted", "accepted"),
    ]


def test_returned_case_can_be_ordered_again_with_a_new_deadline(open_case, users):
    officer = users["officer"]
    case = svc.case_order_rectification(case=open_case(), actor=officer, requirements="x", days=5)
    case = svc.case_submit_rectification(case=case, actor=officer, files=[raw_file()])
    case = svc.case_return(case=case, actor=officer, note="重做", days=20)
    due = case.rectification_due_at
    case = svc.case_order_rectification(case=case, actor=officer, requirements="重新整改", days=30)
    assert case.status == "rectification_ordered" and case.rectification_due_at > due


def test_order_needs_requirements_a_target_and_a_future_deadline(open_case, users, scene):
    case = open_case()
    Case.objects.filter(pk=case.pk).update(target=None)
    case.refresh_from_db()
    officer = users["officer"]
    with pytest.raises(ServiceError, match="requirements"):
        svc.case_order_rectification(case=case, actor=officer, requirements="", days=5)
    with pytest.raises(ServiceError, match="responsible enforcement target"):
        svc.case_order_rectification(case=case, actor=officer, requirements="x", days=5)
    with pytest.raises(ServiceError, match="Unknown enforcement target"):
        svc.case_order_rectification(case=case, actor=officer, requirements="x", days=5, target_id=424242)
    with pytest.raises(ServiceError, match="in the past"):
        svc.case_order_rectification(
            case=case,
            actor=officer,
            requirements="x",
            target_id=scene.target_a.pk,
            due_on=timezone.localdate() - timezone.timedelta(days=1),
        )
    case.refresh_from_db()
    assert case.status == "opened" and case.events.count() == 1


def test_submit_needs_evidence(open_case, users):
    case = svc.case_order_rectification(case=open_case(), actor=users["officer"], requirements="x", days=5)
    with pytest.raises(ServiceError, match="Evidence is required"):
        svc.case_submit_rectification(case=case, actor=users["officer"], files=[])


def test_penalty_police_and_publication_are_recorded_once(open_case, users):
    case = open_case()
    case = svc.case_decide_penalty(
        case=case,
        actor=users["officer"],
        amount_yuan=Decimal("50000.00"),
        legal_basis="《中华人民共和国大气污染防治法》第九十九条",
    )
    assert case.penalty_amount_yuan == Decimal("50000.00")
    with pytest.raises(ServiceError, match="already recorded"):
        svc.case_decide_penalty(case=case, actor=users["officer"], amount_yuan=Decimal("1"), legal_basis="x")
    case = svc.case_transfer_to_police(
        case=case, actor=users["officer"], agency="长春市公安局", comment="涉嫌污染环境罪"
    )
    assert case.police_transferred_at
    with pytest.raises(ServiceError, match="may not"):
        svc.case_publish(case=case, actor=users["officer"], summary="x")
    case = svc.case_publish(case=case, actor=users["admin"], summary="某化工企业偷排废气被处罚5万元")
    assert case.published_at
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["transition", "penalty", "police_transfer", "publication"]
    assert all(e.from_status == e.to_status == "opened" for e in case.events.exclude(kind="transition"))


def test_separation_of_duties_can_be_switched_off(open_case, users, settings):
    settings.SEPARATION_OF_DUTIES = False
    officer = users["officer"]
    case = svc.case_order_rectification(case=open_case(), actor=officer, requirements="拆除违建", days=10)
    case = svc.case_submit_rectification(case=case, actor=officer, files=[raw_file()])
    assert svc.case_accept(case=case, actor=officer).status == "accepted"
