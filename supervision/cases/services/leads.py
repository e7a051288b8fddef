"""Everything that writes leads: raising them (scans, complaints, inspections) and their lifecycle.

new → dispatched (division + verification deadline) → verifying → dismissed | merged | confirmed.
Each step is one service here; each goes through `lead_transition_to` (compare-and-set on
status, one LeadEvent row) after checking the actor's role and division.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.errors import ServiceError
from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

from .. import permissions as perms
from ..choices import (
    LEAD_MANUAL_SOURCES,
    LEAD_OPEN_STATUSES,
    LEAD_TRANSITIONS,
    DismissReason,
    LeadEventKind,
    LeadSource,
    LeadStatus,
    NotificationKind,
)
from ..deadlines import deadline_resolve
from ..models import EnforcementTarget, Evidence, Lead, LeadDetection, LeadEvent
from .attachments import CheckedFile, attachments_check, attachments_store
from .events import workflow_step
from .notifications import NotificationSpec, division_officer_ids, notify


@dataclass(frozen=True)
class EvidenceFile:
    """A file to attach to a lead when it is raised (e.g. a scan's PNG chip)."""

    name: str
    content: bytes
    kind: str
    content_type: str
    caption: str = ""


@dataclass(frozen=True)
class LeadRaiseResult:
    lead: Lead
    created: bool
    detection_added: bool


def lead_raise(
    *,
    source: str,
    source_key: str,
    plan: ZoningPlan,
    geom: GEOSGeometry,
    title: str,
    reason: str,
    description: str = "",
    unit: ControlUnit | None = None,
    division: AdministrativeDivision | None = None,
    target: EnforcementTarget | None = None,
    change_class: int | None = None,
    area_m2: float | None = None,
    layer_ref: str = "",
    evidence: dict | None = None,
    files: list[EvidenceFile] | tuple[EvidenceFile, ...] = (),
    detected_at: datetime | None = None,
    match_open_overlapping: bool = False,
    created_by=None,
    evidence_status: str = "",
) -> LeadRaiseResult:
    """Raise a lead, or record one more detection of an open one; never twice for one observation.

    A new lead records `created_by` (a person who filed it; None for the system) and, when
    given, its `evidence_status` (a scan's chips still to come).

    `source_key` names one observation naturally (a layer + patch + unit, a station +
    day + parameter...): seeing it again changes nothing. With `match_open_overlapping`,
    an open lead of the same source, unit and change class whose geometry intersects
    this one is the same problem seen again: its detection count and last-seen time
    move on instead of a new lead being made.
    """
    if source not in LeadSource.values:
        raise ServiceError(_("Unknown lead source '%(source)s'.") % {"source": source})
    division = division or (unit.division if unit else None)
    if division is None:
        raise ServiceError(_("A lead needs a responsible division (or a unit that has one)."))
    detected_at = detected_at or timezone.now()
    existing = LeadDetection.objects.filter(source_key=source_key).select_related("lead").first()
    if existing is not None:
        return LeadRaiseResult(existing.lead, created=False, detection_added=False)
    try:
        with transaction.atomic():
            match = None
            if match_open_overlapping:
                match = (
                    Lead.objects.select_for_update()
                    .filter(
                        source=source,
                        unit=unit,
                        change_class=change_class,
                        status__in=LEAD_OPEN_STATUSES,
                        geom__intersects=geom,
                    )
                    .order_by("id")
                    .first()
                )
            if match is not None:
                LeadDetection.objects.create(
                    lead=match,
                    source_key=source_key,
                    layer_ref=layer_ref,
                    detected_at=detected_at,
                    area_m2=area_m2,
                    evidence=evidence or {},
                )
                Lead.objects.filter(pk=match.pk).update(
                    detections=F("detections") + 1, last_detected_at=max(detected_at, match.last_detected_at)
                )
                match.refresh_from_db()
                return LeadRaiseResult(match, created=False, detection_added=True)
            lead = Lead.objects.create(
                source=source,
                plan=plan,
                unit=unit,
                division=division,
                target=target,
                title=title,
                description=description,
                reason=reason,
                geom=geom,
                area_m2=area_m2,
                change_class=change_class,
                layer_ref=layer_ref,
                evidence=evidence or {},
                detected_at=detected_at,
                last_detected_at=detected_at,
                created_by=created_by,
                **({"evidence_status": evidence_status} if evidence_status else {}),
            )
            LeadDetection.objects.create(
                lead=lead,
                source_key=source_key,
                layer_ref=layer_ref,
                detected_at=detected_at,
                area_m2=area_m2,
                evidence=evidence or {},
            )
            # Every lead's history starts with its creation ("" → new).
            LeadEvent.objects.create(
                lead=lead,
                from_status="",
                to_status=LeadStatus.NEW,
                at=timezone.now(),
                comment=reason[:2000],
                data={"source": source, "source_key": source_key},
            )
            for f in files:
                Evidence.objects.create(
                    lead=lead,
                    kind=f.kind,
                    file=ContentFile(f.content, name=f.name),
                    content_type=f.content_type,
                    size_bytes=len(f.content),
                    caption=f.caption,
                )
            return LeadRaiseResult(lead, created=True, detection_added=True)
    except IntegrityError:
        # Another worker recorded the same observation first: theirs stands.
        existing = LeadDetection.objects.filter(source_key=source_key).select_related("lead").first()
        if existing is None:
            raise
        return LeadRaiseResult(existing.lead, created=False, detection_added=False)


def lead_episode_extend(
    *,
    lead_id: int,
    detections: Sequence[tuple[str, datetime, dict]],
    title: str,
    reason: str,
    evidence: dict,
) -> bool:
    """Add the new observations of an episode (monitoring: more exceedance days) to its open lead.

    `detections` are (source_key, detected_at, evidence) of observations never recorded; the
    lead's detection count, last-seen time, title, reason and evidence move on in one
    statement. Returns False, writing nothing, when the lead is no longer open: a concluded
    lead is never reopened by new data (the caller raises a new lead instead).
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None or lead.status not in LEAD_OPEN_STATUSES or not detections:
            return False
        LeadDetection.objects.bulk_create(
            LeadDetection(lead=lead, source_key=key, detected_at=at, evidence=ev) for key, at, ev in detections
        )
        Lead.objects.filter(pk=lead.pk).update(
            detections=F("detections") + len(detections),
            last_detected_at=max(lead.last_detected_at, *(at for _key, at, _ev in detections)),
            title=title[:200],
            reason=reason,
            evidence=evidence,
            updated_at=timezone.now(),
        )
    return True


def lead_detection_extend(
    *,
    lead_key: str,
    source_key: str,
    detected_at: datetime,
    evidence: dict | None = None,
    lead_evidence: dict | None = None,
) -> LeadRaiseResult | None:
    """One more detection of the open lead first raised under `lead_key` (an episode going on).

    `source_key` names the new observation: seeing it again changes nothing. With
    `lead_evidence` the lead's evidence is replaced (the episode so far). None when no
    lead was raised under `lead_key` or it is no longer open.
    """
    first = LeadDetection.objects.filter(source_key=lead_key).select_related("lead").first()
    if first is None or first.lead.status not in LEAD_OPEN_STATUSES:
        return None
    lead = first.lead
    if LeadDetection.objects.filter(source_key=source_key).exists():
        return LeadRaiseResult(lead, created=False, detection_added=False)
    try:
        with transaction.atomic():
            LeadDetection.objects.create(
                lead=lead, source_key=source_key, detected_at=detected_at, evidence=evidence or {}
            )
            changes: dict = {"detections": F("detections") + 1}
            if detected_at > lead.last_detected_at:
                changes["last_detected_at"] = detected_at
            if lead_evidence is not None:
                changes["evidence"] = lead_evidence
            Lead.objects.filter(pk=lead.pk).update(**changes)
    except IntegrityError:
        # Another worker recorded the same observation first: theirs stands.
        return LeadRaiseResult(lead, created=False, detection_added=False)
    lead.refresh_from_db()
    return LeadRaiseResult(lead, created=False, detection_added=True)


# --- Lifecycle ---------------------------------------------------------------------------


def lead_transition_to(
    lead: Lead,
    *,
    target: str,
    actor,
    comment: str = "",
    fields: dict | None = None,
    data: dict | None = None,
    files: Sequence[CheckedFile] = (),
) -> Lead:
    """The one way a lead changes status: compare-and-set, one event, the event's attachments."""
    return workflow_step(
        lead,
        owner="lead",
        target=target,
        transitions=LEAD_TRANSITIONS,
        event_model=LeadEvent,
        label=f"Lead {lead.pk}",
        actor=actor,
        comment=comment,
        fields=fields,
        data=data,
        files=files,
    )


def _guard(actor, action: str, lead: Lead) -> None:
    perms.ensure_in_scope(actor, lead.division_id, label=f"Lead {lead.pk}")
    perms.require_role(actor, action)


def lead_create(
    *,
    actor,
    source: str,
    plan: ZoningPlan,
    title: str,
    location: GEOSGeometry,
    description: str = "",
    division: AdministrativeDivision | None = None,
    target_id: int | None = None,
    files: Sequence[File] = (),
    received_at: datetime | None = None,
) -> Lead:
    """A lead filed by a person: a complaint (信访, 12369), an inspection finding, a 督察 hand-over."""
    perms.require_role(actor, "lead.create")
    if source not in LEAD_MANUAL_SOURCES:
        raise ServiceError(
            _("Source '%(source)s' cannot be filed by hand (allowed: %(value)s).")
            % {"source": source, "value": ", ".join(LEAD_MANUAL_SOURCES)},
            code="bad_source",
        )
    if not title.strip():
        raise ServiceError(_("A title is required."))
    if location.srid != settings.STORAGE_SRID:
        location = location.transform(settings.STORAGE_SRID, clone=True)
    unit = (
        ControlUnit.objects.filter(plan=plan, geom__intersects=location)
        .select_related("division")
        .order_by("code")
        .first()
    )
    division = division or (unit.division if unit else None)
    if division is None:
        raise ServiceError(_("The location lies in no unit of the plan; name the responsible division."))
    target = None
    if target_id is not None:
        target = perms.scoped_get(
            perms.scope_queryset(EnforcementTarget.objects.all(), actor),
            target_id,
            label=_("enforcement target"),
            field="target",
        )
    own = perms.user_division_id(actor)
    if not perms.is_city_wide(actor) and division.pk != own:
        raise ServiceError(_("You can file leads only for your own division."), code="wrong_division")
    checked = attachments_check(files=files)
    with transaction.atomic():
        result = lead_raise(
            source=source,
            source_key=f"{source}:{uuid.uuid4()}",
            plan=plan,
            geom=location,
            title=title.strip(),
            reason=f"{LeadSource(source).label}：{title.strip()}",
            description=description,
            unit=unit,
            division=division,
            target=target,
            detected_at=received_at,
            created_by=actor,
        )
        lead = result.lead
        if checked:
            attachments_store(files=checked, actor=actor, lead=lead, lead_event=lead.events.first())
    return lead


def lead_dispatch(
    *,
    lead: Lead,
    actor,
    division: AdministrativeDivision | None = None,
    days: int | None = None,
    day_kind: str | None = None,
    due_on: date | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> Lead:
    """Send a lead to the division that must verify it, with a verification deadline; notify its officers."""
    _guard(actor, "lead.dispatch", lead)
    now = now or timezone.now()
    division = division or lead.division
    if not perms.is_city_wide(actor) and division.pk != perms.user_division_id(actor):
        raise ServiceError(_("You can dispatch only to your own division."), code="wrong_division")
    if days is None and due_on is None:
        days = settings.CASES_VERIFICATION_DAYS
        day_kind = day_kind or settings.CASES_VERIFICATION_DAY_KIND
    due_at, kind = deadline_resolve(now=now, days=days, day_kind=day_kind or "calendar", on=due_on)
    lead = lead_transition_to(
        lead,
        target=LeadStatus.DISPATCHED,
        actor=actor,
        comment=comment,
        fields={
            "division": division,
            "dispatched_at": now,
            "verification_due_at": due_at,
            "verification_day_kind": kind,
        },
        data={"division": division.adcode, "due_at": due_at.isoformat(), "day_kind": kind},
    )
    event = lead._last_event  # type: ignore[attr-defined]  # set by transition_to
    notify(
        specs=[
            NotificationSpec(
                recipient_id=uid,
                kind=NotificationKind.DISPATCHED,
                key=f"lead:{lead.pk}:dispatched:{event.pk}",
                subject=f"新线索派发：{lead.title}",
                body=f"线索 #{lead.pk}「{lead.title}」已派发至{division.name}，请于 "
                f"{timezone.localtime(due_at):%Y-%m-%d %H:%M} 前完成现场核查。",
                lead_id=lead.pk,
            )
            for uid in division_officer_ids(division_id=division.pk)
        ],
        now=now,
    )
    return lead


def lead_start_verification(*, lead: Lead, actor, comment: str = "") -> Lead:
    """The officer starts the on-site check (现场核查)."""
    _guard(actor, "lead.start_verification", lead)
    return lead_transition_to(lead, target=LeadStatus.VERIFYING, actor=actor, comment=comment)


def lead_dismiss(
    *, lead: Lead, actor, reason: str, reason_code: str = DismissReason.OTHER, files: Sequence[File] = ()
) -> Lead:
    """Not a violation (不属实): a coded reason and a written one are both required."""
    _guard(actor, "lead.dismiss", lead)
    if not (reason or "").strip():
        raise ServiceError(_("A reason is required to dismiss a lead."), code="reason_required")
    if reason_code not in DismissReason.values:
        raise ServiceError(
            _("Unknown dismiss reason code '%(reason_code)s' (one of %(value)s).")
            % {"reason_code": reason_code, "value": ", ".join(DismissReason.values)}
        )
    checked = attachments_check(files=files)
    return lead_transition_to(
        lead,
        target=LeadStatus.DISMISSED,
        actor=actor,
        comment=reason.strip(),
        fields={"dismiss_code": reason_code, "dismiss_reason": reason.strip(), "concluded_at": timezone.now()},
        data={"reason_code": reason_code},
        files=checked,
    )


def lead_merge(*, lead: Lead, actor, into_id: int, comment: str = "") -> Lead:
    """A duplicate: merge into another lead, which takes over its detections (the sources)."""
    _guard(actor, "lead.merge", lead)
    if into_id == lead.pk:
        raise ServiceError(_("A lead cannot be merged into itself."), code="merge_self")
    into = perms.scoped_get(perms.scope_queryset(Lead.objects.all(), actor), into_id, label=_("lead"), field="into")
    if into.status in (LeadStatus.DISMISSED, LeadStatus.MERGED):
        raise ServiceError(
            _("Lead %(into_id)s is %(into_status)s; merge into an open or confirmed lead.")
            % {"into_id": into_id, "into_status": into.status}
        )
    with transaction.atomic():
        lead = lead_transition_to(
            lead,
            target=LeadStatus.MERGED,
            actor=actor,
            comment=comment,
            fields={"merged_into": into, "concluded_at": timezone.now()},
            data={"into": into.pk},
        )
        moved = LeadDetection.objects.filter(lead=lead).update(lead=into)
        Lead.objects.filter(pk=into.pk).update(
            detections=F("detections") + lead.detections,
            last_detected_at=max(into.last_detected_at, lead.last_detected_at),
        )
        LeadEvent.objects.create(
            lead=into,
            kind=LeadEventKind.MERGED_IN,
            from_status=into.status,
            to_status=into.status,
            actor=actor,
            at=timezone.now(),
            comment=comment,
            data={"merged_lead": lead.pk, "source": lead.source, "detections_moved": moved},
        )
    return lead


def lead_confirm(*, lead: Lead, actor, comment: str = "", title: str = "", files: Sequence[File] = ()):
    """A violation (属实): the lead is concluded and a case is opened from it, in one transaction."""
    from .cases import case_open

    _guard(actor, "lead.confirm", lead)
    checked = attachments_check(files=files)
    now = timezone.now()
    with transaction.atomic():
        lead = lead_transition_to(
            lead, target=LeadStatus.CONFIRMED, actor=actor, comment=comment, fields={"concluded_at": now}, files=checked
        )
        case = case_open(lead=lead, actor=actor, title=title or lead.title, now=now)
    return lead, case


def lead_attach(*, lead: Lead, actor, files: Sequence[File], caption: str = "") -> list[Evidence]:
    """More evidence on a lead, recorded as an event so the history shows who added what."""
    _guard(actor, "lead.attach", lead)
    checked = attachments_check(files=files)
    if not checked:
        raise ServiceError(_("No file was uploaded."), code="no_file")
    with transaction.atomic():
        event = LeadEvent.objects.create(
            lead=lead,
            kind=LeadEventKind.ATTACHMENT,
            from_status=lead.status,
            to_status=lead.status,
            actor=actor,
            at=timezone.now(),
            comment=caption,
        )
        return attachments_store(files=checked, actor=actor, lead=lead, lead_event=event, caption=caption)


def lead_get_for(*, actor, lead_id: int) -> Lead:
    return perms.scoped_get(perms.scope_leads(Lead.objects.all(), actor), lead_id, label=_("Lead"))
