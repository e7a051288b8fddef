"""Data migration: the default scheme version 2, which cannot reward inaction.

Adds the lead backlog (leads raised, dispatched or not), repeat violations per offender
(credit code), red-line integrity and bottom-line attainment, and weighs unconfirmed
remote-sensing change in priority units as "suspected". Version 1 stays as it was.
"""

from django.db import migrations

V2 = [
    ("verification_timeliness", 15, {}),
    ("lead_backlog", 10, {}),
    ("rectification_timeliness", 15, {}),
    ("closure_rate", 10, {}),
    ("overdue_backlog", 10, {}),
    ("repeat_offenders", 5, {}),
    ("priority_unit_damage", 10, {"threshold_ha": 10, "suspected_weight": 0.5}),
    ("red_line_integrity", 10, {"threshold_ha": 5, "suspected_weight": 0.5}),
    ("bottom_line_attainment", 15, {}),
]
NAME = "生态环境分区管控实施成效考核（默认方案第2版）"


def create_v2(apps, schema_editor):
    Scheme = apps.get_model("assessment", "AssessmentScheme")
    Indicator = apps.get_model("assessment", "Indicator")
    if Scheme.objects.filter(version=2).exists():
        return  # a bureau already made its own version 2; leave it
    scheme = Scheme.objects.create(
        version=2,
        name=NAME,
        notes="随系统发布的默认方案第2版：9 项指标，合计 100 分；未派发、未核查的线索计入核查及时率和逾期线索，"
        "优先保护单元和生态保护红线内未核实的遥感变化按疑似（权重 0.5）计入，重复违法按违法主体统计，"
        "并考核环境质量底线达标情况。",
    )
    for position, (code, weight, params) in enumerate(V2):
        Indicator.objects.create(scheme=scheme, code=code, weight=weight, position=position, params=params)


def delete_v2(apps, schema_editor):
    Scheme = apps.get_model("assessment", "AssessmentScheme")
    # Only the shipped one, and only if nothing was scored with it: scorecards protect their scheme.
    Scheme.objects.filter(version=2, name=NAME, scorecards__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0003_bottom_lines_and_scheme_v2")]

    operations = [migrations.RunPython(create_v2, delete_v2)]
