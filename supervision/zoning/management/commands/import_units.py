from supervision.commands import ServiceCommand
from supervision.zoning.services import units_import


class Command(ServiceCommand):
    help = "Import control units from a GeoPackage, Shapefile or GeoJSON into a (draft) plan; refuses the whole file on any problem."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--plan", required=True, help="plan code; created as a draft if missing")
        parser.add_argument("--layer", help="layer name (GeoPackage with several layers)")
        parser.add_argument("--src-srid", type=int, help="source EPSG code when the file has none, or to override it")
        parser.add_argument("--plan-name", help="name of the plan when it is created")
        parser.add_argument("--region", help="region adcode of a new plan (default: the city code shared by all units)")
        parser.add_argument("--replace", action="store_true", help="replace the draft's units with the file's")

    def handle(self, *args, **opts):
        report = units_import(
            path=opts["path"],
            plan_code=opts["plan"],
            layer_name=opts["layer"],
            src_srid=opts["src_srid"],
            plan_name=opts["plan_name"],
            region=opts["region"],
            replace=opts["replace"],
        )
        for note in report.notes:
            self.stdout.write(note)
        self.stdout.write(
            f"{'replaced the units with' if opts['replace'] else 'imported'} {report.created} units into plan {report.plan} (source CRS {report.source_crs}; "
            f"{report.repaired} repaired)"
        )
