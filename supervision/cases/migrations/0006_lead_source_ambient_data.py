"""Step 2 of 3: existing leads raised from ambient stations and grids (`monitoring`) become `ambient`.

Before this change the only automatic monitoring source was ambient evaluation (stations and
gridded layers), and hand-filed `monitoring` leads were offered as the same thing, so all of
them are ambient monitoring. The reverse maps `ambient` back to `monitoring`.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    Lead = apps.get_model("cases", "Lead")
    Lead.objects.filter(source="monitoring").update(source="ambient")


def backwards(apps, schema_editor):
    Lead = apps.get_model("cases", "Lead")
    Lead.objects.filter(source="ambient").update(source="monitoring")


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_lead_source_ambient")]

    operations = [migrations.RunPython(forwards, backwards)]
