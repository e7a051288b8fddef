import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse

from config.celery_app import app as celery_app
from supervision.queueing import BROKER_ERRORS

logger = logging.getLogger(__name__)


def _database_check() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.error("healthz: database unavailable: %s", exc)
        return False
    return True


def _broker_check() -> str:
    """ "ok", "unavailable", or "not used" (no broker: tasks run in-process)."""
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return "not used"
    try:
        # One attempt within the connect timeout from settings; the Redis transport
        # connects lazily, so ping through the channel's client to be sure.
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
            client = getattr(conn.default_channel, "client", None)
            if client is not None:
                client.ping()
    except BROKER_ERRORS + (OSError,) as exc:
        logger.error("healthz: broker unavailable: %s", exc)
        return "unavailable"
    return "ok"


def healthz(request):
    """Readiness for the load balancer and docker-compose: the database and the broker, each named.

    200 `{"status": "ok", "database": "ok", "broker": "ok"}`; 503 with the failing ones
    named (`"failing": ["broker"]`). No error detail leaves the server: it is logged.
    """
    checks = {"database": "ok" if _database_check() else "unavailable", "broker": _broker_check()}
    failing = [name for name, state in checks.items() if state == "unavailable"]
    if failing:
        return JsonResponse({"status": "unavailable", **checks, "failing": failing}, status=503)
    return JsonResponse({"status": "ok", **checks})
