from supervision.commands import ServiceCommand
from supervision.zoning.services import plan_get, plan_parent_set


class Command(ServiceCommand):
    help = (
        "Set or clear the higher plan a draft refers to; refuses cycles, a parent whose jurisdiction does not "
        "contain the plan's and a parent the plan's access list would be looser than."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="code of the plan (a draft)")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--parent", help="code of the higher plan")
        group.add_argument("--clear", action="store_true", help="the plan refers to no higher plan")
        parser.add_argument("--reason", default="", help="why (dynamic-update log)")

    def handle(self, *args, **opts):
        plan = plan_get(code=opts["code"])
        parent = None if opts["clear"] else plan_get(code=opts["parent"])
        plan = plan_parent_set(plan=plan, parent=parent, reason=opts["reason"])
        self.stdout.write(f"plan {plan.code}: parent {plan.parent.code if plan.parent else 'none'}")
