"""Sign-in protection shared by the pages and the API.

- Failed sign-ins are counted by django-axes per (username, client IP); after
  LOGIN_FAILURE_LIMIT failures that pair is locked out for LOGIN_LOCKOUT_MINUTES, on the
  web login and on `POST /api/v1/auth/token/` alike (`lockout_response`: 429, Retry-After).
- API throttles (anonymous, signed-in, and the tighter `auth_token` scope) count in the
  shared cache (Redis in production), with rates read from API_THROTTLE_RATES at request time.
- Tokens (stored as SHA-256 digests) expire after API_TOKEN_TTL_HOURS; a new sign-in rotates
  the token, DELETE revokes it.
"""

from __future__ import annotations

import logging
import math

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework import exceptions, throttling
from rest_framework.authentication import TokenAuthentication

from supervision.cases.services.tokens import token_expired, token_find

# --- client address and lockout --------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the one TRUSTED_PROXY_COUNT proxies forwarded.

    X-Forwarded-For is only believed as far as our own proxies wrote it (counted from the
    right), so a client cannot pick the address its failures are counted against.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS, for every sign-in over HTTP.

    A call without a request is not an HTTP sign-in (a management command, the test client's
    `login()`): there is no address to count against, so it is left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out sign-in gets: 429 with Retry-After; JSON on the API, a page on the web."""
    seconds = lockout_seconds()
    minutes = math.ceil(seconds / 60)
    message = _("Too many failed sign-ins. Try again in %(minutes)s minutes.") % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


logger = logging.getLogger(__name__)

# --- throttles ----------------------------------------------------------------------------------


class _SettingsRate:
    """Read the rate from settings.API_THROTTLE_RATES when asked (so it can change at run time)."""

    scope: str

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The counts live in Redis; with Redis down a request is let through (logged) rather than
        # answered 500: the throttle guards capacity, the change the request makes is the user's.
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except (OSError, RedisError) as exc:
            logger.warning("throttle %s skipped: cache unavailable (%s)", self.scope, exc)
            return True


class AnonThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anon"


class UserThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class TokenThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Sign-in attempts on the token endpoint, per client address."""

    scope = "auth_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# --- tokens ---------------------------------------------------------------------------------------


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` checked against the stored digest (services.tokens.token_find);
    a token older than API_TOKEN_TTL_HOURS is refused (401 token_expired)."""

    def authenticate_credentials(self, key):
        token = token_find(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="authentication_failed")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."), code="authentication_failed")
        if token_expired(token=token):
            raise exceptions.AuthenticationFailed(
                _("The token has expired; sign in again for a new one."), code="token_expired"
            )
        return token.user, token


class BearerTokenAuthentication(ExpiringTokenAuthentication):
    """The API token sent as `Authorization: Bearer <token>`, which GDAL (GDAL_HTTP_AUTH=BEARER) and
    QGIS header auth configurations send (the OGC API); `Token <token>` works as everywhere else."""

    keyword = "Bearer"
