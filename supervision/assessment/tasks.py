"""Celery tasks: thin wrappers taking ids and calling one service."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from supervision.zoning.models import ZoningPlan

from . import services
from .models import AssessmentScheme
from .periods import period_previous


@shared_task(acks_late=True)
def scores_compute_task(
    plan_id: int, period_code: str, scheme_id: int | None = None, actor_id: int | None = None
) -> dict:
    """Compute every division's draft scorecard of a plan for a period.

    Safe to run twice (drafts are updated in place, published cards skipped), hence acks_late.
    """
    plan = ZoningPlan.objects.get(pk=plan_id)
    scheme = AssessmentScheme.objects.get(pk=scheme_id) if scheme_id else None
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    result = services.scores_compute(
        plan=plan, period=services.period_resolve(period_code), scheme=scheme, actor=actor, check_role=actor is not None
    )
    return {
        "plan": plan.code,
        "period": result.period.code,
        "scheme_version": result.scheme.version,
        "computed": [c.pk for c in result.computed],
        "skipped": [c.pk for c in result.skipped],
    }


@shared_task(acks_late=True)
def scores_compute_recent() -> list[dict]:
    """For a beat schedule: drafts of the last whole month and quarter for every effective plan."""
    today = timezone.localdate()
    out = []
    for plan_id in ZoningPlan.objects.filter(status="effective").values_list("pk", flat=True):
        for kind in ("month", "quarter"):
            out.append(scores_compute_task(plan_id, period_previous(kind, today).code))
    return out


@shared_task(acks_late=True)
def bottom_lines_track_task(plan_id: int, year: int | None = None) -> dict:
    """Track one plan's bottom lines for a year; safe to run twice (upserts, warnings keyed per change)."""
    from .bottom_lines import bottom_lines_track

    plan = ZoningPlan.objects.get(pk=plan_id)
    report = bottom_lines_track(plan=plan, year=year)
    return {"plan": plan.code, "year": report.year, "statuses": report.counts(), "warned": report.warned}


@shared_task(acks_late=True)
def bottom_lines_track_all() -> list[dict]:
    """For beat: every effective plan that has targets, this year (and last year until its statistics settle, Q1)."""
    today = timezone.localdate()
    years = [today.year - 1, today.year] if today.month <= 3 else [today.year]
    if today.month == 1 and today.day == 1:
        years = [today.year - 1]  # nothing of the new year measured yet
    out = []
    plans = ZoningPlan.objects.filter(status="effective", bottom_lines__isnull=False).distinct()
    for plan_id in plans.values_list("pk", flat=True):
        for year in years:
            out.append(bottom_lines_track_task(plan_id, year))
    return out
