"""Production settings: secure defaults; everything still from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEVELOPMENT_SECRET_KEYS, SECRET_KEY, env, env_secret

# Refuse to start on a key anyone can read: unset, short, repetitive or a development key.
# Sessions, password-reset links and signed values are forged with it.
if (
    not SECRET_KEY
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY in DEVELOPMENT_SECRET_KEYS
    or SECRET_KEY.startswith(("django-insecure-", "dev-only-"))
):
    raise ImproperlyConfigured(
        "SECRET_KEY is unset or not secret enough for production: set SECRET_KEY (or SECRET_KEY_FILE) "
        "to at least 50 random characters, e.g. from "
        '`python3 -c "import secrets; print(secrets.token_urlsafe(50))"`.'
    )

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Outgoing mail (notifications): the relay the bureau provides.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Load balancers probe /healthz/ over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
