"""Queries that read leads, cases, targets, inspections and inboxes — always through the user's scope."""

from __future__ import annotations

from datetime import datetime

from django.db.models import BooleanField, Q, QuerySet, Value, When
from django.db.models import Case as SqlCase
from django.utils import timezone

from . import permissions as perms
from .choices import CASE_RECTIFYING_STATUSES, LEAD_VERIFYING_STATUSES, InspectionPlanStatus
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
    now = now or timezone.now()
    return (
        perms.scope_queryset(Lead.objects.all(), user)
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
