"""Everything that writes cases: opening, rectification, acceptance, escalation and the side decisions.

opened → rectification_ordered (deadline, requirements, responsible target) →
rectification_submitted (evidence) → accepted (整改验收, 销号) | returned (note; then
resubmitted, or ordered again with a new deadline). Overdue is derived from
`rectification_due_at`; `cases_escalate_overdue` (the beat task) raises the escalation
level of overdue cases, once per level, and tells the next level up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.errors import Forbidden, ServiceError

from .. import permissions as perms
from ..choices import (
    CASE_RECTIFYING_STATUSES,
    CASE_TRANSITIONS,
    LEAD_VERIFYING_STATUSES,
    MAX_ESCALATION_LEVEL,
    CaseEventKind,
    CaseStatus,
    NotificationKind,
)
from ..deadlines import deadline_resolve
from ..models import Case, CaseEvent, EnforcementTarget, Evidence, Lead
from . import notifications as notifications_service
from .attachments import CheckedFile, attachments_check, attachments_store
from .events import workflow_step
from .notifications import NotificationSpec, bureau_admin_ids, notify, officer_ids_by_division

ESCALATION_LABELS = {1: "督办", 2: "重点督办", 3: "挂牌督办"}


def case_transition_to(
    case: Case,
    *,
    target: str,
    actor,
    comment: str = "",
    fields: dict | None = None,
    data: dict | None = None,
    files: Sequence[CheckedFile] = (),
) -> Case:
    """The one way a case changes status: compare-and-set, one event, the event's attachments."""
    return workflow_step(
        case,
        owner="case",
        target=target,
        transitions=CASE_TRANSITIONS,
        event_model=CaseEvent,
        label=f"Case {case.number}",
        actor=actor,
        comment=comment,
        fields=fields,
        data=data,
        files=files,
    )


def _guard(actor, action: str, case: Case) -> None:
    perms.ensure_in_scope(actor, case.division_id, label=f"Case {case.pk}")
    perms.require_role(actor, action)


def case_get_for(*, actor, case_id: int) -> Case:
    return perms.scoped_get(perms.scope_queryset(Case.objects.all(), actor), case_id, label=_("Case"))


def case_open(*, lead: Lead, actor, title: str, now: datetime | None = None) -> Case:
    """Open the case of a confirmed lead (called by lead_confirm, inside its transaction)."""
    now = now or timezone.now()
    case = Case.objects.create(
        lead=lead,
        number=f"AJ{lead.division.adcode}{timezone.localtime(now):%Y}{lead.pk:07d}",
        title=title[:200],
        plan_id=lead.plan_id,
        unit_id=lead.unit_id,
        division_id=lead.division_id,
        target_id=lead.target_id,
        opened_at=now,
        opened_by=actor if getattr(actor, "pk", None) else None,
    )
    CaseEvent.objects.create(
        case=case,
        from_status="",
        to_status=CaseStatus.OPENED,
        actor=case.opened_by,
        at=now,
        comment=f"由线索 #{lead.pk} 立案",
        data={"lead": lead.pk},
    )
    return case


def _target(actor, target_id: int | None) -> EnforcementTarget | None:
    """The responsible target named by the request, looked up within the actor's scope."""
    if target_id is None:
        return None
    return perms.scoped_get(
        perms.scope_queryset(EnforcementTarget.objects.all(), actor),
        target_id,
        label=_("enforcement target"),
        field="target",
    )


def case_order_rectification(
    *,
    case: Case,
    actor,
    requirements: str,
    days: int | None = None,
    day_kind: str = "calendar",
    due_on: date | None = None,
    target_id: int | None = None,
    party_unknown: bool = False,
    comment: str = "",
    now: datetime | None = None,
) -> Case:
    """责令限期整改: what must be done, by whom, by when (calendar or working days, or a date).

    A remote-sensing case often has no known party: `party_unknown` orders it anyway (责任主体不明/待查);
    `case_name_party` names the party once it is found.
    """
    _guard(actor, "case.order_rectification", case)
    now = now or timezone.now()
    if not (requirements or "").strip():
        raise ServiceError(_("Rectification requirements are required."), code="requirements_required")
    target = _target(actor, target_id) or case.target
    if target is None and not party_unknown:
        raise ServiceError(_("Name the responsible enforcement target (target)."), code="target_required")
    due_at, kind = deadline_resolve(now=now, days=days, day_kind=day_kind, on=due_on)
    return case_transition_to(
        case,
        target=CaseStatus.RECTIFICATION_ORDERED,
        actor=actor,
        comment=comment,
        fields={
            "rectification_requirements": requirements.strip(),
            "rectification_ordered_at": now,
            "rectification_due_at": due_at,
            "rectification_day_kind": kind,
            "target": target,
        },
        data={
            "due_at": due_at.isoformat(),
            "day_kind": kind,
            "days": days,
            "target": target.pk if target else None,
            "party_unknown": target is None,
        },
    )


