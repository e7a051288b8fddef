"""What every app's pages share: the template context, the page guard, who sees which section,
and the one way a refused form or service call becomes a message on the page.

The apps' `web.py` modules import from here (never from each other), so a rule about pages
lives in one place. Who may do what is still decided by each app's `permissions`; this module
only maps those roles to the navigation.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import serializers

from supervision.cases import permissions as perms
from supervision.errors import Forbidden, NotFound, ServiceError, error_lines

# Who reads scorecards (the assessment app's READ_ROLES: officers and inspectors see their own division's published ones).
ASSESSMENT_ROLES = frozenset({perms.OFFICER, perms.INSPECTOR, perms.ASSESSOR, perms.ADMIN})

# The language menu: each language in its own name ("English", "中文"), whatever the page's language.
LANGUAGE_MENU = (("zh-hans", "中文"), ("en", "English"))


def web_context(request) -> dict:
    """Template context for every page: what the nav may show, the user's scope, unread notifications."""
    from supervision.cases import selectors
    from supervision.remote_sensing.permissions import layer_upload_allowed

    user = request.user
    roles = perms.user_roles(user) if user.is_authenticated else frozenset()
    scope_label = ""
    unread = 0
    if user.is_authenticated:
        if perms.is_city_wide(user):
            scope_label = _("全市")
        else:
            profile = perms._profile(user)
            scope_label = profile.division.name if profile and profile.division_id else ""
        unread = selectors.notifications_for(user=user).filter(read_at__isnull=True).count()
    return {
        "web": {
            "roles": roles,
            "can_cases": bool(roles & perms.READ_ROLES),
            "can_layers": bool(roles & perms.READ_ROLES),
            "can_upload_layers": user.is_authenticated and layer_upload_allowed(user),
            "can_assessment": bool(roles & ASSESSMENT_ROLES),
            "public_zoning": settings.PUBLIC_ZONING,
            "scope_label": scope_label,
            "unread": unread,
            "languages": LANGUAGE_MENU,
        }
    }


def case_page(view=None, *, roles: frozenset[str] = perms.READ_ROLES):
    """Signed in (else to login) and holding one of `roles` (else 403); a service's NotFound is a 404."""

    def decorate(fn):
        @wraps(fn)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not perms.user_roles(request.user) & roles:
                raise PermissionDenied
            try:
                return fn(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None
            except Forbidden:
                raise PermissionDenied from None

        return wrapped

    return decorate(view) if view is not None else decorate


def form_problems(errors) -> str:
    """A serializer's or form's errors as one readable line ("field: problem; ..."), named as the API names them."""
    return "; ".join(error_lines(errors))


def form_input(request, serializer_class, *, data=None):
    """The POST (and its files) checked by the API's input serializer, as the API checks a request.

    `data` replaces the POST (a page's adapted copy of it). Returns `validated_data`, or None after
    putting the API's problems ("field: message; ...") on the page, so a page and the API refuse
    the same input with the same words.
    """
    data = (data if data is not None else request.POST).copy()
    for name, field in serializer_class().fields.items():
        # A browser sends an empty file input as a blank text part: that is no file, not a wrong one.
        if isinstance(field, serializers.FileField) or isinstance(getattr(field, "child", None), serializers.FileField):
            data.pop(name, None)
    data.update(request.FILES)
    form = serializer_class(data=data)
    if form.is_valid():
        return form.validated_data
    messages.error(request, form_problems(form.errors))
    return None


def service_run(request, fn, *, ok: str, **kwargs):
    """Call a service; its refusal becomes an error message on the page. Returns the result or None."""
    try:
        result = fn(**kwargs)
    except (NotFound, Forbidden):
        raise
    except ServiceError as exc:
        messages.error(request, exc.text())
        return None
    messages.success(request, ok)
    return result if result is not None else True
