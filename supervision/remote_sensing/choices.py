from django.db import models
from django.utils.translation import gettext_lazy as _


class LayerKind(models.TextChoices):
    LANDCOVER = "landcover", _("地类变化")
    NDVI_DIFF = "ndvi_diff", _("NDVI 差值")


class LayerStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("扫描中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


# A done or failed layer may be queued again (a re-scan adds no lead it already raised).
LAYER_TRANSITIONS: dict[str, frozenset[str]] = {
    LayerStatus.QUEUED: frozenset({LayerStatus.RUNNING, LayerStatus.FAILED}),
    LayerStatus.RUNNING: frozenset(
        {LayerStatus.DONE, LayerStatus.FAILED, LayerStatus.QUEUED}
    ),  # queued: requeued by the stall sweep
    LayerStatus.DONE: frozenset({LayerStatus.QUEUED}),
    LayerStatus.FAILED: frozenset({LayerStatus.QUEUED}),
}


class WindowStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    DONE = "done", _("完成")


class Medium(models.TextChoices):
    AIR = "air", _("环境空气")
    WATER = "water", _("地表水")


class Averaging(models.TextChoices):
    DAY = "24h", _("24小时平均")
    MAX8H = "max8h", _("日最大8小时平均")
    SAMPLE = "sample", _("单次监测")


# The default legend of landcover change layers (0 and nodata raise nothing).
DEFAULT_LEGEND: dict[str, str] = {
    "0": "无变化",
    "1": "植被损失",
    "2": "新增建设",
    "3": "水体变化",
    "4": "挖损/裸土",
}
# Which change classes raise leads in which unit class.
# Water-body change (3: filled ponds, diverted channels) in a priority unit is as suspect as
# vegetation loss, so it raises leads there too (migration 0002 adds it to existing rule sets).
DEFAULT_CLASSES_BY_UNIT_CLASS: dict[str, list[int]] = {"priority": [1, 2, 3, 4], "key": [2, 4], "general": []}
DEFAULT_MIN_AREA_M2 = 1000.0
DEFAULT_NDVI_THRESHOLD = -0.2
# Year-on-year decline margins (percent worse than the same period a year before) per
# parameter; parameters not named use the plan's `decline_margin_pct`. Monthly means of
# particulates and NO2 move ±10-15 % year on year with the weather alone, SO2 and CO (low
# concentrations near the detection limit) more, so their margins are wider.
DEFAULT_DECLINE_MARGINS: dict[str, float] = {
    "PM2.5": 20.0,
    "PM10": 20.0,
    "NO2": 20.0,
    "O3": 15.0,
    "SO2": 30.0,
    "CO": 30.0,
}
