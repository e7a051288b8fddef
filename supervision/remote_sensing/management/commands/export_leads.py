from pathlib import Path

from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.exports import EXPORT_FORMATS, leads_export
from supervision.remote_sensing.services.layers import plan_for_code


class Command(ServiceCommand):
    help = "Write every lead of a plan as GeoJSON (EPSG:4326) or CSV, to stdout or --output."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--format", required=True, choices=EXPORT_FORMATS, dest="fmt")
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")

    def handle(self, *args, **opts):
        text = leads_export(plan=plan_for_code(code=opts["plan"]), fmt=opts["fmt"])
        if opts["output"]:
            Path(opts["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
