"""Thin Celery tasks of the zoning app."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def plan_revisions_due() -> list[str]:
    """Tell the planners about plans whose five-year revision fell due (each plan once; safe to run twice)."""
    return services.plans_revision_due_notify()
