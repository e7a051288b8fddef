"""What `requeue_queued` and `requeue_chips` share: the age option, the sweep, one line of output."""

from datetime import timedelta

from django.conf import settings

from supervision.commands import ServiceCommand


class RequeueCommand(ServiceCommand):
    """Run a sweep that sends lost tasks again for what waits longer than N minutes."""

    default_setting = ""  # the settings name of N's default
    what = ""  # the help text's name for N
    line = ""  # the output, with {n} and {ids}

    def sweep(self, older_than: timedelta) -> list[int]:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes", type=int, default=None, help=f"{self.what} (default {self.default_setting})"
        )

    def handle(self, *args, **opts):
        minutes = opts["older_than_minutes"]
        if minutes is not None and minutes < 0:
            raise ValueError("--older-than-minutes must be 0 or more.")
        minutes = getattr(settings, self.default_setting) if minutes is None else minutes
        sent = self.sweep(timedelta(minutes=minutes))
        self.stdout.write(self.line.format(n=len(sent)) + (f": {', '.join(map(str, sent))}" if sent else ""))
