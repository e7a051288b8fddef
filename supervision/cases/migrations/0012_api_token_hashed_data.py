"""Existing DRF tokens (plaintext keys in `authtoken_token`) become hashed `ApiToken` rows.

Each key is stored as its SHA-256 digest with its first 8 characters as the lookup prefix,
keeping its user and issue time, so a client holding a current token goes on working (and its
expiry still counts from when it was issued). The plaintext rows are then deleted. The table
itself belongs to `rest_framework.authtoken`, which is no longer installed; it stays, empty.

Irreversible by nature: a digest cannot be turned back into a key. The reverse therefore does
not recreate plaintext tokens; it deletes the hashed ones, so after a rollback every API client
signs in again for a new token (nothing half-migrated, no token valid that should not be).
"""

import hashlib

from django.db import migrations

LEGACY_TABLE = "authtoken_token"
PREFIX_LENGTH = 8  # services.tokens.PREFIX_LENGTH at the time of writing


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return  # a database created after DRF's authtoken app was removed
    ApiToken = apps.get_model("cases", "ApiToken")
    quoted = schema_editor.quote_name(LEGACY_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {quoted}")  # a fixed table name, not input
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            prefix=key[:PREFIX_LENGTH],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            created=created,
        )
        for key, user_id, created in rows
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quoted}")  # a fixed table name, not input


def backwards(apps, schema_editor):
    # See the module docstring: keys cannot be recovered from digests; clients sign in again.
    apps.get_model("cases", "ApiToken").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_api_token_hashed")]

    operations = [migrations.RunPython(forwards, backwards)]
