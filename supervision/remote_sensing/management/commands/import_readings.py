from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.monitoring import readings_import


class Command(ServiceCommand):
    help = "Import monitoring readings from CSV (station, parameter, date, value[, averaging, unit]); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **opts):
        report = readings_import(path=opts["path"])
        self.stdout.write(f"readings: {report.created} created, {report.updated} updated")
