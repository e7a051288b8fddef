"""Data migration: fill every division's type (区 / 县 / 县级市 …) from its name, else its adcode."""

from django.db import migrations

from supervision.zoning.choices import division_kind_guess


def fill(apps, schema_editor):
    Division = apps.get_model("zoning", "AdministrativeDivision")
    for d in Division.objects.filter(kind="other"):  # a few hundred rows at most
        kind = division_kind_guess(adcode=d.adcode, name=d.name)
        if kind != "other":
            Division.objects.filter(pk=d.pk).update(kind=kind)


def clear(apps, schema_editor):
    apps.get_model("zoning", "AdministrativeDivision").objects.update(kind="other")


class Migration(migrations.Migration):
    dependencies = [("zoning", "0003_bottom_lines")]

    operations = [migrations.RunPython(fill, clear)]
