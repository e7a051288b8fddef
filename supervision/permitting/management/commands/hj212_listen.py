import asyncio
import logging
import resource
import signal

import uvloop
from django.conf import settings

from supervision.commands import ServiceCommand
from supervision.permitting.services.cems import CemsStore
from supervision.remote_sensing.hj212.server import Receiver, log

STATS_SECONDS = 60


class Command(ServiceCommand):
    # A device receiver serves no URLs: the system checks would import every URLconf (and
    # with them scipy, rasterio, openpyxl): 85 MB of resident memory the listener never uses.
    requires_system_checks: list[str] = []
    help = "Receive HJ 212-2017 packets from CEMS devices over TCP: check, store, acknowledge, raise leads."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a receiver listens for devices
        parser.add_argument("--port", type=int, default=9212, help="TCP port (0: any free port, printed)")
        parser.add_argument("--no-evaluate", action="store_true", help="store only; leave leads to evaluate_cems")
        parser.add_argument(
            "--loop",
            choices=("uvloop", "asyncio"),
            default="uvloop",
            help="event loop: uvloop (libuv, the default: less CPU per packet) or the standard library's",
        )

    def handle(self, *args, **opts):
        # One descriptor per device connection: a province's devices need more than the usual 1024.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if not logging.getLogger().handlers and not log.handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        serve = self._serve(opts["host"], opts["port"], evaluate=not opts["no_evaluate"])
        if opts["loop"] == "uvloop":
            uvloop.run(serve)
        else:
            asyncio.run(serve)

    async def _serve(self, host: str, port: int, *, evaluate: bool) -> None:
        receiver = Receiver(
            store=CemsStore(evaluate=evaluate),
            batch_size=settings.CEMS_BATCH_SIZE,
            batch_seconds=settings.CEMS_BATCH_SECONDS,
            writers=settings.CEMS_WRITERS,
        )
        server = await receiver.start(host, port)
        bound = server.sockets[0].getsockname()
        self.stdout.write(f"listening on {bound[0]}:{bound[1]}")
        self.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), STATS_SECONDS)
            except TimeoutError:
                log.info("hj212 %s", receiver.stats.line())
        await receiver.stop()
        self.stdout.write(f"stopped: {receiver.stats.line()}")
        self.stdout.flush()
