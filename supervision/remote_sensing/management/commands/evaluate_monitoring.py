from datetime import date, timedelta

from django.utils import timezone

from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.layers import plan_for_code
from supervision.remote_sensing.services.monitoring import monitoring_evaluate


class Command(ServiceCommand):
    help = (
        "Exceedance episodes (stations in key units) and year-on-year declines (general units) for one "
        "period: one lead per episode. Only on the plan in force, unless --dry-run. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--period-end", type=date.fromisoformat, help="last day of the period (default: yesterday)")
        parser.add_argument(
            "--period-days", type=int, help="days looked at for exceedances (default MONITORING_PERIOD_DAYS)"
        )
        parser.add_argument(
            "--decline-period-days",
            type=int,
            help="days compared with the same days a year before (default MONITORING_DECLINE_PERIOD_DAYS)",
        )
        parser.add_argument(
            "--margin-pct", type=float, help="decline margin in percent for every parameter (default: the plan's rules)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="write nothing; print what would be raised (any plan status)"
        )

    def handle(self, *args, **opts):
        report = monitoring_evaluate(
            plan=plan_for_code(code=opts["plan"]),
            period_end=opts["period_end"] or timezone.localdate() - timedelta(days=1),
            period_days=opts["period_days"],
            decline_period_days=opts["decline_period_days"],
            margin_pct=opts["margin_pct"],
            dry_run=opts["dry_run"],
        )
        for note in report.notes:
            self.stdout.write(note)
        for row in report.comparisons:
            if row["outcome"] in ("decline", "no_decline"):
                self.stdout.write(
                    f"{row['station']} {row['parameter']}: {row['outcome']}, mean {row['mean']:g} vs "
                    f"{row['previous_mean']:g} a year before ({row['worse_pct']:+g} %, margin {row['margin_pct']:g} %; "
                    f"valid days {row['valid_days']} and {row['previous_valid_days']}, {row['required_valid_days']} required)"
                )
        verb = "would" if report.dry_run else "did"
        for action in report.actions:
            self.stdout.write(
                f"{verb} {action['action']} {action['rule']} lead"
                + (f" #{action['lead']}" if action["lead"] else "")
                + f": {action['title']} ({action['findings']} new finding(s))"
            )
        start, end = report.period
        (dstart, dend), (pstart, pend) = report.decline_period, report.previous_period
        self.stdout.write(
            f"plan {report.plan} exceedances {start}..{end}, declines {dstart}..{dend} against {pstart}..{pend}: "
            f"{report.exceedance_leads} exceedance and {report.decline_leads} decline episodes, "
            f"{report.created} new leads, {report.extended} extended"
            + (" (dry run: nothing written)" if report.dry_run else "")
        )