def case_submit_rectification(*, case: Case, actor, files: Sequence[File], comment: str = "") -> Case:
    """The rectification is reported done, with its evidence (at least one photo or PDF)."""
    _guard(actor, "case.submit_rectification", case)
    checked = attachments_check(files=files)
    if not checked:
        raise ServiceError(_("Evidence is required: attach at least one photo or PDF."), code="evidence_required")
    return case_transition_to(
        case,
        target=CaseStatus.RECTIFICATION_SUBMITTED,
        actor=actor,
        comment=comment,
        fields={"submitted_at": timezone.now()},
        files=checked,
    )


def case_rectification_orderer_id(*, case: Case) -> int | None:
    """Who ordered the rectification now running (the last order event's actor), if anyone."""
    event = case.events.filter(to_status=CaseStatus.RECTIFICATION_ORDERED).order_by("-at", "-pk").first()
    return event.actor_id if event else None


def case_accept_check_duties(*, case: Case, actor) -> None:
    """Separation of duties: the officer who ordered a rectification does not accept it (setting on by default)."""
    if not settings.SEPARATION_OF_DUTIES:
        return
    if getattr(actor, "pk", None) is not None and case_rectification_orderer_id(case=case) == actor.pk:
        raise Forbidden(
            _("You ordered this rectification; another officer must accept it (separation of duties)."),
            code="separation_of_duties",
        )


def case_accept(*, case: Case, actor, comment: str = "", files: Sequence[File] = ()) -> Case:
    """整改验收, 销号: the case is closed — by someone other than the officer who ordered it (SEPARATION_OF_DUTIES)."""
    _guard(actor, "case.accept", case)
    case_accept_check_duties(case=case, actor=actor)
    checked = attachments_check(files=files)
    return case_transition_to(
        case,
        target=CaseStatus.ACCEPTED,
        actor=actor,
        comment=comment,
        fields={"accepted_at": timezone.now()},
        files=checked,
    )


def case_return(
    *,
    case: Case,
    actor,
    note: str,
    days: int | None = None,
    day_kind: str = "calendar",
    due_on: date | None = None,
    now: datetime | None = None,
) -> Case:
    """Back to rectification with a note; optionally a new deadline (else the old one keeps running)."""
    _guard(actor, "case.return", case)
    now = now or timezone.now()
    if not (note or "").strip():
        raise ServiceError(_("A note is required to return a rectification."), code="note_required")
    fields: dict = {}
    data: dict = {}
    if days is not None or due_on is not None:
        due_at, kind = deadline_resolve(now=now, days=days, day_kind=day_kind, on=due_on)
        fields = {"rectification_due_at": due_at, "rectification_day_kind": kind}
        data = {"due_at": due_at.isoformat(), "day_kind": kind}
    return case_transition_to(
        case, target=CaseStatus.RETURNED, actor=actor, comment=note.strip(), fields=fields, data=data
    )


def _side_event(
    case: Case, *, actor, kind: str, comment: str, guard_field: str, fields: dict, data: dict, label: str
) -> Case:
    """A decision recorded once (penalty, police transfer, publication): compare-and-set on its column."""
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, **{f"{guard_field}__isnull": True}).update(**fields)
        if updated != 1:
            raise ServiceError(
                _("Case %(case_number)s: %(label)s is already recorded.")
                % {"case_number": case.number, "label": label},
                code="already_recorded",
            )
        case.refresh_from_db()
        CaseEvent.objects.create(
            case=case,
            kind=kind,
            from_status=case.status,
            to_status=case.status,
            actor=actor,
            at=timezone.now(),
            comment=comment,
            data=data,
        )
    return case


