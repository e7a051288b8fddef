from supervision.commands import ServiceCommand

from ... import services


class Command(ServiceCommand):
    help = "Compute (or recompute) the draft scorecards of every division of a plan for a period."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="zoning plan code, e.g. changchun-2024")
        parser.add_argument("--period", required=True, help="2025 | 2025-Q3 | 2025-07 (Asia/Shanghai days)")
        parser.add_argument("--scheme", type=int, default=None, help="scheme version (default: the newest)")

    def handle(self, *args, **opts):
        plan = services.plan_resolve(opts["plan"])
        period = services.period_resolve(opts["period"])
        scheme = services.scheme_resolve(version=opts["scheme"])
        result = services.scores_compute(plan=plan, period=period, scheme=scheme)
        self.stdout.write(
            f"{plan.code} {period.code} ({period.start} – {period.end}), scheme v{scheme.version}: "
            f"{len(result.computed)} draft(s) computed, {len(result.skipped)} published card(s) left as they are"
        )
        for card in sorted(result.computed, key=lambda c: c.division.adcode):
            self.stdout.write(
                f"  {card.division.adcode} {card.division.name}: {card.score} (draft v{card.version}, id {card.pk})"
            )
        for card in result.skipped:
            self.stdout.write(
                f"  {card.division.adcode} {card.division.name}: {card.score} ({card.status} v{card.version}, skipped)"
            )
