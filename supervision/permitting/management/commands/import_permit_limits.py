from supervision.commands import ServiceCommand
from supervision.permitting.services.limits import permit_limits_import


class Command(ServiceCommand):
    help = (
        "Import permitted emission limits (CSV/XLSX: 统一社会信用代码, 排放口编码, 监测设备编码, 污染物代码, "
        "小时均值限值, 单位[, 日均值限值, 有效期起, 有效期止]); all or nothing; new or renewed permits are checked "
        "against the access list."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **opts):
        report = permit_limits_import(path=opts["path"])
        self.stdout.write(
            f"imported {report.created} new and updated {report.updated} permit limits; "
            f"{len(report.checked)} new or renewed permit(s) checked, {len(report.findings)} finding(s)"
        )
        for finding in report.findings:
            clauses = "; ".join(f"{c['number']} {c['text']}" for c in finding.result.get("deciding", []))
            self.stdout.write(f"finding: {finding.target.credit_code} {finding.verdict}: {clauses}")
        for line in report.not_checked:
            self.stdout.write(f"not checked: {line}")
