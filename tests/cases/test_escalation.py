"""Overdue escalation (督办) driven by the beat task with a frozen clock: run twice, nothing doubled."""

from datetime import timedelta

import pytest
from django.core import mail

from supervision.cases import tasks
from supervision.cases.models import Case, CaseEvent, Notification
from supervision.cases.services import cases as svc
from supervision.cases.services import leads as lead_svc
from supervision.cases.services.notifications import notifications_send_email
from tests.cases.conftest import at

pytestmark = pytest.mark.django_db

ORDERED_AT = at(2025, 3, 3, 9, 0)  # a Monday


@pytest.fixture
def ordered_case(make_lead, users):
    def make(division="a", days=10):
        officer = users["officer"] if division == "a" else users["officer_b"]
        lead = lead_svc.lead_dispatch(lead=make_lead(division=division), actor=officer, days=3)
        lead = lead_svc.lead_start_verification(lead=lead, actor=officer)
        case = lead_svc.lead_confirm(lead=lead, actor=officer)[1]
        return svc.case_order_rectification(
            case=case, actor=officer, requirements="整改", days=days, day_kind="calendar", now=ORDERED_AT
        )

    return make


def run_beat(now):
    """The beat entry point exactly as Celery calls it (eager), with the clock passed in."""
    return tasks.escalate_overdue.delay(now=now.isoformat()).get()


def test_overdue_is_derived_from_the_deadline(ordered_case):
    case = ordered_case()
    due = case.rectification_due_at  # 13 Mar 2025 23:59:59 local
    assert not case.is_overdue(now=due)
    assert case.is_overdue(now=due + timedelta(seconds=1))
    from supervision.cases.selectors import case_overdue_q

    assert not Case.objects.filter(case_overdue_q(due)).exists()
    assert Case.objects.filter(case_overdue_q(due + timedelta(seconds=1))).get() == case


def test_beat_escalates_once_and_a_rerun_doubles_nothing(ordered_case, users, django_capture_on_commit_callbacks):
    late = ordered_case()
    on_time = ordered_case(days=60)
    notifications_send_email()  # the dispatch notices of the set-up
    mail.outbox.clear()
    now = late.rectification_due_at + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = run_beat(now)
    assert first["escalated"] == 1 and first["by_level"] == {1: 1}
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.escalation_level, on_time.escalation_level) == (1, 0)
    events = CaseEvent.objects.filter(kind="escalation")
    assert events.count() == 1 and events.get().escalation_level == 1
    notes = Notification.objects.filter(kind="escalated")
    # The next level up (bureau admin) and the district's officer; not officer_b of another district.
    assert set(notes.values_list("recipient__username", flat=True)) == {"admin", "officer"}
    sent = len(mail.outbox)
    assert sent == 2

    with django_capture_on_commit_callbacks(execute=True):
        second = run_beat(now)
    assert second["escalated"] == 0
    assert CaseEvent.objects.filter(kind="escalation").count() == 1
    assert Notification.objects.filter(kind="escalated").count() == 2
    assert len(mail.outbox) == sent


def test_escalation_climbs_a_level_per_step_and_stops_at_the_top(ordered_case, settings):
    settings.CASES_ESCALATION_STEP_DAYS = 7
    case = ordered_case()
    due = case.rectification_due_at
    for days, level in ((1, 1), (3, 1), (8, 2), (15, 3), (60, 3)):
        run_beat(due + timedelta(days=days))
        case.refresh_from_db()
        assert case.escalation_level == level, days
    assert list(case.events.filter(kind="escalation").values_list("escalation_level", flat=True)) == [1, 2, 3]


def test_a_very_late_case_jumps_straight_to_its_level(ordered_case, settings):
    settings.CASES_ESCALATION_STEP_DAYS = 7
    case = ordered_case()
    result = run_beat(case.rectification_due_at + timedelta(days=30))
    case.refresh_from_db()
    assert result["by_level"] == {3: 1} and case.escalation_level == 3


