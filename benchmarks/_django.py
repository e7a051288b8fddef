"""Run a benchmark inside Django against a scratch PostGIS database of its own.

DATABASE_URL names the server (make bench passes the local PostGIS); the benchmark
creates `bench_<name>` beside it, so it never touches real data, and drops it after.
"""

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def scratch_database(name: str):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DATABASE_URL", "postgis://supervision:supervision@127.0.0.1:5432/supervision")
    os.environ["TEST_DATABASE_NAME"] = f"bench_{name}"
    import django

    django.setup()
    from django.db import connection

    old = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
