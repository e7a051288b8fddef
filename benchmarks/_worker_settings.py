"""Settings of the benchmark's Celery workers: the test settings with production's persistent
database connections (the test settings close the connection after every task, which would
charge each window task a new PostgreSQL connection that no deployment pays)."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, env

DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
