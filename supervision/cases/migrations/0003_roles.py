"""Data migration: the five roles as Django groups."""

from django.db import migrations

ROLES = ["enforcement_officer", "inspector", "assessor", "planner", "bureau_admin"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLES, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0002_workflow"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
