"""Users, their roles (Django groups) and their scope (UserProfile)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from supervision.errors import ServiceError
from supervision.zoning.models import AdministrativeDivision

from ..choices import Role
from ..models import UserProfile

# Roles that work inside one district unless told otherwise; the rest are city-wide.
DIVISION_ROLES = frozenset({Role.ENFORCEMENT_OFFICER})


def roles_ensure() -> list[Group]:
    """The five role groups exist (the data migration makes them; this repairs a wiped table)."""
    return [Group.objects.get_or_create(name=r)[0] for r in Role.values]


def user_upsert(
    *,
    username: str,
    role: str,
    division_adcode: str | None = None,
    password: str | None = None,
    email: str = "",
) -> tuple[object, bool]:
    """Create or update a user with exactly one role and its scope. Returns (user, created).

    An enforcement officer needs a division; other roles are city-wide unless one is
    given (an inspector's division matters for avoidance in double-random draws).
    """
    if role not in Role.values:
        raise ServiceError(
            _("Unknown role '%(role)s' (one of %(value)s).") % {"role": role, "value": ", ".join(Role.values)}
        )
    division = None
    if division_adcode:
        division = AdministrativeDivision.objects.filter(adcode=division_adcode).first()
        if division is None:
            raise ServiceError(
                _("Unknown division adcode '%(division_adcode)s'.") % {"division_adcode": division_adcode}
            )
    elif role in DIVISION_ROLES:
        raise ServiceError(_("Role '%(role)s' works in one district: give --division ADCODE.") % {"role": role})
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if email and user.email != email:
            user.email = email
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.is_active = True
        user.save()
        groups = {g.name: g for g in roles_ensure()}
        user.groups.remove(*[g for name, g in groups.items() if name != role])
        user.groups.add(groups[role])
        UserProfile.objects.update_or_create(user=user, defaults={"division": division, "city_wide": division is None})
    return user, created
