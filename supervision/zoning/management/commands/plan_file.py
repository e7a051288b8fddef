import datetime
from pathlib import Path

from django.core.files import File

from supervision.commands import ServiceCommand
from supervision.zoning.services import plan_file, plan_get


class Command(ServiceCommand):
    help = "File a draft plan (备案): draft → filed, with the authority, document number, date and attachments."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--authority", required=True, help="the authority the plan is filed with (备案机关)")
        parser.add_argument("--number", required=True, help="the filing / approval document number (文号)")
        parser.add_argument("--date", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--approved-by", default="", help="the government that approved the plan (批准机关)")
        parser.add_argument("--attachment", action="append", default=[], help="a file to keep with the record")

    def handle(self, *args, **opts):
        plan = plan_get(code=opts["code"])
        missing = [p for p in opts["attachment"] if not Path(p).is_file()]
        if missing:
            raise FileNotFoundError(f"--attachment: no such file: {', '.join(Path(p).name for p in missing)}")
        handles = [open(p, "rb") for p in opts["attachment"]]  # noqa: SIM115 (closed below)
        try:
            plan = plan_file(
                plan=plan,
                authority=opts["authority"],
                number=opts["number"],
                date=opts["date"],
                approved_by=opts["approved_by"],
                attachments=[(Path(h.name).name, File(h)) for h in handles],
            )
        finally:
            for h in handles:
                h.close()
        self.stdout.write(
            f"plan {plan.code} filed with {plan.filed_with} ({plan.document_number}, {plan.filed_date}); "
            f"{plan.attachments.count()} attachment(s)"
        )
