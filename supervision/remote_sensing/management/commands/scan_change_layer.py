from datetime import date

from django.db import transaction

from supervision.commands import ServiceCommand
from supervision.errors import ServiceError
from supervision.remote_sensing.choices import LayerKind, LayerStatus
from supervision.remote_sensing.services.layers import (
    layer_register,
    layer_scan,
    layer_summary,
    layer_wait,
    plan_for_code,
)


class Command(ServiceCommand):
    help = (
        "Register a change-detection GeoTIFF against a plan and scan it for leads. "
        "The same file again re-scans its layer (adding no lead twice)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="GeoTIFF path (local or shared mount) or http(s):// or s3:// URL of a COG")
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--kind", required=True, choices=LayerKind.values)
        parser.add_argument(
            "--min-area-m2", type=float, help="minimum patch area inside a unit (default: the plan's rule, 1000)"
        )
        parser.add_argument(
            "--threshold", type=float, help="ndvi_diff: values below it are vegetation loss (default -0.2)"
        )
        parser.add_argument("--before", type=date.fromisoformat, help="date of the earlier image (YYYY-MM-DD)")
        parser.add_argument("--after", type=date.fromisoformat, help="date of the later image (YYYY-MM-DD)")
        parser.add_argument("--sensor", default="")
        parser.add_argument("--source", default="")
        parser.add_argument("--before-image", default="", help="earlier imagery GeoTIFF for evidence chips")
        parser.add_argument("--after-image", default="", help="later imagery GeoTIFF for evidence chips")
        parser.add_argument("--wait", action="store_true", help="wait for the scan and print a one-line summary")
        parser.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits (default 3600)")

    def handle(self, *args, **opts):
        plan = plan_for_code(code=opts["plan"])
        with transaction.atomic():
            reg = layer_register(
                plan=plan,
                path=opts["path"],
                kind=opts["kind"],
                min_area_m2=opts["min_area_m2"],
                threshold=opts["threshold"],
                before_date=opts["before"],
                after_date=opts["after"],
                sensor=opts["sensor"],
                source=opts["source"],
                before_image=opts["before_image"],
                after_image=opts["after_image"],
            )
            if not reg.created:
                self.stdout.write(f"same file as change layer #{reg.layer.pk} ({reg.layer.status}); scanning it again")
            layer = layer_scan(layer=reg.layer)
        # The task is queued on commit; with eager Celery it has already run here.
        if not opts["wait"]:
            layer.refresh_from_db()
            self.stdout.write(layer_summary(layer))
            return
        layer = layer_wait(layer=layer, timeout_s=opts["timeout"])
        if layer.status == LayerStatus.FAILED:
            raise ServiceError(layer_summary(layer), code="scan_failed")
        self.stdout.write(layer_summary(layer))
