import csv
import json

from supervision.commands import ServiceCommand
from supervision.tables import csv_row
from supervision.zoning.selectors import SUMMARY_COLUMNS, zoning_summary
from supervision.zoning.services import plan_get


class Command(ServiceCommand):
    help = "Annex 1 computed from geometry: unit counts and area shares (%) per district and class, then 全市."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args, **opts):
        rows = zoning_summary(plan=plan_get(code=opts["plan"]))
        if opts["format"] == "json":
            data = [{k: float(v) if k.endswith(("_pct", "_km2")) else v for k, v in row.items()} for row in rows]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        elif opts["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(SUMMARY_COLUMNS)
            for row in rows:
                writer.writerow(csv_row(row[k] for k in SUMMARY_COLUMNS))
        else:
            headers = ["区县", "代码", "优先个数", "优先%", "重点个数", "重点%", "一般个数", "一般%", "面积km²"]
            lines = [headers] + [[str(row[k]) for k in SUMMARY_COLUMNS] for row in rows]
            widths = [max(_width(line[i]) for line in lines) for i in range(len(headers))]
            for line in lines:
                self.stdout.write("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(line)))


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
