"""Who may record EIA approvals: one rule for the API and the page."""

from __future__ import annotations

from supervision.cases import permissions as case_perms


def eia_record_allowed(user) -> bool:
    """Bureau admins, or anyone holding the model permission, record approvals."""
    if not (user and user.is_authenticated):
        return False
    return user.has_perm("permitting.add_eiaapproval") or case_perms.ADMIN in case_perms.user_roles(user)
