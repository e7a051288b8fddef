from supervision.commands import ServiceCommand
from supervision.zoning.bottom_lines import bottom_lines_import


class Command(ServiceCommand):
    help = (
        "Import a plan's bottom-line targets and resource caps (环境质量底线/资源利用上线) from CSV or XLSX; "
        "refuses the whole file on any problem (one line per problem, naming row and column) and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=".csv or .xlsx; columns 范围编码, 指标, 目标年份, 目标值, 单位[, 点位或断面]")
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--replace", action="store_true", help="replace the plan's targets (default: upsert)")
        parser.add_argument(
            "--illustrative", action="store_true", help="mark the values as illustrative (示意), not published targets"
        )
        parser.add_argument("--source", default="", help="where the targets come from (document number)")

    def handle(self, *args, **opts):
        report = bottom_lines_import(
            path=opts["path"],
            plan_code=opts["plan"],
            replace=opts["replace"],
            illustrative=opts["illustrative"],
            source=opts["source"],
        )
        self.stdout.write(
            f"plan {report.plan}: {report.created} bottom-line targets created, {report.updated} updated"
            + (f", {report.replaced} replaced" if opts["replace"] else "")
        )
