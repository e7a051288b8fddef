from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldRecordKind(models.TextChoices):
    ANSWER = "answer", _("检查项结果")
    FINDING = "finding", _("线索核查情况")
    PHOTO = "photo", _("现场照片")
