from supervision.commands import ServiceCommand
from supervision.zoning.bottom_lines import statistics_import


class Command(ServiceCommand):
    help = (
        "Import annual resource-use statistics per district (water use, energy use, construction land) from CSV or "
        "XLSX, measured against the caps; refuses the whole file on any problem and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=".csv or .xlsx; columns 范围编码, 指标, 年份, 统计值, 单位")
        parser.add_argument("--source", default="", help="where the figures come from (统计年鉴, 公报 …)")

    def handle(self, *args, **opts):
        report = statistics_import(path=opts["path"], source=opts["source"])
        self.stdout.write(f"{report.created} statistics created, {report.updated} updated")
