import json

from supervision.commands import ServiceCommand
from supervision.zoning.diff_io import plan_diff_table, plan_diff_xlsx
from supervision.zoning.selectors import plan_diff
from supervision.zoning.services import plan_get


class Command(ServiceCommand):
    help = "What changed between two plan versions: units (by code, then by place) and access-list clauses."

    def add_arguments(self, parser):
        parser.add_argument("old", help="code of the earlier version")
        parser.add_argument("new", help="code of the later version")
        parser.add_argument("--format", choices=["json", "table", "xlsx"], default="table")
        parser.add_argument("-o", "--output", help="write to this file (required for xlsx)")

    def handle(self, *args, **opts):
        old, new = plan_get(code=opts["old"]), plan_get(code=opts["new"])
        diff = plan_diff(old=old, new=new)
        fmt = opts["format"]
        if opts["output"] and opts["output"].lower().endswith(".xlsx"):
            fmt = "xlsx"
        if fmt == "xlsx":
            if not opts["output"]:
                raise ValueError("--format xlsx: name the file with -o FILE.xlsx")
            with open(opts["output"], "wb") as stream:
                plan_diff_xlsx(diff, old=old.code, new=new.code, stream=stream)
            self.stdout.write(f"wrote the differences {old.code} → {new.code} to {opts['output']}")
            return
        text = json.dumps(diff, ensure_ascii=False, indent=2) if fmt == "json" else plan_diff_table(diff)
        if opts["output"]:
            with open(opts["output"], "w", encoding="utf-8") as stream:
                stream.write(text + "\n")
        else:
            self.stdout.write(text)
