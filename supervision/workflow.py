"""One way to move a workflow object from one status to the next.

Every workflow (plans, leads, cases, inspections) is a `Status` TextChoices, an
explicit TRANSITIONS table and this compare-and-set: the UPDATE only matches the
row while it still has the status we read, so of two people acting at once one
wins and the other gets a Conflict (409) instead of silently overwriting.
"""

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from supervision.errors import Conflict, ServiceError

M = TypeVar("M", bound=models.Model)


def transition_check(
    *, transitions: Mapping[str, set[str] | frozenset[str]], current: str, target: str, label: str
) -> None:
    """Refuse a transition the table does not list."""
    if target not in transitions.get(current, ()):
        allowed = ", ".join(sorted(transitions.get(current, ()))) or "none"
        raise ServiceError(
            f"{label} cannot go from '{current}' to '{target}' (allowed from '{current}': {allowed}).",
            code="illegal_transition",
        )


def transition_to(
    obj: M,
    *,
    target: str,
    transitions: Mapping[str, set[str] | frozenset[str]],
    event_model: type[models.Model],
    event_fields: dict[str, Any],
    fields: dict[str, Any] | None = None,
    label: str | None = None,
) -> M:
    """Compare-and-set obj.status to `target`, update `fields`, append one event row.

    `event_fields` carries the event's own columns (its foreign key to obj, actor,
    comment...); `from_status`, `to_status` and `at` are filled in here.
    """
    label = label or f"{obj._meta.verbose_name} {obj.pk}"
    current: str = obj.status  # type: ignore[attr-defined]  # every workflow model has one
    transition_check(transitions=transitions, current=current, target=target, label=label)
    now = timezone.now()
    with transaction.atomic():
        updated = type(obj)._default_manager.filter(pk=obj.pk, status=current).update(status=target, **(fields or {}))
        if updated != 1:
            raise Conflict(
                f"{label} was changed by someone else (it is no longer '{current}'); reload and try again.",
                code="conflict",
            )
        event = event_model._default_manager.create(from_status=current, to_status=target, at=now, **event_fields)
    obj.refresh_from_db()
    obj._last_event = event  # type: ignore[attr-defined]  # read by workflow_step
    return obj
