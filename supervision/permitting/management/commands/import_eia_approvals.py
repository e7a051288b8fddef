from supervision.commands import ServiceCommand
from supervision.permitting.services.eia import eia_approvals_import


class Command(ServiceCommand):
    help = (
        "Import EIA approvals (CSV/XLSX: 审批类型, 项目名称, 行业代码, 审批机关, 批复文号, 批复日期, 经度/纬度 or WKT"
        "[, 建设性质, 统一社会信用代码]); each assessed against the plan in force on its date; all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--srid", type=int, help="EPSG code of the coordinates (default 4326)")

    def handle(self, *args, **opts):
        report = eia_approvals_import(path=opts["path"], srid=opts["srid"])
        self.stdout.write(f"recorded {report.created} EIA approvals; {len(report.conflicts)} in conflict")
        for approval in report.conflicts:
            clauses = "; ".join(f"{c['number']} {c['text']}" for c in approval.assessment.get("deciding", []))
            self.stdout.write(f"conflict: {approval.document_number} {approval.verdict}: {clauses}")
