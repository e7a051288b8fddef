import os

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("supervision")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
def _patient_result_store(conf=None, **kwargs):
    """Workers keep Celery's patient reconnects to the result store (a Redis blip must not
    lose a chord's progress); web processes keep the settings' single retry, so a request
    sending a task while Redis is down answers in seconds."""
    conf.result_backend_transport_options = {
        **(conf.result_backend_transport_options or {}),
        "retry_policy": {"max_retries": 20, "interval_start": 0, "interval_step": 1, "interval_max": 1},
    }
