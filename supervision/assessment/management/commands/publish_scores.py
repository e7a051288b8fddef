from supervision.commands import ServiceCommand
from supervision.errors import ServiceError

from ... import services
from ...models import Scorecard


class Command(ServiceCommand):
    help = "Publish (freeze) the draft scorecards of a plan and period, as a bureau admin would."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--period", required=True)

    def handle(self, *args, **opts):
        period = services.period_resolve(opts["period"])
        drafts = Scorecard.objects.filter(plan__code=opts["plan"], period_code=period.code, status="draft")
        if not drafts.exists():
            raise ServiceError(f"No draft scorecards for {opts['plan']} {period.code}; run compute_scores first.")
        for card in drafts.select_related("division"):
            card = services.scorecard_publish(scorecard=card, actor=SystemActor())
            self.stdout.write(
                f"  {card.division.adcode} {card.division.name}: {card.score} published (v{card.version})"
            )


class SystemActor:
    """The command line acts with every role (it has database access anyway)."""

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True
    _case_roles = frozenset({"assessor", "bureau_admin"})
