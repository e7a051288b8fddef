import asyncio
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.commands import ServiceCommand
from supervision.errors import ServiceError
from supervision.permitting.models import PermitLimit
from supervision.remote_sensing.hj212.client import device_send, hourly_packet


class Command(ServiceCommand):
    help = (
        "Simulate CEMS devices: send HJ 212 hourly packets for the permitted devices of a target to a running "
        "hj212_listen (values at a share of each limit; the last --exceed-hours above it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9212)
        parser.add_argument("--credit-code", help="the target whose devices to simulate (default: every device)")
        parser.add_argument("--hours", type=int, default=24, help="hours of data ending at the last full hour")
        parser.add_argument("--exceed-hours", type=int, default=0, help="the last N hours exceed the limit")
        parser.add_argument("--share", type=float, default=0.6, help="compliant values as a share of the limit")

    def handle(self, *args, **opts):
        limits = PermitLimit.objects.all()
        if opts["credit_code"]:
            limits = limits.filter(target__credit_code=opts["credit_code"].upper())
        devices: dict[str, dict[str, float]] = {}
        for limit in limits:
            devices.setdefault(limit.device_mn, {})[limit.pollutant_code] = limit.hourly_limit
        if not devices:
            raise ServiceError(
                _("No permitted CEMS device to simulate; import permit limits first."), code="no_devices"
            )
        end = timezone.localtime().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        hours = [end - timedelta(hours=h) for h in range(opts["hours"] - 1, -1, -1)]
        exceed_from = len(hours) - opts["exceed_hours"]
        batches = {
            mn: [
                hourly_packet(
                    mn=mn,
                    data_time=at.replace(tzinfo=None),
                    values={
                        code: limit * (1.3 + 0.05 * (i - exceed_from) if i >= exceed_from else opts["share"])
                        for code, limit in pollutants.items()
                    },
                )
                for i, at in enumerate(hours)
            ]
            for mn, pollutants in devices.items()
        }

        async def run_all():
            return await asyncio.gather(
                *(device_send(host=opts["host"], port=opts["port"], packets=p) for p in batches.values())
            )

        runs = asyncio.run(run_all())
        for mn, run in zip(batches, runs, strict=True):
            line = f"{mn}: sent {run.sent}, acknowledged {run.acked}"
            self.stdout.write(line + (f"; {run.errors[0]}" if run.errors else ""))
        if any(run.errors or run.acked < run.sent for run in runs):
            raise SystemExit(1)
