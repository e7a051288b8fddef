"""Sign-in lockout (django-axes), API throttles on the shared cache, hashed tokens with expiry and rotation,
schema access."""

import hashlib
import importlib
import time
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from supervision.cases.models import ApiToken
from supervision.cases.services.tokens import token_issue

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
    assert not ApiToken.objects.exists()
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
    r = client.get("/api/v1/notifications/")
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    assert r["WWW-Authenticate"].startswith("Token")
    client.credentials(HTTP_AUTHORIZATION=f"Token {second['token']}")
    assert client.get("/api/v1/notifications/").status_code == 200


@override_settings(API_TOKEN_TTL_HOURS=12)
def test_expired_token_is_401_with_a_code(user):
    client = APIClient()
    key = client.post(TOKEN_URL, GOOD).json()["token"]
    ApiToken.objects.update(created=ApiToken.objects.get().created - timedelta(hours=12, seconds=1))
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
    assert not ApiToken.objects.exists()


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


# --- hashed tokens -------------------------------------------------------------------------------


def _columns_text(table: str) -> str:
    """Every column of every row of `table`, as text: what someone reading the database sees."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_database_holds_a_digest_and_a_prefix_never_the_key(user):
    client = APIClient()
    key = client.post(TOKEN_URL, GOOD).json()["token"]
    assert len(key) >= 40
    stored = ApiToken.objects.get(user=user)
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:8]
    assert key not in _columns_text("cases_apitoken")
    assert key[8:16] not in _columns_text("cases_apitoken")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["username"] == "planner1"


def test_a_wrong_key_with_a_real_prefix_is_refused(user):
    key = token_issue(user=user).key
    client = APIClient()
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), key[:8], key + "x", "x" * 500):
        client.credentials(HTTP_AUTHORIZATION=f"Token {wrong}")
        r = client.get("/api/v1/notifications/")
        assert r.status_code == 401 and r.json()["code"] == "authentication_failed", wrong


def test_token_lookup_is_one_query_with_its_user(user):
    key = token_issue(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/notifications/").status_code == 200
    token_queries = [q["sql"] for q in ctx.captured_queries if "cases_apitoken" in q["sql"]]
    assert len(token_queries) == 1 and "auth_user" in token_queries[0]
    assert '"cases_apitoken"."prefix" =' in token_queries[0]
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "auth_user"')]


def test_an_inactive_users_token_is_refused(user):
    key = token_issue(user=user).key
    user.is_active = False
    user.save()
    r = APIClient().get("/api/v1/notifications/", HTTP_AUTHORIZATION=f"Token {key}")
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"


def test_the_admin_lists_tokens_by_prefix_without_the_key(user, admin_client):
    key = token_issue(user=user).key
    page = admin_client.get("/admin/cases/apitoken/").content.decode()
    assert key[:8] in page and "planner1" in page
    assert key not in page and ApiToken.objects.get().digest not in page
    assert admin_client.get("/admin/cases/apitoken/add/").status_code == 403


# --- migrating DRF's plaintext tokens -----------------------------------------------------------

MIGRATION = importlib.import_module("supervision.cases.migrations.0012_api_token_hashed_data")
LEGACY_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's format: 40 hex characters


def _legacy_token(user, *, created_sql: str = "now()") -> None:
    """DRF authtoken's table as an existing installation has it, with one plaintext key."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id integer NOT NULL UNIQUE REFERENCES auth_user(id))"
        )
        cursor.execute(
            f"INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, {created_sql}, %s)", [LEGACY_KEY, user.pk]
        )


def _migrate(direction) -> None:
    with connection.schema_editor() as schema_editor:
        direction(apps, schema_editor)


def test_migration_hashes_an_existing_token_which_keeps_working(user):
    _legacy_token(user)
    _migrate(MIGRATION.forwards)
    assert _columns_text("authtoken_token") == ""  # the plaintext rows are gone
    stored = ApiToken.objects.get(user=user)
    assert stored.prefix == LEGACY_KEY[:8] and stored.digest == hashlib.sha256(LEGACY_KEY.encode()).hexdigest()
    assert LEGACY_KEY not in _columns_text("cases_apitoken")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {LEGACY_KEY}")
    assert client.get("/api/v1/me/").json()["username"] == "planner1"
    # Signing in rotates it like any other token.
    new_key = client.post(TOKEN_URL, GOOD).json()["token"]
    assert client.get("/api/v1/notifications/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new_key}")
    assert client.get("/api/v1/notifications/").status_code == 200


@override_settings(API_TOKEN_TTL_HOURS=12)
def test_a_migrated_token_keeps_its_issue_time_and_expires_on_schedule(user):
    _legacy_token(user, created_sql="now() - interval '13 hours'")
    _migrate(MIGRATION.forwards)
    r = APIClient().get("/api/v1/notifications/", HTTP_AUTHORIZATION=f"Token {LEGACY_KEY}")
    assert r.status_code == 401 and r.json()["code"] == "token_expired"


def test_migration_without_the_legacy_table_does_nothing_and_its_reverse_revokes(user):
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token")
    key = token_issue(user=user).key
    _migrate(MIGRATION.forwards)
    assert ApiToken.objects.count() == 1
    # The reverse cannot bring plaintext keys back: it revokes, and clients sign in again.
    _migrate(MIGRATION.backwards)
    assert not ApiToken.objects.exists()
    r = APIClient().get("/api/v1/notifications/", HTTP_AUTHORIZATION=f"Token {key}")
    assert r.status_code == 401
