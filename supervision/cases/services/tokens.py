"""API tokens: issued on sign-in, rotated on every new sign-in, expiring after API_TOKEN_TTL_HOURS.

One token per user (`ApiToken`). The key is 256 random bits, shown once in the response that
issues it; the database keeps only its SHA-256 digest and its first PREFIX_LENGTH characters
(the prefix finds the row through an index and names the token in the admin; the digest is
compared in constant time). Issuing a token replaces the previous one, so a leaked token stops
working at the next sign-in at the latest; revoking deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..models import ApiToken

PREFIX_LENGTH = 8
# Longer than any key we issue (43 characters) or issued (DRF's 40): anything longer is not a key.
KEY_MAX_LENGTH = 128


@dataclass(frozen=True)
class IssuedToken:
    key: str
    expires_at: datetime


def token_ttl() -> timedelta:
    return timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_expires_at(*, created: datetime) -> datetime:
    return created + token_ttl()


def token_expired(*, token: ApiToken, now: datetime | None = None) -> bool:
    return token_expires_at(created=token.created) <= (now or timezone.now())


def token_digest(*, key: str) -> str:
    """Hex SHA-256 of a key (what the database stores instead of it)."""
    return hashlib.sha256(key.encode()).hexdigest()


def token_prefix(*, key: str) -> str:
    return key[:PREFIX_LENGTH]


def token_issue(*, user) -> IssuedToken:
    """A fresh token for `user`, replacing (rotating) any token it had. The key is returned once."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # Two sign-ins of one user at once: the row lock makes the second wait, then replace the first.
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
        ApiToken.objects.filter(user=user).delete()
        ApiToken.objects.create(user=user, prefix=token_prefix(key=key), digest=token_digest(key=key), created=now)
    return IssuedToken(key=key, expires_at=token_expires_at(created=now))


def token_find(*, key: str) -> ApiToken | None:
    """The token (with its user) whose key this is, or None: one indexed query on the prefix,
    then a constant-time comparison of digests (a prefix may be shared by a few tokens)."""
    if not key or len(key) > KEY_MAX_LENGTH:
        return None
    digest = token_digest(key=key)
    found = None
    # The user's scope profile comes along: every case API request reads it next.
    for token in ApiToken.objects.select_related("user", "user__profile").filter(prefix=token_prefix(key=key)):
        if hmac.compare_digest(token.digest, digest):
            found = token
    return found


def token_revoke(*, user) -> bool:
    """Delete the user's token; True when there was one."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted > 0
