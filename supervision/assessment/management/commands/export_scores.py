from pathlib import Path

from supervision.commands import ServiceCommand

from ... import export, services


class Command(ServiceCommand):
    help = "Write a period's scorecards and ranking as CSV or XLSX (Chinese headers)."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--period", required=True, help="2025 | 2025-Q3 | 2025-07")
        parser.add_argument("--status", choices=["published", "draft"], default="published")
        parser.add_argument("--output", required=True, help="file path; .csv or .xlsx decides the format")

    def handle(self, *args, **opts):
        services.plan_resolve(opts["plan"])
        period = services.period_resolve(opts["period"])
        out = Path(opts["output"])
        kwargs = {"plan_code": opts["plan"], "period_code": period.code, "status": opts["status"]}
        if out.suffix.lower() == ".csv":
            body = export.export_csv(**kwargs)
        elif out.suffix.lower() == ".xlsx":
            body = export.export_xlsx(**kwargs)
        else:
            raise ValueError(f"{out}: the output must end in .csv or .xlsx.")
        out.write_bytes(body)
        self.stdout.write(f"wrote {out} ({len(body)} bytes)")
