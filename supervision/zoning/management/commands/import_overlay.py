from supervision.commands import ServiceCommand
from supervision.zoning.choices import OverlayKind
from supervision.zoning.services import overlays_import


class Command(ServiceCommand):
    help = "Import overlay polygons (red line, basin, other) into a plan; refuses the whole file on any problem."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--plan", required=True)
        parser.add_argument("--kind", required=True, choices=OverlayKind.values)
        parser.add_argument("--layer")
        parser.add_argument("--src-srid", type=int)
        parser.add_argument("--replace", action="store_true", help="replace the draft's overlays of this kind")

    def handle(self, *args, **opts):
        report = overlays_import(
            path=opts["path"],
            plan_code=opts["plan"],
            kind=opts["kind"],
            layer_name=opts["layer"],
            src_srid=opts["src_srid"],
            replace=opts["replace"],
        )
        for note in report.notes:
            self.stdout.write(note)
        self.stdout.write(f"imported {report.created} overlays ({opts['kind']}) into plan {report.plan}")
