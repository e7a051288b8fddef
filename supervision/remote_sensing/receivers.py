"""Receivers of other apps' signals: a revised plan keeps its scan rules."""

from django.dispatch import receiver

from supervision.zoning.signals import plan_revised

from .models import ScanRuleSet


@receiver(plan_revised, dispatch_uid="remote_sensing_scan_rules_copy")
def scan_rules_copy(sender, *, source, draft, **kwargs) -> None:
    """The draft starts from the source version's change legend and lead rules (if it had its own)."""
    rules = ScanRuleSet.objects.filter(plan=source).first()
    if rules is None:
        return
    rules.pk = None
    rules.plan = draft
    rules.save(force_insert=True)
