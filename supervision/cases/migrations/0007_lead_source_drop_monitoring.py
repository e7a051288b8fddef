"""Step 3 of 3: `monitoring` is no longer a lead source (ambient and cems replace it)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_lead_source_ambient_data")]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="source",
            field=models.CharField(
                choices=[
                    ("remote_sensing", "卫星遥感"),
                    ("ambient", "环境质量监测"),
                    ("cems", "在线监测"),
                    ("complaint", "信访举报"),
                    ("hotline_12369", "12369热线"),
                    ("inspection", "日常检查"),
                    ("higher_inspection", "督察移交"),
                ],
                max_length=32,
                verbose_name="来源",
            ),
        ),
        migrations.RemoveConstraint(model_name="lead", name="lead_source_known"),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    source__in=[
                        "remote_sensing",
                        "ambient",
                        "cems",
                        "complaint",
                        "hotline_12369",
                        "inspection",
                        "higher_inspection",
                    ]
                ),
                name="lead_source_known",
            ),
        ),
    ]
