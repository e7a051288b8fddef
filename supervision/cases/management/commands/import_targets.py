from supervision.cases.services.targets import targets_import
from supervision.commands import ServiceCommand
from supervision.errors import ServiceError
from supervision.zoning.choices import PlanStatus
from supervision.zoning.models import ZoningPlan
from supervision.zoning.services import plan_get


class Command(ServiceCommand):
    help = "Import enforcement targets from CSV/XLSX (lon/lat or WKT); each linked to its unit; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--srid", type=int, help="EPSG code of the coordinates (default 4326)")
        parser.add_argument("--plan", help="plan whose units the targets are linked to (default: the effective plan)")

    def handle(self, *args, **opts):
        if opts["plan"]:
            plan = plan_get(code=opts["plan"])
        else:
            effective = list(ZoningPlan.objects.filter(status=PlanStatus.EFFECTIVE)[:2])
            if len(effective) != 1:
                raise ServiceError("There is not exactly one effective plan; name one with --plan CODE.")
            plan = effective[0]
        report = targets_import(path=opts["path"], plan=plan, srid=opts["srid"])
        self.stdout.write(
            f"imported {report.created} new and updated {report.updated} enforcement targets (plan {plan.code})"
        )
