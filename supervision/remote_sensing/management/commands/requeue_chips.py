from datetime import timedelta

from django.conf import settings

from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.layers import layers_chips_requeue


class Command(ServiceCommand):
    help = (
        "Send the chip tasks again for done change layers whose leads still wait for their evidence "
        "chips N minutes after they were sent (the broker was down). Safe to run twice; beat runs it too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=None,
            help="minutes since the chips were sent (default SCAN_CHIPS_REQUEUE_MINUTES)",
        )

    def handle(self, *args, **opts):
        minutes = opts["older_than_minutes"]
        if minutes is not None and minutes < 0:
            raise ValueError("--older-than-minutes must be 0 or more.")
        minutes = settings.SCAN_CHIPS_REQUEUE_MINUTES if minutes is None else minutes
        sent = layers_chips_requeue(older_than=timedelta(minutes=minutes))
        self.stdout.write(
            f"chips of {len(sent)} change layers sent again" + (f": {', '.join(map(str, sent))}" if sent else "")
        )
