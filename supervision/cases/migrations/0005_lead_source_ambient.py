"""Lead sources say what they are: `ambient` (环境质量监测) and `cems` (在线监测) next to the old `monitoring`.

Step 1 of 3: the constraint accepts both the old and the new values while the data moves.
"""

from django.db import migrations, models

OLD = ["remote_sensing", "monitoring", "complaint", "hotline_12369", "inspection", "higher_inspection"]
BOTH = [*OLD, "ambient", "cems"]


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_unit_accepted_index")]

    operations = [
        migrations.RemoveConstraint(model_name="lead", name="lead_source_known"),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(condition=models.Q(source__in=BOTH), name="lead_source_known"),
        ),
    ]
