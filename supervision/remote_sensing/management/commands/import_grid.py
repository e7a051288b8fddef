from datetime import date

from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.layers import plan_for_code
from supervision.remote_sensing.services.monitoring import grid_import


class Command(ServiceCommand):
    help = "Register a gridded monitoring raster (e.g. PM2.5 period mean) and store its mean over each unit of a plan."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--plan", required=True)
        parser.add_argument("--parameter", required=True, help="e.g. PM2.5")
        parser.add_argument("--start", required=True, type=date.fromisoformat, help="period start YYYY-MM-DD")
        parser.add_argument("--end", required=True, type=date.fromisoformat, help="period end YYYY-MM-DD")

    def handle(self, *args, **opts):
        grid = grid_import(
            plan=plan_for_code(code=opts["plan"]),
            path=opts["path"],
            parameter=opts["parameter"],
            period_start=opts["start"],
            period_end=opts["end"],
        )
        n = grid.stats.filter(mean__isnull=False).count()
        self.stdout.write(
            f"grid #{grid.pk} {grid.parameter} {grid.period_start}..{grid.period_end}: mean stored for {n} units"
        )
