"""Sending Celery tasks so that a broker outage never fails a change that committed.

A task is sent after the transaction commits (`task_send_on_commit`); if the broker is
unreachable the failure is logged and the caller still answers success: the work is
recorded in the database (a layer `queued`, a notification not yet emailed) and a
periodic sweep sends the task again (`remote_sensing.services.layers.layers_requeue`).
The short connection timeouts that keep the wait to seconds are in settings (Celery).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import kombu.exceptions
from celery import Task
from celery.result import AsyncResult
from django.db import transaction

logger = logging.getLogger(__name__)

try:  # the Redis transport's own errors, when they escape kombu's wrapping
    import redis.exceptions as _redis_exceptions

    _REDIS_ERRORS: tuple[type[BaseException], ...] = (
        _redis_exceptions.ConnectionError,
        _redis_exceptions.TimeoutError,
    )
except ImportError:  # pragma: no cover - redis is in requirements.txt
    _REDIS_ERRORS = ()

BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    ConnectionError,
    TimeoutError,
    *_REDIS_ERRORS,
)


def task_send(task: Task, *args: Any, on_sent: Callable[[AsyncResult], None] | None = None) -> AsyncResult | None:
    """Send `task(*args)` now; None (logged) when the broker cannot be reached.

    In eager mode (no broker: the demo and the test suite) the task runs in-process and
    its own errors propagate as before: only publishing failures are caught.
    """
    if task.app.conf.task_always_eager:
        result = task.apply_async(args=args)
    else:
        try:
            result = task.apply_async(args=args)
        except BROKER_ERRORS as exc:
            logger.error(
                "broker unavailable: %s%r not sent (%s); the requeue sweep sends it later", task.name, args, exc
            )
            return None
    if on_sent is not None:
        on_sent(result)
    return result


def task_send_on_commit(task: Task, *args: Any, on_sent: Callable[[AsyncResult], None] | None = None) -> None:
    """Send `task(*args)` once the current transaction commits (now, outside one)."""
    transaction.on_commit(lambda: task_send(task, *args, on_sent=on_sent))
