"""Base for management commands: parse arguments, call a service, report problems.

A ServiceError becomes one line per problem on stderr and exit status 1.
"""

import sys

from django.core.management.base import BaseCommand

from supervision.errors import ServiceError


class ServiceCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ServiceError as exc:
            stderr = options.get("stderr") or sys.stderr
            for line in exc.problems or [exc.message]:
                stderr.write(f"{line}\n")
            if exc.problems:
                stderr.write(f"{exc.message}\n")
            raise SystemExit(1) from None
        except (FileNotFoundError, ValueError) as exc:
            stderr = options.get("stderr") or sys.stderr
            stderr.write(f"{exc}\n")
            raise SystemExit(1) from None
