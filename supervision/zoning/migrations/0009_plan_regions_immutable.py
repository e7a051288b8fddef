"""A filed plan keeps its key regions and its parent plan: the database refuses the write.

The regions table gets the content trigger of 0006 (its rows are plan content, like units).
A plan's parent can change only while the plan is a draft: the never-looser check at filing
was made against that parent, so a filed, effective or superseded version keeps it (a new
parent takes a revision: ``plan_revise --parent``). PostgreSQL only, as 0006.
"""

from django.db import migrations

PARENT_FUNCTION = """
CREATE OR REPLACE FUNCTION zoning_plan_parent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'plan % is %: its parent plan cannot change (revise it into a new draft)', OLD.code, OLD.status
        USING ERRCODE = 'P0001', HINT = 'plan_parent_immutable';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE TRIGGER zoning_planregion_plan_immutable BEFORE INSERT OR UPDATE OR DELETE ON zoning_planregion "
        "FOR EACH ROW EXECUTE FUNCTION zoning_plan_content_immutable()"
    )
    schema_editor.execute(PARENT_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER zoning_zoningplan_parent_immutable BEFORE UPDATE OF parent_id ON zoning_zoningplan "
        "FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id AND OLD.status <> 'draft') "
        "EXECUTE FUNCTION zoning_plan_parent_immutable()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS zoning_zoningplan_parent_immutable ON zoning_zoningplan")
    schema_editor.execute("DROP FUNCTION IF EXISTS zoning_plan_parent_immutable()")
    schema_editor.execute("DROP TRIGGER IF EXISTS zoning_planregion_plan_immutable ON zoning_planregion")


class Migration(migrations.Migration):
    dependencies = [("zoning", "0008_plan_regions")]

    operations = [migrations.RunPython(forwards, backwards)]
