from datetime import date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.commands import ServiceCommand
from supervision.errors import ServiceError
from supervision.permitting.services.cems import cems_evaluate


class Command(ServiceCommand):
    help = "Raise or extend CEMS exceedance leads (hourly and daily limits) and data-gap leads from stored values (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", help="read hourly values from this date (YYYY-MM-DD; default CEMS_EVALUATE_DAYS ago)"
        )

    def handle(self, *args, **opts):
        since = None
        if opts["since"]:
            try:
                day = date.fromisoformat(opts["since"])
            except ValueError:
                raise ServiceError(
                    _("--since %(value)s is not a date (YYYY-MM-DD).") % {"value": opts["since"]}, code="bad_date"
                ) from None
            since = timezone.make_aware(datetime.combine(day, time()))
        report = cems_evaluate(since=since)
        self.stdout.write(
            f"{report.episodes} exceedance episode(s): {report.leads_created} new lead(s), "
            f"{report.detections_added} new detection(s); {report.gaps} silent device(s): "
            f"{report.gap_leads_created} new gap lead(s); {report.daily_episodes} daily-average episode(s): "
            f"{report.daily_leads_created} new lead(s), {report.daily_detections_added} new detection(s)"
        )