def case_name_party(*, case: Case, actor, target_id: int, comment: str = "") -> Case:
    """查明责任主体: name the party of a case ordered with the party unknown (once; later changes are refused)."""
    _guard(actor, "case.name_party", case)
    target = _target(actor, target_id)
    if target is None:
        raise ServiceError(_("Name the responsible enforcement target (target)."), code="target_required")
    return _side_event(
        case,
        actor=actor,
        kind=CaseEventKind.PARTY_NAMED,
        comment=comment,
        guard_field="target",
        fields={"target": target},
        data={"target": target.pk},
        label=_("the responsible party"),
    )


def case_decide_penalty(*, case: Case, actor, amount_yuan: Decimal, legal_basis: str, comment: str = "") -> Case:
    """行政处罚: the fine in yuan and its legal basis."""
    _guard(actor, "case.penalty", case)
    if amount_yuan is None or amount_yuan <= 0:
        raise ServiceError(_("The penalty amount must be a positive number of yuan."))
    if not (legal_basis or "").strip():
        raise ServiceError(_("The legal basis of the penalty is required."), code="legal_basis_required")
    return _side_event(
        case,
        actor=actor,
        kind=CaseEventKind.PENALTY,
        comment=comment,
        guard_field="penalty_decided_at",
        fields={
            "penalty_amount_yuan": amount_yuan,
            "penalty_legal_basis": legal_basis.strip(),
            "penalty_decided_at": timezone.now(),
        },
        data={"amount_yuan": str(amount_yuan), "legal_basis": legal_basis.strip()},
        label=_("a penalty decision"),
    )


def case_transfer_to_police(*, case: Case, actor, agency: str, comment: str) -> Case:
    """移送公安 (行刑衔接)."""
    _guard(actor, "case.transfer_police", case)
    if not (agency or "").strip() or not (comment or "").strip():
        raise ServiceError(_("The receiving police agency and the reason for the transfer are required."))
    return _side_event(
        case,
        actor=actor,
        kind=CaseEventKind.POLICE_TRANSFER,
        comment=comment.strip(),
        guard_field="police_transferred_at",
        fields={"police_transferred_at": timezone.now(), "police_agency": agency.strip()},
        data={"agency": agency.strip()},
        label=_("a police transfer"),
    )


def case_publish(*, case: Case, actor, summary: str) -> Case:
    """典型案例曝光: shown on the public page with this summary (and nothing else of the case)."""
    _guard(actor, "case.publish", case)
    if not (summary or "").strip():
        raise ServiceError(_("A public summary is required to publish a typical case."), code="summary_required")
    return _side_event(
        case,
        actor=actor,
        kind=CaseEventKind.PUBLICATION,
        comment="",
        guard_field="published_at",
        fields={"published_at": timezone.now(), "public_summary": summary.strip()},
        data={},
        label=_("publication"),
    )


def case_attach(*, case: Case, actor, files: Sequence[File], caption: str = "") -> list[Evidence]:
    _guard(actor, "case.attach", case)
    checked = attachments_check(files=files)
    if not checked:
        raise ServiceError(_("No file was uploaded."), code="no_file")
    with transaction.atomic():
        event = CaseEvent.objects.create(
            case=case,
            kind=CaseEventKind.ATTACHMENT,
            from_status=case.status,
            to_status=case.status,
            actor=actor,
            at=timezone.now(),
            comment=caption,
        )
        return attachments_store(files=checked, actor=actor, case=case, case_event=event, caption=caption)


# --- The sweeps (Celery beat) -------------------------------------------------------------
@dataclass
class EscalationResult:
    escalated: int = 0
    by_level: dict[int, int] = field(default_factory=dict)
    notifications: int = 0


def escalation_level_for(*, due_at: datetime, now: datetime) -> int:
    """0 before the deadline; 1 once overdue; +1 every CASES_ESCALATION_STEP_DAYS after, up to the maximum."""
    if due_at >= now:
        return 0
    step = timedelta(days=settings.CASES_ESCALATION_STEP_DAYS)
    return min(MAX_ESCALATION_LEVEL, 1 + int((now - due_at) / step))


