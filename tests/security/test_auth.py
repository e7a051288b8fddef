"""Sign-in lockout (django-axes), API throttles on the shared cache, token expiry and rotation, schema access."""

import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
GOOD = {"username": "planner1", "password": "pw-123456"}
BAD = {"username": "planner1", "password": "wrong"}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test counts in its own key space of the shared Redis (no FLUSHDB: the broker may live there)."""
    caches_setting = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"sec-{uuid.uuid4().hex}"}}
    with override_settings(CACHES=caches_setting):
        yield


def test_cache_is_the_shared_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache.set("security-probe", 1)
    assert cache.get("security-probe") == 1


def test_hundred_wrong_passwords_then_the_right_one_is_refused_on_the_token_endpoint(user):
    client = APIClient()
    codes = [client.post(TOKEN_URL, BAD).status_code for _ in range(100)]
    # The fifth failure (LOGIN_FAILURE_LIMIT) locks the pair out and is answered 429 already.
    assert codes[:4] == [400] * 4 and set(codes[4:]) == {429}
    r = client.post(TOKEN_URL, GOOD)
    assert r.status_code == 429
    assert r.json()["code"] == "locked_out" and int(r["Retry-After"]) == 30 * 60
    assert not Token.objects.exists()
    # Counted per (username, address): the same user from another address is not locked out.
    other = client.post(TOKEN_URL, GOOD, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_hundred_wrong_passwords_then_the_right_one_is_refused_on_the_web_login(user, client):
    for _ in range(100):
        client.post("/accounts/login/", BAD)
    r = client.post("/accounts/login/", GOOD)
    assert r.status_code == 429 and r["Retry-After"]
    assert "_auth_user_id" not in client.session
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_lockout_ends_after_the_cool_off(user):
    client = APIClient()
    with override_settings(AXES_COOLOFF_TIME=timedelta(seconds=1)):
        for _ in range(6):
            client.post(TOKEN_URL, BAD)
        assert client.post(TOKEN_URL, GOOD).status_code == 429
        time.sleep(1.2)
        assert client.post(TOKEN_URL, GOOD).status_code == 200


def test_user_throttle_answers_429_with_a_code_and_retry_after(user):
    client = APIClient()
    client.force_authenticate(user)
    with override_settings(API_THROTTLE_RATES={"anon": "100/minute", "user": "3/minute", "auth_token": "100/minute"}):
        codes = [client.get("/api/v1/notifications/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.get("/api/v1/notifications/")
    assert r.status_code == 429 and r.json()["code"] == "throttled" and 0 < int(r["Retry-After"]) <= 60


def test_anonymous_and_token_endpoint_throttles(user):
    client = APIClient()
    with override_settings(API_THROTTLE_RATES={"anon": "2/minute", "user": "100/minute", "auth_token": "2/minute"}):
        assert [client.get("/api/v1/public/typical-cases/").status_code for _ in range(3)] == [200, 200, 429]
        codes = [client.post(TOKEN_URL, GOOD).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


def test_token_carries_its_expiry_and_rotates_on_each_sign_in(user):
    client = APIClient()
    first = client.post(TOKEN_URL, GOOD).json()
    assert set(first) == {"token", "expires_at"}
    second = client.post(TOKEN_URL, GOOD).json()
    assert second["token"] != first["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert client.get("/api/v1/notifications/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {second['token']}")
    assert client.get("/api/v1/notifications/").status_code == 200


@override_settings(API_TOKEN_TTL_HOURS=12)
def test_expired_token_is_401_with_a_code(user):
    client = APIClient()
    key = client.post(TOKEN_URL, GOOD).json()["token"]
    Token.objects.filter(key=key).update(created=Token.objects.get(key=key).created - timedelta(hours=12, seconds=1))
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    r = client.get("/api/v1/notifications/")
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    assert r["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("how", ["delete", "revoke"])
def test_token_can_be_revoked(user, how):
    client = APIClient()
    key = client.post(TOKEN_URL, GOOD).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    r = client.delete(TOKEN_URL) if how == "delete" else client.post(TOKEN_URL + "revoke/")
    assert r.status_code == 204
    r = client.get("/api/v1/notifications/")
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    assert not Token.objects.exists()


def test_anonymous_request_is_401_not_authenticated():
    r = APIClient().get("/api/v1/notifications/")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@override_settings(PUBLIC_ZONING=False)
def test_schema_and_swagger_need_sign_in(user, client):
    assert APIClient().get("/api/schema/").status_code == 401
    r = client.get("/api/schema/swagger-ui/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/schema/swagger-ui/").status_code == 200


@override_settings(PUBLIC_ZONING=True)
def test_schema_is_public_with_public_zoning():
    assert APIClient().get("/api/schema/").status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_lockout(user):
    client = APIClient()
    for i in range(6):
        client.post(TOKEN_URL, BAD, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}")
    assert client.post(TOKEN_URL, GOOD, HTTP_X_FORWARDED_FOR="10.9.9.99").status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(user):
    client = APIClient()
    for _ in range(6):
        client.post(TOKEN_URL, BAD, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client.post(TOKEN_URL, GOOD, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert client.post(TOKEN_URL, GOOD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200
