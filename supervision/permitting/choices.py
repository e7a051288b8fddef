from django.db import models
from django.utils.translation import gettext_lazy as _

# HJ 212-2017 Annex B codes the bureau's permits use most; other well-formed codes are kept too.
POLLUTANT_NAMES = {
    "a21026": "二氧化硫",
    "a21002": "氮氧化物",
    "a34013": "颗粒物",
    "a21005": "一氧化碳",
    "a21024": "氟化物",
    "a24088": "非甲烷总烃",
    "a19001": "氧含量",
    "a01012": "烟气温度",
    "a00000": "废气流量",
    "w01018": "化学需氧量",
    "w21003": "氨氮",
    "w21011": "总磷",
    "w21001": "总氮",
    "w01001": "pH值",
    "w00000": "污水流量",
}


class PermitCheckReason(models.TextChoices):
    NEW = "new", _("新申领")
    RENEWED = "renewed", _("延续/变更")


class FindingVerdict(models.TextChoices):
    PROHIBITED = "prohibited", _("禁止准入")
    RESTRICTED = "restricted", _("限制准入")


class EiaKind(models.TextChoices):
    PLANNING = "planning", _("规划环评")
    PROJECT = "project", _("项目环评")
