"""Who may compute, publish and read scorecards (roles and scopes come from the cases app).

Assessors and bureau admins compute, publish, correct and export, and read every
scorecard, drafts included. Officers and inspectors read published scorecards of their
own division only (another division's is a 404, as for leads and cases); city-wide ones
read every published scorecard. Planners have no access.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import permissions

from supervision.cases.permissions import (
    ADMIN,
    ASSESSOR,
    INSPECTOR,
    OFFICER,
    ensure_in_scope,
    scope_queryset,
    user_roles,
)
from supervision.errors import Forbidden

from .choices import ScorecardStatus

MANAGE_ROLES = frozenset({ASSESSOR, ADMIN})
READ_ROLES = frozenset({OFFICER, INSPECTOR, ASSESSOR, ADMIN})

ACTION_ROLES: dict[str, frozenset[str]] = {
    "scores.compute": MANAGE_ROLES,
    "scorecard.publish": MANAGE_ROLES,
    "scorecard.correct": MANAGE_ROLES,
    "scores.export": MANAGE_ROLES,
    "officials.read": MANAGE_ROLES,
}


def can_manage(user) -> bool:
    return bool(user_roles(user) & MANAGE_ROLES)


def require_role(user, action: str) -> None:
    allowed = ACTION_ROLES[action]
    if not user_roles(user) & allowed:
        raise Forbidden(
            _("Your role may not do '%(action)s' (allowed: %(value)s).")
            % {"action": action, "value": ", ".join(sorted(allowed))},
            code="forbidden_role",
        )


def scorecards_scope(qs: QuerySet, user) -> QuerySet:
    """Managers see everything; other readers only published (or superseded) cards within their scope."""
    if can_manage(user):
        return qs
    if not user_roles(user) & READ_ROLES:
        return qs.none()
    return scope_queryset(qs.exclude(status=ScorecardStatus.DRAFT), user)


def ensure_division_visible(user, division_id: int) -> None:
    if not can_manage(user):
        ensure_in_scope(user, division_id, label="Scorecard")


class HasAssessmentRole(permissions.BasePermission):
    """Signed in and holding a role in the view's `roles` (default: READ_ROLES), else 403."""

    message = "Your role has no access to assessment scorecards."

    def has_permission(self, request, view):
        roles = getattr(view, "roles", READ_ROLES)
        return bool(request.user and request.user.is_authenticated and user_roles(request.user) & roles)
