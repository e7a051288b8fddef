"""Water-body change (class 3) in priority units raises leads: add it to existing rule sets.

Rule sets whose priority classes already hold 3 are left alone; the reverse removes 3 from
the priority classes again (a plan that had chosen 3 before cannot be told apart, so the
reverse is the plain inverse of the default change).
"""

from django.db import migrations

WATER_CHANGE = 3


def forwards(apps, schema_editor):
    ScanRuleSet = apps.get_model("remote_sensing", "ScanRuleSet")
    for rs in ScanRuleSet.objects.all():
        priority = [int(c) for c in rs.classes_by_unit_class.get("priority", [])]
        if WATER_CHANGE not in priority:
            rs.classes_by_unit_class = {**rs.classes_by_unit_class, "priority": sorted([*priority, WATER_CHANGE])}
            rs.save(update_fields=["classes_by_unit_class"])


def backwards(apps, schema_editor):
    ScanRuleSet = apps.get_model("remote_sensing", "ScanRuleSet")
    for rs in ScanRuleSet.objects.all():
        priority = [int(c) for c in rs.classes_by_unit_class.get("priority", [])]
        if WATER_CHANGE in priority:
            rs.classes_by_unit_class = {
                **rs.classes_by_unit_class,
                "priority": [c for c in priority if c != WATER_CHANGE],
            }
            rs.save(update_fields=["classes_by_unit_class"])


class Migration(migrations.Migration):
    dependencies = [("remote_sensing", "0002_monitoring_episodes")]

    operations = [migrations.RunPython(forwards, backwards)]
