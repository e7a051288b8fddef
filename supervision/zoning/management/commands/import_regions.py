from supervision.commands import ServiceCommand
from supervision.zoning.services import regions_import


class Command(ServiceCommand):
    help = (
        "Import a plan's key regions (重点区域, the '3' of a '1+3+13+N' list) from CSV or XLSX into a draft; "
        "refuses the whole file on any problem (one line per problem) and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            help=".csv (UTF-8 or GBK) or .xlsx; columns 区域编码, 区域名称, 所辖行政区 (adcodes separated by ';')",
        )
        parser.add_argument("--plan", required=True, help="plan code (a draft)")
        parser.add_argument("--replace", action="store_true", help="replace the plan's regions (default: add to them)")

    def handle(self, *args, **opts):
        report = regions_import(path=opts["path"], plan_code=opts["plan"], replace=opts["replace"])
        self.stdout.write(f"imported {report.created} key regions into plan {report.plan}")
