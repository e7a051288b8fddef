from supervision.commands import ServiceCommand
from supervision.errors import NotFound

from ...models import InspectionPlan
from ...services.inspections import inspection_plan_verify


class Command(ServiceCommand):
    help = "Re-run a double-random draw from its stored seed and pools; exit 1 if it does not reproduce."

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int)

    def handle(self, *args, **opts):
        plan = InspectionPlan.objects.filter(pk=opts["plan_id"]).first()
        if plan is None:
            raise NotFound(f"Inspection plan {opts['plan_id']} not found.")
        result = inspection_plan_verify(inspection_plan=plan)
        self.stdout.write(
            f"plan {plan.pk} seed {result['seed']} ({result['algorithm']}): "
            f"{'reproduces' if result['matches'] else 'DOES NOT reproduce'}"
        )
        if not result["matches"]:
            raise SystemExit(1)
