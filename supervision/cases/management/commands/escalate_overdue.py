from django.utils.dateparse import parse_datetime

from supervision.commands import ServiceCommand

from ...services.cases import cases_escalate_overdue, deadlines_remind


class Command(ServiceCommand):
    help = "Escalate overdue cases (督办) and send deadline/overdue notices; safe to run twice (what beat runs)."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO datetime to sweep as of (default: now)")
        parser.add_argument("--no-reminders", action="store_true", help="escalate only")

    def handle(self, *args, **opts):
        now = None
        if opts["now"]:
            now = parse_datetime(opts["now"])
            if now is None:
                raise ValueError(f"--now '{opts['now']}' is not an ISO datetime")
        result = cases_escalate_overdue(now=now)
        levels = ", ".join(f"level {k}: {v}" for k, v in sorted(result.by_level.items())) or "none"
        self.stdout.write(
            f"escalated {result.escalated} cases ({levels}); {result.notifications} notifications offered"
        )
        if not opts["no_reminders"]:
            r = deadlines_remind(now=now)
            self.stdout.write(f"reminders: {r.due_soon} due soon, {r.overdue} overdue")
