import io

from supervision.commands import ServiceCommand
from supervision.errors import ServiceError
from supervision.zoning.access_io import FORMATS, access_file_write
from supervision.zoning.selectors import requirements_as_clauses, requirements_filtered
from supervision.zoning.services import plan_get


class Command(ServiceCommand):
    help = "Export a plan's access list as CSV or XLSX, in the layout import_access_list reads (a file round-trips)."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, **opts):
        plan = plan_get(code=opts["plan"])
        clauses = requirements_as_clauses(requirements_filtered(plan_code=plan.code))
        if opts["output"]:
            with open(opts["output"], "wb") as stream:
                access_file_write(clauses, fmt=opts["format"], stream=stream)
            self.stderr.write(f"wrote {len(clauses)} clauses of plan {plan.code} to {opts['output']}")
            return
        buffer = io.BytesIO()
        access_file_write(clauses, fmt=opts["format"], stream=buffer)
        binary = getattr(self.stdout._out, "buffer", None)
        if binary is not None:
            self.stdout.flush()
            binary.write(buffer.getvalue())
            binary.flush()
        elif opts["format"] == "csv":
            self.stdout.write(buffer.getvalue().decode("utf-8-sig"), ending="")
        else:
            raise ServiceError("XLSX is binary: pass --output FILE.")
