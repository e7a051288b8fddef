from supervision.assessment.bottom_lines import bottom_lines_track
from supervision.assessment.services import plan_resolve
from supervision.commands import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Track a plan's bottom-line targets and resource caps for a year and its quarters (met / off track / "
        "insufficient data) from ambient readings and imported statistics; warns on a change to off track."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument("--year", type=int, default=None, help="year (default: this year, up to yesterday)")
        parser.add_argument("--no-warn", action="store_true", help="compute statuses without notifying anyone")

    def handle(self, *args, **opts):
        report = bottom_lines_track(plan=plan_resolve(opts["plan"]), year=opts["year"], warn=not opts["no_warn"])
        for s in report.statuses:
            t = s.target
            value = "" if s.measured_value is None else f" {s.measured_value.normalize():f}"
            self.stdout.write(
                f"{t.scope_code}{' ' + t.station_code if t.station_code else ''} {t.indicator} {s.period_code}: "
                f"{s.status}{value} (target {t.target_value.normalize():f} {t.unit_label}, {t.target_year})"
            )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items()))
        self.stdout.write(
            f"plan {report.plan} {report.year}: {len(report.statuses)} statuses ({counts}); "
            f"{report.changed} changed, {report.warned} warnings"
        )
