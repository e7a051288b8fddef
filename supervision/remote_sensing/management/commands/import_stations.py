from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.monitoring import stations_import


class Command(ServiceCommand):
    help = (
        "Import monitoring stations from CSV (code, name, medium air|water, lon, lat[, target_grade]); all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--srid", type=int, help="EPSG code of lon/lat (default: STORAGE_SRID, CGCS2000)")

    def handle(self, *args, **opts):
        report = stations_import(path=opts["path"], srid=opts["srid"])
        self.stdout.write(f"stations: {report.created} created, {report.updated} updated")
