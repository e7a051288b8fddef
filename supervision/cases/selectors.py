"""Queries that read leads, cases, targets, inspections and inboxes — always through the user's scope."""

from __future__ import annotations

import json
from datetime import datetime

from django.conf import settings
from django.db.models import BooleanField, Q, QuerySet, Value, When
from django.db.models import Case as SqlCase
from django.utils import timezone

from . import permissions as perms
from .choices import (
    CASE_RECTIFYING_STATUSES,
    CASE_TRANSITIONS,
    LEAD_TRANSITIONS,
    LEAD_VERIFYING_STATUSES,
    CaseEventKind,
    CaseStatus,
    InspectionPlanStatus,
    LeadStatus,
)
from .models import Case, EnforcementTarget, Evidence, Inspection, InspectionPlan, Lead, Notification


def lead_overdue_q(now: datetime) -> Q:
    return Q(status__in=LEAD_VERIFYING_STATUSES, verification_due_at__lt=now)


def case_overdue_q(now: datetime) -> Q:
    return Q(status__in=CASE_RECTIFYING_STATUSES, rectification_due_at__lt=now)


def _flag(q: Q):
    return SqlCase(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


# Geometries and attributes of the related rows a lead or case list shows by name only.
RELATED_HEAVY = ("unit__geom", "unit__attributes", "target__location", "target__site")


def leads_for(*, user, now: datetime | None = None) -> QuerySet[Lead]:
    """The user's division's leads (all, city-wide), plus the leads the user raised elsewhere."""
    now = now or timezone.now()
    return (
        perms.scope_leads(Lead.objects.all(), user)
        .select_related("division", "unit", "plan", "target")
        # A unit's polygon can hold thousands of vertices: never load it with each lead.
        .defer(*RELATED_HEAVY)
        .annotate(overdue=_flag(lead_overdue_q(now)))
    )


def cases_for(*, user, now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    return (
        perms.scope_queryset(Case.objects.all(), user)
        .select_related("division", "unit", "plan", "target")
        .defer(*RELATED_HEAVY)
        .annotate(overdue=_flag(case_overdue_q(now)))
    )


def evidence_for(*, user) -> QuerySet[Evidence]:
    """Attachments (photos, PDFs, image chips) of the leads and cases the user may see: the same scope."""
    leads = perms.scope_queryset(Lead.objects.all(), user).values("pk")
    cases = perms.scope_queryset(Case.objects.all(), user).values("pk")
    return Evidence.objects.filter(Q(lead__in=leads) | Q(case__in=cases))


def targets_for(*, user) -> QuerySet[EnforcementTarget]:
    return perms.scope_queryset(EnforcementTarget.objects.all(), user).select_related("division", "unit")


def inspection_plans_for(*, user) -> QuerySet[InspectionPlan]:
    if not perms.user_roles(user) or not perms.has_scope(user):
        return InspectionPlan.objects.none()
    qs = InspectionPlan.objects.select_related("division", "zoning_plan")
    if perms.is_city_wide(user):
        return qs
    return qs.filter(Q(division_id=perms.user_division_id(user)) | Q(inspections__inspectors=user)).distinct()


def inspections_for(*, user) -> QuerySet[Inspection]:
    return perms.scope_inspections(Inspection.objects.all(), user).select_related(
        "target", "division", "unit", "inspection_plan"
    )


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def typical_cases_public() -> QuerySet[Case]:
    """Published typical cases (典型案例): only what the public page shows."""
    return Case.objects.filter(published_at__isnull=False).select_related("division").order_by("-published_at")


def inspection_plans_public() -> QuerySet[InspectionPlan]:
    return InspectionPlan.objects.filter(status=InspectionPlanStatus.PUBLISHED).select_related("division")


# --- Who may do what, now: one answer for the API, the pages and the templates -------------------

LEAD_ACTION_TARGETS = {
    "dispatch": LeadStatus.DISPATCHED,
    "start_verification": LeadStatus.VERIFYING,
    "confirm": LeadStatus.CONFIRMED,
    "dismiss": LeadStatus.DISMISSED,
    "merge": LeadStatus.MERGED,
}
CASE_ACTION_TARGETS = {
    "order_rectification": CaseStatus.RECTIFICATION_ORDERED,
    "submit_rectification": CaseStatus.RECTIFICATION_SUBMITTED,
    "accept": CaseStatus.ACCEPTED,
    "return": CaseStatus.RETURNED,
}


def lead_allowed_actions(*, user, lead: Lead) -> list[str]:
    """The steps (TRANSITIONS from the lead's status) and side actions the user's roles allow on the lead now."""
    roles = perms.user_roles(user)
    nexts = LEAD_TRANSITIONS.get(lead.status, frozenset())
    out = [a for a, to in LEAD_ACTION_TARGETS.items() if to in nexts and roles & perms.ACTION_ROLES[f"lead.{a}"]]
    if nexts and roles & perms.ACTION_ROLES["lead.dispatch"]:
        out.append("assign")
    if roles & perms.ACTION_ROLES["lead.attach"]:
        out.append("attach")
    return out


def case_allowed_actions(*, user, case: Case) -> list[str]:
    """The steps and side actions the user may take on the case now (separation of duties included)."""
    from .services.cases import case_rectification_orderer_id

    roles = perms.user_roles(user)
    nexts = CASE_TRANSITIONS.get(case.status, frozenset())
    out = [a for a, to in CASE_ACTION_TARGETS.items() if to in nexts and roles & perms.ACTION_ROLES[f"case.{a}"]]
    if "accept" in out and settings.SEPARATION_OF_DUTIES and case_rectification_orderer_id(case=case) == user.pk:
        out.remove("accept")
    if case.target_id is None and case.status != CaseStatus.OPENED and roles & perms.ACTION_ROLES["case.name_party"]:
        out.append("name_party")
    if nexts and roles & perms.ACTION_ROLES["case.order_rectification"]:
        out.append("assign")
    if case.penalty_decided_at is None and roles & perms.ACTION_ROLES["case.penalty"]:
        out.append("penalty")
    if case.police_transferred_at is None and roles & perms.ACTION_ROLES["case.transfer_police"]:
        out.append("transfer_police")
    if case.published_at is None and roles & perms.ACTION_ROLES["case.publish"]:
        out.append("publish")
    if roles & perms.ACTION_ROLES["case.attach"]:
        out.append("attach")
    return out


def assignees_for(*, division_id: int) -> QuerySet:
    """Who may be given a lead or case of the division: its officers and inspectors, and city-wide ones."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[perms.OFFICER, perms.INSPECTOR])
        .filter(Q(profile__division_id=division_id) | Q(profile__division__isnull=True))
        .distinct()
        .order_by("username")
    )


def lead_map_layers(*, lead: Lead) -> dict:
    """What the lead's map draws, as GeoJSON in API_SRID: its unit's outline, the red lines that meet the
    unit (or the patch when it has no unit) clipped to the drawn area, and the patch itself."""
    from supervision.zoning.selectors import geometry_transformed, red_lines_meeting

    def as_json(geometry) -> dict:
        return json.loads(geometry_transformed(geometry, settings.API_SRID).geojson)

    unit = lead.unit if lead.unit_id else None
    context = unit.geom if unit is not None else lead.geom
    # Red lines may cover a whole county: only the part over the unit and patch is drawn.
    frame = context.envelope.union(lead.geom.envelope).envelope
    red_lines = []
    for overlay in red_lines_meeting(plan=lead.plan, geometry=context):
        part = overlay.geom.intersection(frame)
        if not part.empty:
            red_lines.append({"code": overlay.code, "name": overlay.name, "geometry": as_json(part)})
    return {
        "unit": {"code": unit.code, "name": unit.name, "geometry": as_json(unit.geom)} if unit else None,
        "redLines": red_lines,
        "site": as_json(lead.geom),
    }


EVIDENCE_IMAGE_TYPES = ("image/jpeg", "image/png")


def case_acceptance_images(*, case: Case) -> dict[str, list[Evidence]]:
    """What an officer compares before accepting: the lead's original evidence images (chips, verification
    photos) against the photos of the latest rectification submission."""
    before = list(Evidence.objects.filter(lead_id=case.lead_id, content_type__in=EVIDENCE_IMAGE_TYPES).order_by("id"))
    latest = (
        case.events.filter(to_status=CaseStatus.RECTIFICATION_SUBMITTED, kind=CaseEventKind.TRANSITION)
        .order_by("-at", "-id")
        .first()
    )
    after = (
        list(Evidence.objects.filter(case_event=latest, content_type__in=EVIDENCE_IMAGE_TYPES).order_by("id"))
        if latest is not None
        else []
    )
    return {"before": before, "after": after}
