from supervision.commands import ServiceCommand
from supervision.zoning.services import plan_get
from supervision.zoning.vector_export import FORMATS, plan_export


class Command(ServiceCommand):
    help = (
        "Export a plan's units, overlays and access list as a GeoPackage (a file) or Shapefiles (a folder, "
        "pinyin-initial fields, GBK, with the access list as a CSV); the export imports back with import_units."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("-o", "--output", required=True, help="a .gpkg file, or a folder for Shapefiles")

    def handle(self, *args, **opts):
        plan = plan_get(code=opts["plan"])
        report = plan_export(plan=plan, fmt=opts["format"], path=opts["output"])
        overlays = ", ".join(f"{n} {kind}" for kind, n in report.overlays.items()) or "no overlays"
        self.stdout.write(
            f"wrote plan {report.plan} to {report.path}: {report.units} units, {overlays}, {report.clauses} clauses"
        )
