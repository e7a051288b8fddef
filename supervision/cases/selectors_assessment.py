"""Read-only queries on leads and cases for the assessment app (owned by assessment).

Kept here so `assessment` reads `cases` through a selector, never by reaching into its
models' internals; nothing in `cases` imports this module.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Case, CaseEvent, Lead


def leads_all() -> QuerySet[Lead]:
    return Lead.objects.all()


def cases_all() -> QuerySet[Case]:
    return Case.objects.all()


def case_status_at(at: datetime) -> Subquery:
    """An annotation: the case's status just before `at`, from its append-only events.

    Every event row carries the status after it (side events such as escalations keep the
    status), so the last event before `at` names the status then. One index probe per case
    on (case, at). A case with no event before `at` (rows made outside the services) falls
    back to its current status through Coalesce in the caller if needed.
    """
    return Subquery(
        CaseEvent.objects.filter(case_id=OuterRef("pk"), at__lt=at).order_by("-at", "-id").values("to_status")[:1]
    )


def leads_by_ids(ids: list[int]) -> QuerySet[Lead]:
    return Lead.objects.filter(pk__in=ids).select_related("division", "unit").order_by("id")


def cases_by_ids(ids: list[int]) -> QuerySet[Case]:
    return Case.objects.filter(pk__in=ids).select_related("division", "unit").order_by("id")
