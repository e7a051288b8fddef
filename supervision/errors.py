"""Errors that services raise and that the API and management commands turn into replies.

A service never returns an HTTP response; it raises one of these with a message a
person can act on. `config.api.exception_handler` maps them to 4xx replies, and
management commands print `problems` one per line and exit non-zero.

Every error carries a stable `code` (what a program branches on) and a message
written in English and wrapped for translation where it is raised
(`_("Lead %(id)s ...") % {...}` with `gettext`), so it reaches the reader in the
language of the request (the API's `Accept-Language`, the page's language). A
message never names a server path.
"""

import re

_PATH = re.compile(r"(?<![\w.:/])(?:[A-Za-z]:)?[/\\](?:[^\s'\"/\\]+[/\\])+([^\s'\"/\\]+)")


def without_dirs(text: str) -> str:
    """The text with every absolute file path cut to its file name: a message never shows a server path."""
    return _PATH.sub(r"\1", str(text))


def error_lines(errors, prefix: str = "") -> list[str]:
    """A serializer's or form's errors as "field: message" lines, nested fields dotted.

    The one reading of validation errors: the API's `problems`, a page's message line and a
    command's output all come from it, so they name a field the same way. Errors that
    belong to no field (`non_field_errors`, a form's `__all__`) carry the enclosing name.
    """
    if isinstance(errors, dict):
        return [
            line
            for key, value in errors.items()
            for line in error_lines(
                value, prefix if key in ("non_field_errors", "__all__") else (f"{prefix}.{key}" if prefix else str(key))
            )
        ]
    if isinstance(errors, list | tuple):
        return [line for item in errors for line in error_lines(item, prefix)]
    return [f"{prefix}: {errors}" if prefix else str(errors)]


class ServiceError(Exception):
    """A request the service refuses; the message says why."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        problems: list[str] | None = None,
        code: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = without_dirs(message)
        self.problems = [without_dirs(p) for p in (problems or [])]
        self.code = code or self.default_code
        # Facts a client acts on, added to the API body (a 409's current status, who and when).
        self.extra = dict(extra or {})

    def text(self) -> str:
        """The message and the problems it does not already say, for one line on a page."""
        extra = [p for p in self.problems if p not in self.message]
        return " ".join([self.message, "; ".join(extra)]).strip() if extra else self.message


class NotFound(ServiceError):
    status_code = 404
    default_code = "not_found"


class Forbidden(ServiceError):
    status_code = 403
    default_code = "forbidden"


class Conflict(ServiceError):
    """Someone else changed the object first (compare-and-set lost)."""

    status_code = 409
    default_code = "conflict"


class ImportRefused(ServiceError):
    """A whole file refused: one problem per line, nothing written."""

    default_code = "import_refused"


class ServiceUnavailable(ServiceError):
    """A service the request needs (the task queue) cannot be reached now; try again later."""

    status_code = 503
