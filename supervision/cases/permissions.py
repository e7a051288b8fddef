"""Roles and division scope: who may see and do what.

Roles are Django groups (`choices.Role`); the scope is the user's `UserProfile`: one
division (district adcode) or the whole city. A division-scoped user asking for another
division's object gets 404, not 403, so its existence does not leak: every read goes
through `scope_queryset`, and services re-check with `ensure_in_scope`.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import permissions

from supervision.errors import Forbidden, NotFound, ServiceError

from .choices import Role

M = TypeVar("M", bound=Model)

OFFICER = Role.ENFORCEMENT_OFFICER.value
INSPECTOR = Role.INSPECTOR.value
ASSESSOR = Role.ASSESSOR.value
PLANNER = Role.PLANNER.value
ADMIN = Role.BUREAU_ADMIN.value

# Who may read leads, cases, targets, inspections (planners work on zoning only).
READ_ROLES = frozenset({OFFICER, INSPECTOR, ASSESSOR, ADMIN})

# Who may take each action. The services check these; the views only pre-check reads.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "lead.create": frozenset({OFFICER, INSPECTOR, ADMIN}),
    "lead.dispatch": frozenset({OFFICER, ADMIN}),
    "lead.start_verification": frozenset({OFFICER, ADMIN}),
    "lead.dismiss": frozenset({OFFICER, ADMIN}),
    "lead.merge": frozenset({OFFICER, ADMIN}),
    "lead.confirm": frozenset({OFFICER, ADMIN}),
    "lead.attach": frozenset({OFFICER, INSPECTOR, ADMIN}),
    "case.order_rectification": frozenset({OFFICER, ADMIN}),
    "case.submit_rectification": frozenset({OFFICER, ADMIN}),
    "case.accept": frozenset({OFFICER, ADMIN}),
    "case.name_party": frozenset({OFFICER, ADMIN}),
    "case.return": frozenset({OFFICER, ADMIN}),
    "case.penalty": frozenset({OFFICER, ADMIN}),
    "case.transfer_police": frozenset({OFFICER, ADMIN}),
    "case.publish": frozenset({ADMIN}),
    "case.attach": frozenset({OFFICER, ADMIN}),
    "inspection_plan.create": frozenset({INSPECTOR, ADMIN}),
    "inspection_plan.draw": frozenset({INSPECTOR, ADMIN}),
    "inspection_plan.publish": frozenset({ADMIN}),
    "inspection.record": frozenset({INSPECTOR, ADMIN}),
}


def user_roles(user) -> frozenset[str]:
    """The user's roles; a superuser holds them all. Cached on the user object per request."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_case_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(Role.values)
        else:
            cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._case_roles = cached
    return cached


def user_division_id(user) -> int | None:
    """The division a user is confined to; None for city-wide users (and superusers)."""
    if user.is_superuser:
        return None
    profile = _profile(user)
    if profile is None or profile.city_wide:
        return None
    return profile.division_id


def is_city_wide(user) -> bool:
    if user.is_superuser:
        return True
    profile = _profile(user)
    return bool(profile and profile.city_wide)


def has_scope(user) -> bool:
    """A user with no profile sees nothing (but a superuser sees everything)."""
    return user.is_superuser or _profile(user) is not None


def _profile(user):
    try:
        return user.profile
    except Exception:  # RelatedObjectDoesNotExist
        return None


def require_role(user, action: str) -> None:
    """Raise Forbidden (403) unless the user holds a role allowed to take `action`."""
    allowed = ACTION_ROLES[action]
    if not user_roles(user) & allowed:
        raise Forbidden(
            _("Your role may not do '%(action)s' (allowed: %(value)s).")
            % {"action": action, "value": ", ".join(sorted(allowed))},
            code="forbidden_role",
        )


def scope_queryset(qs: QuerySet[M], user, *, division_field: str = "division") -> QuerySet[M]:
    """Limit qs to what the user's scope covers: everything, one division, or nothing."""
    if not user_roles(user) or not has_scope(user):
        return qs.none()
    if is_city_wide(user):
        return qs
    return qs.filter(**{f"{division_field}_id": user_division_id(user)})


def scope_leads(qs: QuerySet[M], user) -> QuerySet[M]:
    """Leads: the user's division's (all, city-wide), plus those the user raised in another division.

    An inspector opens the lead its failed checklist item raised wherever the inspection was;
    acting on a lead stays with its division (the services check `ensure_in_scope`).
    """
    if not user_roles(user) or not has_scope(user):
        return qs.none()
    if is_city_wide(user):
        return qs
    return qs.filter(Q(division_id=user_division_id(user)) | Q(created_by_id=user.pk))


def scope_inspections(qs: QuerySet[M], user) -> QuerySet[M]:
    """Inspections: the user's division, plus (for inspectors) those they are assigned to elsewhere."""
    if not user_roles(user) or not has_scope(user):
        return qs.none()
    if is_city_wide(user):
        return qs
    return qs.filter(Q(division_id=user_division_id(user)) | Q(inspectors=user)).distinct()


def ensure_in_scope(user, division_id: int | None, *, label: str) -> None:
    """Raise NotFound (404) when the object lies outside the user's division."""
    if not has_scope(user):
        raise NotFound(_("%(label)s not found.") % {"label": label}, code="not_found")
    if is_city_wide(user):
        return
    if division_id != user_division_id(user):
        raise NotFound(_("%(label)s not found.") % {"label": label}, code="not_found")


def scoped_get(queryset: QuerySet[M], pk: object, *, label: str, field: str | None = None) -> M:
    """The object `pk` among `queryset` (already limited to the user's scope), else an error.

    The one lookup for every object a request names by id. An id outside the scope and an id
    that does not exist get the very same answer (status, code and message), so ids cannot be
    enumerated: 404 `not_found` for the object in the URL (`field=None`), 400 `unknown_<field>`
    for a reference in the request body.
    """
    obj = None
    if isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63:
        obj = queryset.filter(pk=pk).first()
    if obj is not None:
        return obj
    if field is None:
        raise NotFound(_("%(label)s %(id)s not found.") % {"label": label, "id": pk}, code="not_found")
    raise ServiceError(
        _("Unknown %(label)s %(id)s.") % {"label": label, "id": pk},
        code=f"unknown_{field}",
        problems=[_("%(field)s: no %(label)s %(id)s.") % {"field": field, "label": label, "id": pk}],
    )


class HasCaseRole(permissions.BasePermission):
    """Signed in and holding a role in the view's `roles` (default: READ_ROLES) — else 403."""

    message = "Your role has no access to leads, cases and inspections."

    def has_permission(self, request, view):
        roles = getattr(view, "roles", READ_ROLES)
        return bool(request.user and request.user.is_authenticated and user_roles(request.user) & roles)
