"""Errors that services raise and that the API and management commands turn into replies.

A service never returns an HTTP response; it raises one of these with a message a
person can act on. `config.api.exception_handler` maps them to 4xx replies, and
management commands print `problems` one per line and exit non-zero.
"""


class ServiceError(Exception):
    """A request the service refuses; the message says why."""

    status_code = 400

    def __init__(
        self, message: str, *, problems: list[str] | None = None, code: str = "invalid", extra: dict | None = None
    ):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])
        self.code = code
        # Facts a client acts on, added to the API body (a 409's current status, who and when).
        self.extra = dict(extra or {})


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    """Someone else changed the object first (compare-and-set lost)."""

    status_code = 409


class ImportRefused(ServiceError):
    """A whole file refused: one problem per line, nothing written."""


class ServiceUnavailable(ServiceError):
    """A service the request needs (the task queue) cannot be reached now; try again later."""

    status_code = 503
