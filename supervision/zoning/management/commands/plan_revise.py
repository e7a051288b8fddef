from supervision.commands import ServiceCommand
from supervision.zoning.services import plan_revise


class Command(ServiceCommand):
    help = "Make a draft revision of a plan version: units, overlays, access list, scan rules and bottom lines copied."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_code", required=True, help="code of the version to revise")
        parser.add_argument("--to", dest="to_code", required=True, help="code of the new draft")
        parser.add_argument("--name", help="name of the new draft (default: the source's)")
        parser.add_argument(
            "--version-label", dest="version_label", help="version label of the new draft (default: the source's)"
        )
        parser.add_argument("--parent", help="code of the higher plan this one refers to (default: the source's)")
        parser.add_argument("--reason", default="", help="why the plan is revised (dynamic-update log)")
        parser.add_argument("--document", default="", help="the document the revision follows (dynamic-update log)")

    def handle(self, *args, **opts):
        draft = plan_revise(
            from_code=opts["from_code"],
            to_code=opts["to_code"],
            name=opts["name"],
            version=opts["version_label"],
            reason=opts["reason"],
            document=opts["document"],
            parent_code=opts["parent"],
        )
        self.stdout.write(
            f"draft {draft.code} revised from {opts['from_code']}: {draft.units.count()} units, "
            f"{draft.overlays.count()} overlays, {draft.requirements.count()} clauses"
        )