def test_submitted_or_accepted_cases_are_not_escalated(ordered_case, users):
    from tests.cases.conftest import raw_file

    case = ordered_case()
    svc.case_submit_rectification(case=case, actor=users["officer"], files=[raw_file()])
    assert run_beat(case.rectification_due_at + timedelta(days=2))["escalated"] == 0


def test_reminders_due_soon_then_overdue_each_once(ordered_case, users):
    case = ordered_case()
    notifications_send_email()  # the dispatch notice of the set-up
    due = case.rectification_due_at
    for _ in range(2):
        assert tasks.deadline_reminders.delay(now=(due - timedelta(days=2)).isoformat()).get()["due_soon"] == 1
    assert Notification.objects.filter(kind="due_soon", case=case).count() == 1
    assert not Notification.objects.filter(kind="due_soon", recipient=users["officer_b"]).exists()
    for _ in range(2):
        tasks.deadline_reminders.delay(now=(due + timedelta(hours=2)).isoformat()).get()
    assert Notification.objects.filter(kind="overdue", case=case).count() == 1
    assert notifications_send_email() == 2
    assert notifications_send_email() == 0  # nothing twice


def test_dispatch_notifies_the_division_officers_in_app_and_by_email(
    make_lead, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_svc.lead_dispatch(lead=make_lead(), actor=users["admin"], days=3)
    n = Notification.objects.get(kind="dispatched")
    assert n.recipient == users["officer"] and n.emailed_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["officer@example.test"]


def test_inbox_lists_own_notifications_and_marks_read(make_lead, users, client_for):
    lead_svc.lead_dispatch(lead=make_lead(), actor=users["admin"], days=3)
    client = client_for("officer")
    inbox = client.get("/api/v1/notifications/?unread=1").json()
    assert inbox["count"] == 1
    nid = inbox["results"][0]["id"]
    assert client.post(f"/api/v1/notifications/{nid}/read/").json()["read_at"]
    assert client.get("/api/v1/notifications/?unread=1").json()["count"] == 0
    assert client_for("officer_b").get("/api/v1/notifications/").json()["count"] == 0


def test_escalate_overdue_command_runs_the_sweep(ordered_case, capsys):
    from django.core.management import call_command

    case = ordered_case()
    now = (case.rectification_due_at + timedelta(days=1)).isoformat()
    call_command("escalate_overdue", "--now", now)
    call_command("escalate_overdue", "--now", now)
    out = capsys.readouterr().out
    assert "escalated 1 cases" in out and "escalated 0 cases" in out


def test_system_notes_read_in_the_readers_language(ordered_case, client, users):
    """The notes the services write ("由线索 #N 立案", "逾期N天，督办") follow the page's language."""
    from django.utils import translation

    case = ordered_case()
    now = case.rectification_due_at + timedelta(days=3, hours=1)
    run_beat(now)
    opened = CaseEvent.objects.get(case=case, from_status="", to_status="opened")
    escalated = CaseEvent.objects.get(case=case, kind="escalation")
    stored = (opened.comment, escalated.comment)
    with translation.override("zh-hans"):
        # In Chinese the rebuilt note is exactly what the service stored.
        assert (opened.display_comment, escalated.display_comment) == stored
        assert escalated.display_comment == "逾期3天，督办"
    with translation.override("en"):
        assert opened.display_comment == f"Opened from lead #{case.lead_id}"
        assert escalated.display_comment == "3 days overdue, Supervised"
    client.force_login(users["officer"])
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Opened from lead #{case.lead_id}" in page and "3 days overdue, Supervised" in page
    assert "立案</div>" not in page and "逾期3天" not in page
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"由线索 #{case.lead_id} 立案" in page and "逾期3天，督办" in page
    # the API keeps the stored note and adds the reader's
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(users["officer"])
    events = api.get(f"/api/v1/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()["events"]
    notes = {e["kind"]: (e["comment"], e["display_comment"]) for e in events if e["comment"]}
    assert notes["escalation"] == ("逾期3天，督办", "3 days overdue, Supervised")
