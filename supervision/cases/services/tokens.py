"""API tokens: issued on sign-in, rotated on every new sign-in, expiring after API_TOKEN_TTL_HOURS.

One token per user (DRF's authtoken table). Issuing a token replaces the previous one, so a
leaked token stops working at the next sign-in at the latest; revoking deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token


@dataclass(frozen=True)
class IssuedToken:
    key: str
    expires_at: datetime


def token_ttl() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_expires_at(*, created: datetime) -> datetime:
    return created + token_ttl()


def token_expired(*, token: Token, now: datetime | None = None) -> bool:
    return token_expires_at(created=token.created) <= (now or timezone.now())


def token_issue(*, user) -> IssuedToken:
    """A fresh token for `user`, replacing (rotating) any token it had."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
    return IssuedToken(key=token.key, expires_at=token_expires_at(created=token.created))


def token_revoke(*, user) -> bool:
    """Delete the user's token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0