def cases_escalate_overdue(*, now: datetime | None = None, batch_size: int = 5000) -> EscalationResult:
    """督办: raise each overdue case to the level its lateness calls for; safe to run twice.

    Reads only rectifying cases past their deadline (the partial index
    case_rect_due_open_idx), highest level first so a very late case jumps straight
    to its level. Rows are locked with SKIP LOCKED, the level moves by compare-and-set
    (`escalation_level < level`), and (case, level) is unique among escalation events:
    a second run, or two sweeps at once, escalate nothing twice. Notifications go to
    the bureau's administrators (the next level up) and the district's officers.
    """
    now = now or timezone.now()
    step = timedelta(days=settings.CASES_ESCALATION_STEP_DAYS)
    result = EscalationResult()
    admins = bureau_admin_ids()
    officers = officer_ids_by_division()
    # (user, division) pairs; division None = told about every division's cases.
    recipients = [(uid, None) for uid in admins] + [
        (uid, div) for div, uids in officers.items() for uid in uids if uid not in admins
    ]
    sweep = _escalate_batch_sql if connection.vendor == "postgresql" else _escalate_batch_orm
    for level in range(MAX_ESCALATION_LEVEL, 0, -1):
        threshold = now - step * (level - 1)
        while True:
            with transaction.atomic():
                escalated, notified = sweep(
                    level=level, threshold=threshold, now=now, batch_size=batch_size, recipients=recipients
                )
                if notified:
                    transaction.on_commit(notifications_service._queue_email)
            result.escalated += escalated
            result.notifications += notified
            if escalated:
                result.by_level[level] = result.by_level.get(level, 0) + escalated
            if escalated < batch_size:
                break
    return result


# One statement per batch on PostgreSQL: pick (FOR UPDATE SKIP LOCKED, via the partial index),
# update, insert the events and the notifications. 20,000 overdue cases take a second or two
# instead of building 60,000 model instances in Python.
_ESCALATE_SQL = """
WITH picked AS (
    SELECT id FROM cases_case
    WHERE status = ANY(%(statuses)s) AND rectification_due_at < %(threshold)s
      AND escalation_level < %(max_level)s AND escalation_level < %(level)s
    ORDER BY rectification_due_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), upd AS (
    UPDATE cases_case c SET escalation_level = %(level)s, escalated_at = %(now)s
    FROM picked WHERE c.id = picked.id AND c.escalation_level < %(level)s
    RETURNING c.id, c.status, c.division_id, c.number, c.title, c.rectification_due_at
), ev AS (
    INSERT INTO cases_caseevent (case_id, kind, from_status, to_status, actor_id, at, comment, escalation_level, data)
    SELECT id, 'escalation', status, status, NULL, %(now)s,
           '逾期' || floor(extract(epoch FROM (%(now)s - rectification_due_at)) / 86400)::int || '天，' || %(label)s,
           %(level)s, jsonb_build_object('due_at', rectification_due_at)
    FROM upd
    RETURNING 1
), rcpt AS (
    SELECT * FROM unnest(%(users)s::bigint[], %(divisions)s::bigint[]) AS r(user_id, division_id)
), note AS (
    INSERT INTO cases_notification (recipient_id, kind, key, subject, body, lead_id, case_id, inspection_id,
                                    created_at, read_at, emailed_at)
    SELECT rcpt.user_id, 'escalated', 'case:' || upd.id || ':escalated:' || %(level)s,
           %(label)s || '：案件 ' || upd.number || ' 已逾期',
           '案件 ' || upd.number || '「' || upd.title || '」整改期限 '
             || to_char(upd.rectification_due_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI') || ' 已过，升级为' || %(label)s || '。',
           NULL, upd.id, NULL, %(now)s, NULL, NULL
    FROM upd JOIN rcpt ON rcpt.division_id IS NULL OR rcpt.division_id = upd.division_id
    ON CONFLICT (recipient_id, key) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM ev), (SELECT count(*) FROM note)
"""


def _escalate_batch_sql(*, level, threshold, now, batch_size, recipients) -> tuple[int, int]:
    with connection.cursor() as cur:
        cur.execute(
            _ESCALATE_SQL,
            {
                "statuses": [str(x) for x in CASE_RECTIFYING_STATUSES],
                "threshold": threshold,
                "max_level": MAX_ESCALATION_LEVEL,
                "level": level,
                "batch": batch_size,
                "now": now,
                "label": ESCALATION_LABELS[level],
                "users": [u for u, _ in recipients],
                "divisions": [d for _, d in recipients],
                "tz": settings.TIME_ZONE,
            },
        )
        escalated, _events, notified = cur.fetchone()
    return escalated, notified


