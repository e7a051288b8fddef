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
from django.utils.translation import gettext as _

from supervision.errors import Conflict, ServiceError

M = TypeVar("M", bound=models.Model)


def status_label(obj_or_model, status: str) -> str:
    """The readable (translated) label of a status value, or the value itself."""
    try:
        choices = dict(obj_or_model._meta.get_field("status").flatchoices)
    except Exception:  # a model without a status field with choices
        return str(status)
    return str(choices.get(status, status))


def latest_event(obj: models.Model, event_model: type[models.Model], fk: str | None = None) -> Any:
    """The object's newest event (a fresh query, past our own transaction's snapshot), or None.

    `fk` is the event's foreign key to the object (found by its model when not given); the
    actor comes along where the event has one.
    """
    fk = fk or next(
        (f.name for f in event_model._meta.fields if getattr(f, "related_model", None) is type(obj)),
        "",
    )
    if not fk:
        return None
    events = event_model._default_manager.filter(**{fk: obj})
    if any(f.name == "actor" for f in event_model._meta.fields):
        events = events.select_related("actor")
    return events.order_by("-pk").first()


def _actor_name(event: Any) -> str:
    actor = getattr(event, "actor", None)
    return (actor.get_full_name() or actor.get_username()) if actor is not None else str(_("the system"))


def last_step_text(obj: models.Model, event_model: type[models.Model] | None, fk: str | None = None) -> str:
    """What happened last to obj ("dispatched by wang at 2026-11-30 10:02"), for a stale action's reply."""
    event = latest_event(obj, event_model, fk) if event_model is not None else None
    if event is None:
        return ""
    return _("%(who)s set it to %(status)s at %(when)s.") % {
        "who": _actor_name(event),
        "status": status_label(obj, event.to_status),
        "when": timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M"),
    }


def transition_check(
    *,
    transitions: Mapping[str, set[str] | frozenset[str]],
    current: str,
    target: str,
    label: str,
    obj: models.Model | None = None,
    event_model: type[models.Model] | None = None,
) -> None:
    """Refuse a transition the table does not list; a stale repeat says who did it first."""
    if target in transitions.get(current, ()):
        return
    names = {"label": label, "from": current, "to": target}
    if obj is not None:
        names = {"label": label, "from": status_label(obj, current), "to": status_label(obj, target)}
    if current == target:
        happened = last_step_text(obj, event_model) if obj is not None else ""
        # A second tab or a second person repeating a step that is done: a conflict, saying who did it.
        raise Conflict((_("%(label)s is already %(to)s.") % names + " " + happened).strip(), code="conflict")
    allowed = ", ".join(
        sorted(status_label(obj, t) if obj is not None else t for t in transitions.get(current, ()))
    ) or _("none")
    raise ServiceError(
        _("%(label)s cannot go from %(from)s to %(to)s (allowed from %(from)s: %(allowed)s).")
        % {**names, "allowed": allowed},
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
    try:
        transition_check(
            transitions=transitions, current=current, target=target, label=label, obj=obj, event_model=event_model
        )
    except ServiceError:
        # Illegal now, but was it legal a moment ago? Then the caller lost a race (409), not a rule (400).
        latest = latest_event(obj, event_model, _owner(obj, event_fields))
        if latest is not None and _moved_under(
            latest, current=current, target=target, transitions=transitions, actor=event_fields.get("actor")
        ):
            raise _conflict(obj, label, latest) from None
        raise
    now = timezone.now()
    with transaction.atomic():
        updated = type(obj)._default_manager.filter(pk=obj.pk, status=current).update(status=target, **(fields or {}))
        if updated != 1:
            latest = latest_event(obj, event_model, _owner(obj, event_fields))
            if latest is not None:
                raise _conflict(obj, label, latest)
            obj.refresh_from_db()
            raise Conflict(
                _("%(label)s was changed by someone else (it is no longer %(from)s); reload and try again.")
                % {"label": label, "from": status_label(obj, current)},
                code="conflict",
            )
        event = event_model._default_manager.create(from_status=current, to_status=target, at=now, **event_fields)
    obj.refresh_from_db()
    obj._last_event = event  # type: ignore[attr-defined]  # read by workflow_step
    return obj


def _owner(obj: models.Model, event_fields: dict[str, Any]) -> str | None:
    """The event's foreign key to obj, as the caller fills it in."""
    return next((name for name, value in event_fields.items() if value is obj), None)


def _moved_under(latest, *, current: str, target: str, transitions, actor) -> bool:
    """True when the newest event brought the object to `current` from a status where `target` was legal,
    and it was the same step (a double submit) or someone else's: the caller acted on a stale read."""
    if latest.to_status != current or target not in transitions.get(latest.from_status, ()):
        return False
    actor_id = getattr(actor, "pk", None)
    by = getattr(latest, "actor_id", None)  # None too for events that record no actor (the system's steps)
    return latest.to_status == target or by is None or by != actor_id


def _conflict(obj: models.Model, label: str, latest) -> Conflict:
    actor = getattr(latest, "actor", None)
    who = actor.get_username() if actor is not None else _("the system")
    when = timezone.localtime(latest.at).isoformat(timespec="seconds")
    message = _(
        "%(label)s was changed while you were acting on it: %(who)s set it to %(status)s at %(when)s. "
        "Reload and try again."
    ) % {"label": label, "status": status_label(obj, latest.to_status), "who": who, "when": when}
    return Conflict(
        message,
        code="conflict",
        extra={
            "current_status": latest.to_status,
            "changed_by": actor.get_username() if actor is not None else None,
            "changed_at": when,
        },
    )
