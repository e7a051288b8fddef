"""Thin Celery tasks: each calls one service. The sweeps are safe to run twice."""

from celery import shared_task
from django.utils.dateparse import parse_datetime

from .services.cases import cases_escalate_overdue, deadlines_remind
from .services.notifications import notifications_send_email


def _now(now: str | None):
    return parse_datetime(now) if now else None


@shared_task(name="supervision.cases.tasks.escalate_overdue", acks_late=True)
def escalate_overdue(now: str | None = None) -> dict:
    """Beat: escalate overdue cases (督办) and tell the next level up. `now` (ISO) for replays and tests."""
    result = cases_escalate_overdue(now=_now(now))
    return {"escalated": result.escalated, "by_level": result.by_level, "notifications": result.notifications}


@shared_task(name="supervision.cases.tasks.deadline_reminders", acks_late=True)
def deadline_reminders(now: str | None = None) -> dict:
    """Beat: deadline-in-3-days and overdue notices for leads and cases."""
    result = deadlines_remind(now=_now(now))
    return {"due_soon": result.due_soon, "overdue": result.overdue}


@shared_task(name="supervision.cases.tasks.send_notification_emails", acks_late=True)
def send_notification_emails() -> int:
    """Email pending notifications; each is claimed before sending, so never twice."""
    return notifications_send_email()
