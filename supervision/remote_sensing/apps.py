from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemoteSensingConfig(AppConfig):
    name = "supervision.remote_sensing"
    label = "remote_sensing"
    verbose_name = _("遥感与监测")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the plan_revised receiver)
