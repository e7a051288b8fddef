from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    """Field work offline (离线外业): the installable app, the offline package and idempotent sync."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "supervision.field"
    label = "field"
    verbose_name = _("离线外业")
