from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadSource(models.TextChoices):
    REMOTE_SENSING = "remote_sensing", _("卫星遥感")
    MONITORING = "monitoring", _("在线监测")
    COMPLAINT = "complaint", _("信访举报")
    HOTLINE = "hotline_12369", _("12369热线")
    INSPECTION = "inspection", _("日常检查")
    HIGHER_INSPECTION = "higher_inspection", _("督察移交")


class LeadStatus(models.TextChoices):
    NEW = "new", _("新线索")
    DISPATCHED = "dispatched", _("已派发")
    VERIFYING = "verifying", _("核查中")
    DISMISSED = "dismissed", _("不属实")
    MERGED = "merged", _("已合并")
    CONFIRMED = "confirmed", _("属实立案")


LEAD_OPEN_STATUSES = frozenset({LeadStatus.NEW, LeadStatus.DISPATCHED, LeadStatus.VERIFYING})


class ChangeClass(models.IntegerChoices):
    VEGETATION_LOSS = 1, _("植被损失")
    NEW_CONSTRUCTION = 2, _("新增建设")
    WATER_CHANGE = 3, _("水体变化")
    EXCAVATION = 4, _("挖损/裸土")


class PermitClass(models.TextChoices):
    KEY = "key", _("重点管理")
    SIMPLIFIED = "simplified", _("简化管理")
    REGISTRATION = "registration", _("登记管理")


class EvidenceKind(models.TextChoices):
    CHIP = "chip", _("遥感切片")
    PHOTO = "photo", _("现场照片")
    DOCUMENT = "document", _("文件")
