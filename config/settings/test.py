"""Test settings: real PostGIS and Redis, as the suite requires."""

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, env

SECRET_KEY = "test-only-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}
MEDIA_ROOT = env.str("MEDIA_ROOT", default="/tmp/supervision-test-media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Throttle counts live in Redis as in production (CACHE_URL, REDIS_URL or the broker's, see
# base.py); each test database gets its own key prefix so parallel runs never mix.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["KEY_PREFIX"] = env.str("TEST_DATABASE_NAME", default="test")
# The suite makes many requests as one user from one address: generous rates, which the
# throttle tests lower with override_settings.
API_THROTTLE_RATES = {"anon": "100000/minute", "user": "100000/minute", "auth_token": "100000/minute"}
