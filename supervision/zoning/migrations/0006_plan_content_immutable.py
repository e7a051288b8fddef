"""Filed, effective and superseded plans keep their content: the database refuses the write.

Triggers on units, overlays and access-list clauses refuse INSERT, UPDATE and DELETE of a
row whose plan is not a draft (for UPDATE, both the old and the new plan are checked), so
code that forgets the service's check, the admin or a raw SQL session cannot change them.
PostgreSQL only; the embedded SpatiaLite demo relies on the services' own checks.
"""

from django.db import migrations

TABLES = ("zoning_controlunit", "zoning_overlay", "zoning_accessrequirement")

FUNCTION = """
CREATE OR REPLACE FUNCTION zoning_plan_content_immutable() RETURNS trigger AS $$
DECLARE
    plan_ids integer[];
    locked record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        plan_ids := ARRAY[NEW.plan_id];
    ELSIF TG_OP = 'DELETE' THEN
        plan_ids := ARRAY[OLD.plan_id];
    ELSE
        plan_ids := ARRAY[OLD.plan_id, NEW.plan_id];
    END IF;
    SELECT code, status INTO locked FROM zoning_zoningplan
        WHERE id = ANY(plan_ids) AND status <> 'draft' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'plan % is %: its content cannot change (revise it into a new draft)', locked.code, locked.status
            USING ERRCODE = 'P0001', HINT = 'plan_content_immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_plan_immutable BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION zoning_plan_content_immutable()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_plan_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS zoning_plan_content_immutable()")


class Migration(migrations.Migration):
    dependencies = [("zoning", "0005_plan_life")]

    operations = [migrations.RunPython(forwards, backwards)]
