from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZoningConfig(AppConfig):
    name = "supervision.zoning"
    label = "zoning"
    verbose_name = _("生态环境分区管控")
