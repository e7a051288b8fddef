"""Assigning a lead or a case to a person (经办人) as well as its division."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from supervision.errors import ServiceError

from .. import permissions as perms
from ..choices import NotificationKind
from ..models import Case, Lead
from .notifications import NotificationSpec, notify


def assignee_resolve(*, division_id: int, assignee_id: int | None):
    """The user to assign: an officer or inspector of the object's division (or city-wide); None clears it."""
    if assignee_id is None:
        return None
    user = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
    roles = perms.user_roles(user) if user else frozenset()
    in_scope = user is not None and (perms.is_city_wide(user) or perms.user_division_id(user) == division_id)
    if user is None or not roles & {perms.OFFICER, perms.INSPECTOR} or not in_scope:
        raise ServiceError(
            _("User %(id)s cannot handle it: choose an officer or inspector of its division.") % {"id": assignee_id},
            code="bad_assignee",
        )
    return user


def lead_assign(*, lead: Lead, actor, assignee_id: int | None) -> Lead:
    """Give the lead to one person of its division (or take it back)."""
    perms.require_role(actor, "lead.dispatch")
    perms.ensure_in_scope(actor, lead.division_id, label=_("Lead"))
    user = assignee_resolve(division_id=lead.division_id, assignee_id=assignee_id)
    with transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(assignee=user)
        if user is not None:
            _notify(user, lead=lead)
    lead.refresh_from_db()
    return lead


def case_assign(*, case: Case, actor, assignee_id: int | None) -> Case:
    """Give the case to one person of its division (or take it back)."""
    perms.require_role(actor, "case.order_rectification")
    perms.ensure_in_scope(actor, case.division_id, label=_("Case"))
    user = assignee_resolve(division_id=case.division_id, assignee_id=assignee_id)
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(assignee=user)
        if user is not None:
            _notify(user, case=case)
    case.refresh_from_db()
    return case


def _notify(user, *, lead: Lead | None = None, case: Case | None = None) -> None:
    obj = lead or case
    kind = "lead" if lead else "case"
    notify(
        specs=[
            NotificationSpec(
                recipient_id=user.pk,
                kind=NotificationKind.DISPATCHED,
                key=f"{kind}:{obj.pk}:assigned:{user.pk}",  # type: ignore[union-attr]
                subject=f"指派给您：{obj.title}"[:200],  # type: ignore[union-attr]  # stored like the other notifications: in Chinese
                lead_id=lead.pk if lead else None,
                case_id=case.pk if case else None,
            )
        ]
    )
