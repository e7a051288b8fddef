from supervision.commands import ServiceCommand
from supervision.zoning.services import access_list_import


class Command(ServiceCommand):
    help = (
        "Import an access list (生态环境准入清单) from CSV or XLSX into a plan; refuses the whole file on any "
        "problem (one line per problem, naming row and column) and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            help=".csv (UTF-8 or GBK) or .xlsx; columns 层级, 范围编码, 维度, 条款编号, 条款内容, 管控类型, 行业代码, 适用",
        )
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace the plan's whole access list (default: add to it)",
        )

    def handle(self, *args, **opts):
        report = access_list_import(path=opts["path"], plan_code=opts["plan"], replace_all=opts["replace"])
        replaced = f" (replacing {report.replaced})" if opts["replace"] else ""
        self.stdout.write(f"imported {report.created} access-list clauses into plan {report.plan}{replaced}")
