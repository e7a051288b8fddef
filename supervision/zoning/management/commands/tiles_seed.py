from supervision.commands import ServiceCommand
from supervision.zoning.services import plan_get
from supervision.zoning.tiles import SEED_MAX_ZOOM, tiles_seed


class Command(ServiceCommand):
    help = (
        "Warm the tile cache for a plan: build its low-zoom shapes, then draw its units and overlays tiles "
        "from zoom 0 to --max-zoom over its extent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument(
            "--max-zoom", type=int, default=8, help=f"deepest zoom drawn (0-{SEED_MAX_ZOOM}, default 8)"
        )
        parser.add_argument("--public", action="store_true", help="the generalised tiles anonymous readers get")

    def handle(self, *args, **opts):
        plan = plan_get(code=opts["plan"])
        report = tiles_seed(plan=plan, max_zoom=opts["max_zoom"], public=opts["public"])
        self.stdout.write(
            f"plan {plan.code}: {report.tiles} tiles drawn to zoom {opts['max_zoom']} "
            f"({report.empty} empty) in {report.seconds:.1f} s"
        )
