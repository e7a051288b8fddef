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
    # A key region (重点区域) of a provincial plan: named prefectures or counties ("1+3+13+N").
    REGION = "region", _("重点区域")
    # An overlay of the plan: a river basin, a red line ("1+2+11+157" has two basin lists).
    OVERLAY = "overlay", _("区域")
    DIVISION = "division", _("区县")
    UNIT = "unit", _("单元")


# Display order, higher layers first (province → region → prefecture → county → unit).
ACCESS_LEVEL_RANK = {
    AccessLevel.PLAN: 0,
    AccessLevel.REGION: 1,
    AccessLevel.OVERLAY: 2,
    AccessLevel.DIVISION: 3,
    AccessLevel.UNIT: 4,
}


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


class DivisionKind(models.TextChoices):
    """The type of a division, which names its officials (区长, 县长, 市长 …)."""

    PROVINCE = "province", _("省")
    PREFECTURE = "prefecture", _("地级市")
    DISTRICT = "district", _("市辖区")
    COUNTY = "county", _("县")
    COUNTY_CITY = "county_city", _("县级市")
    BANNER = "banner", _("旗")
    OTHER = "other", _("其他")


def division_kind_guess(*, adcode: str, name: str = "") -> str:
    """The division type from its name's suffix, else from the adcode (GB/T 2260: DD 01–20 区, 21–80 县, 81–99 县级市)."""
    if adcode.endswith("0000"):
        return DivisionKind.PROVINCE
    if adcode.endswith("00"):
        return DivisionKind.PREFECTURE
    name = (name or "").strip()
    if name.endswith("区"):
        return DivisionKind.DISTRICT
    if name.endswith("县"):
        return DivisionKind.COUNTY
    if name.endswith("市"):
        return DivisionKind.COUNTY_CITY
    if name.endswith("旗"):
        return DivisionKind.BANNER
    dd = int(adcode[4:]) if adcode[4:].isdigit() else 0
    if 1 <= dd <= 20:
        return DivisionKind.DISTRICT
    if 21 <= dd <= 80:
        return DivisionKind.COUNTY
    if dd >= 81:
        return DivisionKind.COUNTY_CITY
    return DivisionKind.OTHER


class BottomLineIndicator(models.TextChoices):
    """Bottom-line (环境质量底线) targets and resource-use caps (资源利用上线) a plan sets."""

    PM25_ANNUAL_MEAN = "pm25_annual_mean", _("PM2.5年均浓度")
    GOOD_AIR_DAY_RATIO = "good_air_day_ratio", _("空气质量优良天数比例")
    WATER_SECTION_CLASS = "water_section_class", _("考核断面水质类别")
    WATER_USE = "water_use", _("用水总量")
    ENERGY_USE = "energy_use", _("能源消费总量")
    CONSTRUCTION_LAND = "construction_land", _("建设用地总规模")


# Canonical unit of each indicator, and whether a lower measured value is better (≤ target: met).
BOTTOM_LINE_UNITS: dict[str, str] = {
    BottomLineIndicator.PM25_ANNUAL_MEAN: "µg/m³",
    BottomLineIndicator.GOOD_AIR_DAY_RATIO: "%",
    BottomLineIndicator.WATER_SECTION_CLASS: "类",
    BottomLineIndicator.WATER_USE: "万立方米",
    BottomLineIndicator.ENERGY_USE: "万吨标准煤",
    BottomLineIndicator.CONSTRUCTION_LAND: "公顷",
}
BOTTOM_LINE_LOWER_IS_BETTER = frozenset(
    {
        BottomLineIndicator.PM25_ANNUAL_MEAN,
        BottomLineIndicator.WATER_SECTION_CLASS,
        BottomLineIndicator.WATER_USE,
        BottomLineIndicator.ENERGY_USE,
        BottomLineIndicator.CONSTRUCTION_LAND,
    }
)
# Caps are measured by imported statistics (per district and year), the rest by monitoring readings.
RESOURCE_CAPS = frozenset(
    {BottomLineIndicator.WATER_USE, BottomLineIndicator.ENERGY_USE, BottomLineIndicator.CONSTRUCTION_LAND}
)
# Accepted spellings of each canonical unit → (canonical unit, factor to multiply by).
BOTTOM_LINE_UNIT_ALIASES: dict[str, tuple[str, float]] = {
    "µg/m³": ("µg/m³", 1.0),
    "μg/m³": ("µg/m³", 1.0),
    "µg/m3": ("µg/m³", 1.0),
    "μg/m3": ("µg/m³", 1.0),
    "ug/m3": ("µg/m³", 1.0),
    "ug/m³": ("µg/m³", 1.0),
    "微克/立方米": ("µg/m³", 1.0),
    "mg/m³": ("µg/m³", 1000.0),
    "mg/m3": ("µg/m³", 1000.0),
    "%": ("%", 1.0),
    "％": ("%", 1.0),
    "类": ("类", 1.0),
    "万立方米": ("万立方米", 1.0),
    "万m³": ("万立方米", 1.0),
    "万m3": ("万立方米", 1.0),
    "亿立方米": ("万立方米", 10000.0),
    "亿m³": ("万立方米", 10000.0),
    "万吨标准煤": ("万吨标准煤", 1.0),
    "万tce": ("万吨标准煤", 1.0),
    "吨标准煤": ("万吨标准煤", 0.0001),
    "公顷": ("公顷", 1.0),
    "ha": ("公顷", 1.0),
    "hm²": ("公顷", 1.0),
    "hm2": ("公顷", 1.0),
    "平方公里": ("公顷", 100.0),
    "km²": ("公顷", 100.0),
    "km2": ("公顷", 100.0),
    "亩": ("公顷", 1 / 15),
}
