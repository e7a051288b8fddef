"""Thin Celery tasks of the zoning app."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def plan_revisions_due() -> list[str]:
    """Tell the planners about plans whose five-year revision fell due (each plan once; safe to run twice)."""
    return services.plans_revision_due_notify()


@shared_task(acks_late=True)
def tile_shapes_build(plan_id: int) -> int:
    """Build a plan's low-zoom tile shapes for its current content (a no-op when already built)."""
    from .models import ZoningPlan
    from .tiles import tile_shapes_build as build

    plan = ZoningPlan.objects.filter(pk=plan_id).first()
    return build(plan=plan) if plan else 0
