"""The in-app inbox and its emails: one row per (recipient, occasion), so nothing is sent twice.

A notification's `key` names its occasion ("case:12:overdue:<deadline>"); the unique
(recipient, key) constraint makes a re-run of any sweep a no-op. Emails go out after
commit: each is claimed (emailed_at set by compare-and-set) before it is sent, so two
workers never send the same one (at most once; a failed send is logged, not retried).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from supervision.queueing import task_send

from ..choices import Role
from ..models import Notification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationSpec:
    recipient_id: int
    kind: str
    key: str
    subject: str
    body: str = ""
    lead_id: int | None = None
    case_id: int | None = None
    inspection_id: int | None = None


def division_officer_ids(*, division_id: int) -> list[int]:
    """Active enforcement officers scoped to the division (those who work its leads and cases)."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.ENFORCEMENT_OFFICER, profile__division_id=division_id)
        .order_by("id")
        .values_list("id", flat=True)
    )


def officer_ids_by_division() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    rows = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.ENFORCEMENT_OFFICER, profile__division__isnull=False)
        .order_by("id")
        .values_list("profile__division_id", "id")
    )
    for division_id, user_id in rows:
        out.setdefault(division_id, []).append(user_id)
    return out


def bureau_admin_ids() -> list[int]:
    """The next level up from a district: the city bureau's administrators."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.BUREAU_ADMIN)
        .order_by("id")
        .values_list("id", flat=True)
    )


def notify(*, specs: Iterable[NotificationSpec], now: datetime | None = None) -> int:
    """Insert the notifications that do not exist yet; emails follow after commit. Returns rows offered."""
    now = now or timezone.now()
    rows = [
        Notification(
            recipient_id=s.recipient_id,
            kind=s.kind,
            key=s.key,
            subject=s.subject[:200],
            body=s.body,
            lead_id=s.lead_id,
            case_id=s.case_id,
            inspection_id=s.inspection_id,
            created_at=now,
        )
        for s in specs
    ]
    if not rows:
        return 0
    # ON CONFLICT DO NOTHING on (recipient, key): a second run inserts nothing.
    Notification.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    transaction.on_commit(_queue_email)
    return len(rows)


def _queue_email() -> None:
    from ..tasks import send_notification_emails

    # A broker outage is logged, not raised: the rows are committed and the beat entry
    # `cases-notification-emails` emails whatever is still unsent.
    task_send(send_notification_emails)


def notifications_send_email(*, now: datetime | None = None, limit: int = 2000) -> int:
    """Email notifications not yet emailed, `limit` at a time; each is claimed before sending, so never twice.

    The batch is locked (SKIP LOCKED: a concurrent worker takes other rows), stamped
    emailed_at and committed; only then are the messages sent over one connection.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = list(
            Notification.objects.filter(emailed_at__isnull=True)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .order_by("created_at", "id")[:limit]
        )
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=now)
    messages = [
        EmailMessage(
            subject=f"[生态环境监督执法] {n.subject}",
            body=f"{n.body}\n\n{settings.CASES_SITE_URL}",
            to=[n.recipient.email],
        )
        for n in pending
        if n.recipient.email
    ]
    if not messages:
        return 0
    try:
        return get_connection().send_messages(messages) or 0
    except Exception:  # noqa: BLE001 - a mail server hiccup must not fail the sweep; the inbox still has them
        log.exception("sending %d notification emails failed", len(messages))
        return 0


def notification_mark_read(*, notification: Notification, now: datetime | None = None) -> Notification:
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now or timezone.now())
    notification.refresh_from_db()
    return notification
