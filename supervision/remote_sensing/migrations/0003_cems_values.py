"""Enterprise CEMS values: a table partitioned by month, and the function that adds a month.

`cems_value_partition_ensure(month)` creates the month's partition if it is missing; the
store calls it for each month of a batch before inserting. A default partition catches
anything else, so an insert never fails for want of a partition.
"""

from django.db import migrations, models

CREATE = """
CREATE TABLE remote_sensing_cemsvalue (
    id bigserial,
    device_mn varchar(32) NOT NULL,
    outlet_code varchar(32) NOT NULL,
    pollutant_code varchar(16) NOT NULL,
    cn smallint NOT NULL CHECK (cn IN (2051, 2061)),
    data_time timestamptz NOT NULL,
    avg double precision NULL,
    min double precision NULL,
    max double precision NULL,
    flag varchar(4) NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL,
    CONSTRAINT cemsvalue_pk PRIMARY KEY (id, data_time),
    CONSTRAINT cemsvalue_one_per_time UNIQUE (device_mn, pollutant_code, cn, data_time)
) PARTITION BY RANGE (data_time);
CREATE TABLE remote_sensing_cemsvalue_default PARTITION OF remote_sensing_cemsvalue DEFAULT;

CREATE OR REPLACE FUNCTION cems_value_partition_ensure(month date) RETURNS text AS $$
DECLARE
    first date := date_trunc('month', month)::date;
    name text := format('remote_sensing_cemsvalue_y%sm%s', to_char(first, 'YYYY'), to_char(first, 'MM'));
BEGIN
    -- Two writers (threads or processes) may ask for the same month at once: one creates it.
    PERFORM pg_advisory_xact_lock(hashtext(name));
    IF to_regclass(name) IS NULL THEN
        -- Rows of that month already in the default partition would block the new one: move them.
        EXECUTE format(
            'CREATE TABLE %I (LIKE remote_sensing_cemsvalue INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name
        );
        EXECUTE format(
            'WITH moved AS (DELETE FROM remote_sensing_cemsvalue_default '
            'WHERE data_time >= %L AND data_time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
            first, (first + interval '1 month'), name
        );
        EXECUTE format(
            'ALTER TABLE remote_sensing_cemsvalue ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            name, first, (first + interval '1 month')
        );
    END IF;
    RETURN name;
END;
$$ LANGUAGE plpgsql;
"""

DROP = """
DROP FUNCTION IF EXISTS cems_value_partition_ensure(date);
DROP TABLE IF EXISTS remote_sensing_cemsvalue CASCADE;
"""


# The embedded demo (SpatiaLite) has no partitions or PL/pgSQL: a plain table with the same
# columns and the same uniqueness, which the store fills row by row.
CREATE_PLAIN = """
CREATE TABLE remote_sensing_cemsvalue (
    id integer PRIMARY KEY AUTOINCREMENT,
    device_mn varchar(32) NOT NULL,
    outlet_code varchar(32) NOT NULL,
    pollutant_code varchar(16) NOT NULL,
    cn smallint NOT NULL CHECK (cn IN (2051, 2061)),
    data_time datetime NOT NULL,
    avg real NULL,
    min real NULL,
    max real NULL,
    flag varchar(4) NOT NULL DEFAULT '',
    received_at datetime NOT NULL,
    CONSTRAINT cemsvalue_one_per_time UNIQUE (device_mn, pollutant_code, cn, data_time)
)
"""


def _execute(schema_editor, sql: str) -> None:
    # No parameters: the PL/pgSQL body holds format() placeholders (%I, %L) that are not ours.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def create(apps, schema_editor):
    _execute(schema_editor, CREATE if schema_editor.connection.vendor == "postgresql" else CREATE_PLAIN)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _execute(schema_editor, DROP)
    else:
        _execute(schema_editor, "DROP TABLE IF EXISTS remote_sensing_cemsvalue")


class Migration(migrations.Migration):
    dependencies = [("remote_sensing", "0002_build_task_sent_at")]

    operations = [
        migrations.RunPython(create, drop),
        migrations.CreateModel(
            name="CemsValue",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("device_mn", models.CharField(max_length=32, verbose_name="监测设备编码")),
                ("outlet_code", models.CharField(max_length=32, verbose_name="排放口编码")),
                ("pollutant_code", models.CharField(max_length=16, verbose_name="污染物代码")),
                ("cn", models.PositiveSmallIntegerField(verbose_name="数据类型")),
                ("data_time", models.DateTimeField(verbose_name="数据时间")),
                ("avg", models.FloatField(null=True, verbose_name="均值")),
                ("min", models.FloatField(null=True, verbose_name="最小值")),
                ("max", models.FloatField(null=True, verbose_name="最大值")),
                ("flag", models.CharField(blank=True, max_length=4, verbose_name="数据标记")),
                ("received_at", models.DateTimeField(verbose_name="接收时间")),
            ],
            options={
                "verbose_name": "在线监测数据",
                "verbose_name_plural": "在线监测数据",
                "db_table": "remote_sensing_cemsvalue",
                "ordering": ["device_mn", "pollutant_code", "data_time"],
                "managed": False,
            },
        ),
    ]
