from datetime import date, timedelta

from django.utils import timezone

from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.layers import plan_for_code
from supervision.remote_sensing.services.monitoring import monitoring_evaluate


class Command(ServiceCommand):
    help = "Raise exceedance (key units) and quality-decline (general units) leads for one period. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--period-end", type=date.fromisoformat, help="last day of the period (default: yesterday)")
        parser.add_argument("--period-days", type=int, help="period length (default MONITORING_PERIOD_DAYS)")
        parser.add_argument("--margin-pct", type=float, help="decline margin in percent (default: the plan's rule)")

    def handle(self, *args, **opts):
        report = monitoring_evaluate(
            plan=plan_for_code(code=opts["plan"]),
            period_end=opts["period_end"] or timezone.localdate() - timedelta(days=1),
            period_days=opts["period_days"],
            margin_pct=opts["margin_pct"],
        )
        for note in report.notes:
            self.stdout.write(note)
        start, end = report.period
        self.stdout.write(
            f"plan {report.plan} {start}..{end}: {report.exceedance_leads} exceedance and "
            f"{report.decline_leads} decline findings, {report.created} new leads"
        )
