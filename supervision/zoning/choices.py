from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草案")
    FILED = "filed", _("已备案")
    EFFECTIVE = "effective", _("生效")
    SUPERSEDED = "superseded", _("已替代")


PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.FILED}),
    PlanStatus.FILED: frozenset({PlanStatus.EFFECTIVE, PlanStatus.DRAFT}),
    PlanStatus.EFFECTIVE: frozenset({PlanStatus.SUPERSEDED}),
    PlanStatus.SUPERSEDED: frozenset(),
}


class UnitClass(models.TextChoices):
    PRIORITY = "priority", _("优先保护单元")
    KEY = "key", _("重点管控单元")
    GENERAL = "general", _("一般管控单元")


# The class digit in a unit code (ZH + adcode + digit + sequence).
UNIT_CLASS_BY_DIGIT = {"1": UnitClass.PRIORITY, "2": UnitClass.KEY, "3": UnitClass.GENERAL}
DIGIT_BY_UNIT_CLASS = {v: k for k, v in UNIT_CLASS_BY_DIGIT.items()}


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("区县")


class OverlayKind(models.TextChoices):
    RED_LINE = "red_line", _("生态保护红线")
    BASIN = "basin", _("流域")
    OTHER = "other", _("其他")
