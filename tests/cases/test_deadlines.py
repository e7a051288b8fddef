"""Deadlines in calendar and working days, across China's holidays and swapped workdays (调休)."""

from datetime import date

import pytest
from django.utils import timezone

from supervision.cases.deadlines import deadline_resolve, due_date
from supervision.cases.services import leads as lead_svc
from supervision.errors import ServiceError
from tests.cases.conftest import at


def test_working_days_cross_the_national_day_week_2024():
    # 2024: 29 Sep (Sun) and 12 Oct (Sat) are swapped workdays; 1–7 Oct are off.
    assert due_date(start=date(2024, 9, 30), days=1, day_kind="working") == date(2024, 10, 8)
    assert due_date(start=date(2024, 9, 27), days=2, day_kind="working") == date(2024, 9, 30)  # via Sun 29 Sep
    assert due_date(start=date(2024, 9, 30), days=5, day_kind="working") == date(2024, 10, 12)  # Sat 12 Oct works
    assert due_date(start=date(2024, 9, 30), days=5, day_kind="calendar") == date(2024, 10, 5)


def test_working_days_cross_spring_festival_2025():
    # 2025 春节: 28 Jan – 4 Feb off, 26 Jan (Sun) and 8 Feb (Sat) worked.
    assert due_date(start=date(2025, 1, 24), days=1, day_kind="working") == date(2025, 1, 26)
    assert due_date(start=date(2025, 1, 27), days=1, day_kind="working") == date(2025, 2, 5)


def test_deadline_is_the_end_of_the_local_day():
    due, kind = deadline_resolve(now=at(2024, 9, 30, 10, 0), days=1, day_kind="working")
    assert kind == "working"
    local = timezone.localtime(due)
    assert (local.date(), local.hour, local.minute) == (date(2024, 10, 8), 23, 59)


def test_deadline_refuses_the_past_and_an_uncovered_year():
    with pytest.raises(ServiceError, match="in the past"):
        deadline_resolve(now=at(2025, 3, 10, 9), on=date(2025, 3, 9))
    assert deadline_resolve(now=at(2025, 3, 10, 9), on=date(2025, 3, 10))[0] > at(2025, 3, 10, 9)
    with pytest.raises(ServiceError, match="outside the working calendar"):
        deadline_resolve(now=at(2027, 12, 20, 9), days=30, day_kind="working")
    with pytest.raises(ServiceError, match="either"):
        deadline_resolve(now=at(2025, 3, 10, 9), days=3, on=date(2025, 3, 20))
    with pytest.raises(ServiceError, match="required"):
        deadline_resolve(now=at(2025, 3, 10, 9))


@pytest.mark.django_db
def test_dispatch_before_national_day_counts_working_days(make_lead, users):
    lead = lead_svc.lead_dispatch(
        lead=make_lead(), actor=users["officer"], days=3, day_kind="working", now=at(2024, 9, 30, 16, 0)
    )
    assert timezone.localtime(lead.verification_due_at).date() == date(2024, 10, 10)
    assert lead.is_overdue(now=at(2024, 10, 10, 23, 0)) is False
    assert lead.is_overdue(now=at(2024, 10, 11, 0, 0)) is True


@pytest.mark.django_db
def test_api_dispatch_with_working_days_and_bad_deadlines(make_lead, client_for):
    client = client_for("officer")
    lead = make_lead()
    bad = client.post(f"/api/v1/leads/{lead.pk}/dispatch/", {"due_date": "2020-01-01"}, format="json")
    assert bad.status_code == 400 and "in the past" in bad.json()["detail"]
    both = client.post(f"/api/v1/leads/{lead.pk}/dispatch/", {"due_date": "2030-01-01", "days": 3}, format="json")
    assert both.status_code == 400
    lead.refresh_from_db()
    assert lead.status == "new" and lead.events.count() == 1
    ok = client.post(f"/api/v1/leads/{lead.pk}/dispatch/", {"days": 5, "day_kind": "working"}, format="json")
    assert ok.status_code == 200 and ok.json()["verification_day_kind"] == "working"
