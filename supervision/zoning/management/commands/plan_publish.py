import datetime

from supervision.commands import ServiceCommand
from supervision.zoning.models import PlanEvent
from supervision.zoning.services import plan_get, plan_publish


class Command(ServiceCommand):
    help = "Publish a filed plan: filed → effective; the jurisdiction's previous effective version is superseded."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--effective-date", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args, **opts):
        plan = plan_publish(plan=plan_get(code=opts["code"]), effective_date=opts["effective_date"])
        superseded = PlanEvent.objects.filter(to_status="superseded", comment=f"superseded by {plan.code}")
        superseded = sorted(superseded.values_list("plan__code", flat=True))
        self.stdout.write(
            f"plan {plan.code} effective from {plan.effective_date} (revision due {plan.revision_due})"
            + (f"; superseded: {', '.join(superseded)}" if superseded else "")
        )
