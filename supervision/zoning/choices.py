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


class AccessLevel(models.TextChoices):
    """The layer of the access list a requirement belongs to (the "1+2+11+157" structure)."""

    PLAN = "plan", _("总体")
    OVERLAY = "overlay", _("区域")
    DIVISION = "division", _("区县")
    UNIT = "unit", _("单元")


# Higher layers first: a lower layer may be stricter, never looser.
ACCESS_LEVEL_RANK = {AccessLevel.PLAN: 0, AccessLevel.OVERLAY: 1, AccessLevel.DIVISION: 2, AccessLevel.UNIT: 3}


class Dimension(models.TextChoices):
    SPATIAL_LAYOUT = "spatial_layout", _("空间布局约束")
    POLLUTANT_DISCHARGE = "pollutant_discharge", _("污染物排放管控")
    ENVIRONMENTAL_RISK = "environmental_risk", _("环境风险防控")
    RESOURCE_EFFICIENCY = "resource_efficiency", _("资源开发利用效率")


class AccessAction(models.TextChoices):
    PROHIBIT = "prohibit", _("禁止")
    RESTRICT = "restrict", _("限制")
    REQUIRE = "require", _("要求")
    ALLOW = "allow", _("允许")


class AppliesTo(models.TextChoices):
    NEW = "new", _("新建")
    EXPANSION = "expansion", _("改扩建")
    ALL = "all", _("全部")


class ProjectType(models.TextChoices):
    NEW = "new", _("新建")
    EXPANSION = "expansion", _("改扩建")


class Verdict(models.TextChoices):
    PROHIBITED = "prohibited", _("禁止准入")
    RESTRICTED = "restricted", _("限制准入")
    ALLOWED = "allowed", _("允许准入")
