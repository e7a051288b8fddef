"""Data migration: ship the default assessment scheme (version 1) and its six indicators."""

from django.db import migrations

DEFAULT = [
    ("verification_timeliness", 20, {}),
    ("rectification_timeliness", 30, {}),
    ("closure_rate", 15, {}),
    ("overdue_backlog", 15, {}),
    ("repeat_violations", 10, {}),
    ("priority_unit_damage", 10, {"threshold_ha": 10}),
]


def create_default(apps, schema_editor):
    Scheme = apps.get_model("assessment", "AssessmentScheme")
    Indicator = apps.get_model("assessment", "Indicator")
    scheme, created = Scheme.objects.get_or_create(
        version=1,
        defaults={"name": "生态环境分区管控实施成效考核（默认方案）", "notes": "随系统发布的默认方案：6 项指标，合计 100 分。"},
    )
    if created:
        for position, (code, weight, params) in enumerate(DEFAULT):
            Indicator.objects.create(scheme=scheme, code=code, weight=weight, position=position, params=params)


def delete_default(apps, schema_editor):
    Scheme = apps.get_model("assessment", "AssessmentScheme")
    # Only if nothing was scored with it: scorecards protect their scheme.
    Scheme.objects.filter(version=1, scorecards__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(create_default, delete_default)]