def _escalate_batch_orm(*, level, threshold, now, batch_size, recipients) -> tuple[int, int]:
    """The same for other databases (the SpatiaLite demo), through the ORM."""
    # rectification_due_at is never NULL here (filtered on it).
    rows: list[tuple[int, str, int, str, str, datetime]] = list(
        Case.objects.filter(  # type: ignore[arg-type]
            status__in=CASE_RECTIFYING_STATUSES,
            rectification_due_at__lt=threshold,
            escalation_level__lt=level,
        )
        .order_by("rectification_due_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("id", "status", "division_id", "number", "title", "rectification_due_at")[:batch_size]
    )
    if not rows:
        return 0, 0
    Case.objects.filter(id__in=[r[0] for r in rows], escalation_level__lt=level).update(
        escalation_level=level, escalated_at=now
    )
    label = ESCALATION_LABELS[level]
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=cid,
                kind=CaseEventKind.ESCALATION,
                from_status=status,
                to_status=status,
                at=now,
                escalation_level=level,
                comment=f"逾期{(now - due).days}天，{label}",
                data={"due_at": due.isoformat()},
            )
            for cid, status, _div, _number, _title, due in rows
        ]
    )
    specs = [
        NotificationSpec(
            uid,
            NotificationKind.ESCALATED,
            f"case:{cid}:escalated:{level}",
            f"{label}：案件 {number} 已逾期",
            f"案件 {number}「{title}」整改期限 {timezone.localtime(due):%Y-%m-%d %H:%M} 已过，升级为{label}。",
            case_id=cid,
        )
        for cid, _status, div, number, title, due in rows
        for uid, rdiv in recipients
        if rdiv is None or rdiv == div
    ]
    return len(rows), notify(specs=specs, now=now)


@dataclass
class ReminderResult:
    due_soon: int = 0
    overdue: int = 0


def deadlines_remind(*, now: datetime | None = None) -> ReminderResult:
    """Tell division officers of deadlines in CASES_REMINDER_DAYS days and of deadlines just missed.

    Covers lead verification and case rectification. Keys carry the deadline itself,
    so a re-run sends nothing new, while a new deadline (after a return) is told again.
    """
    now = now or timezone.now()
    soon = now + timedelta(days=settings.CASES_REMINDER_DAYS)
    officers = officer_ids_by_division()
    result = ReminderResult()
    specs: list[NotificationSpec] = []

    def add(kind, key, subject, body, division_id, **ref):
        for uid in officers.get(division_id, ()):
            specs.append(NotificationSpec(uid, kind, key, subject, body, **ref))

    cases = Case.objects.filter(status__in=CASE_RECTIFYING_STATUSES, rectification_due_at__lte=soon).values_list(
        "id", "number", "title", "division_id", "rectification_due_at"
    )
    case_rows = cast("Iterator[tuple[int, str, str, int, datetime]]", cases.iterator(chunk_size=2000))
    for cid, number, title, div, due in case_rows:
        when = f"{timezone.localtime(due):%Y-%m-%d %H:%M}"
        if due >= now:
            result.due_soon += 1
            add(
                NotificationKind.DUE_SOON,
                f"case:{cid}:due_soon:{due.isoformat()}",
                f"整改即将到期：案件 {number}",
                f"案件 {number}「{title}」整改期限 {when}。",
                div,
                case_id=cid,
            )
        else:
            result.overdue += 1
            add(
                NotificationKind.OVERDUE,
                f"case:{cid}:overdue:{due.isoformat()}",
                f"整改已逾期：案件 {number}",
                f"案件 {number}「{title}」整改期限 {when} 已过。",
                div,
                case_id=cid,
            )
    leads = Lead.objects.filter(status__in=LEAD_VERIFYING_STATUSES, verification_due_at__lte=soon).values_list(
        "id", "title", "division_id", "verification_due_at"
    )
    lead_rows = cast("Iterator[tuple[int, str, int, datetime]]", leads.iterator(chunk_size=2000))
    for lid, title, div, due in lead_rows:
        when = f"{timezone.localtime(due):%Y-%m-%d %H:%M}"
        if due >= now:
            result.due_soon += 1
            add(
                NotificationKind.DUE_SOON,
                f"lead:{lid}:due_soon:{due.isoformat()}",
                f"核查即将到期：线索 #{lid}",
                f"线索 #{lid}「{title}」核查期限 {when}。",
                div,
                lead_id=lid,
            )
        else:
            result.overdue += 1
            add(
                NotificationKind.OVERDUE,
                f"lead:{lid}:overdue:{due.isoformat()}",
                f"核查已逾期：线索 #{lid}",
                f"线索 #{lid}「{title}」核查期限 {when} 已过。",
                div,
                lead_id=lid,
            )
    with transaction.atomic():
        notify(specs=specs, now=now)
    return result
