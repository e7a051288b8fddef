from datetime import timedelta

from django.conf import settings

from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.layers import layers_requeue


class Command(ServiceCommand):
    help = (
        "Send the scan task again for change layers still queued with no send attempt for N minutes "
        "(the broker was down when they were queued). Safe to run twice; beat runs it too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=None,
            help="minutes since the last send attempt (default TASKS_REQUEUE_AFTER_MINUTES)",
        )

    def handle(self, *args, **opts):
        minutes = opts["older_than_minutes"]
        if minutes is not None and minutes < 0:
            raise ValueError("--older-than-minutes must be 0 or more.")
        minutes = settings.TASKS_REQUEUE_AFTER_MINUTES if minutes is None else minutes
        sent = layers_requeue(older_than=timedelta(minutes=minutes))
        self.stdout.write(f"{len(sent)} change layers sent again" + (f": {', '.join(map(str, sent))}" if sent else ""))
