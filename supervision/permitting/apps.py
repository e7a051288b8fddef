from django.apps import AppConfig


class PermittingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "supervision.permitting"
    verbose_name = "排污许可与在线监控"
