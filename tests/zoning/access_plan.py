"""A small plan for access-list and siting tests: three units, two divisions, a red line, two basins.

x: 125.30        125.31        125.32        125.33   (lat 43.80–43.81)
   | U_P priority | U_K key      | U_G general  |
   |   [HX-0001]  |              |              |
   |<---- 220102 南关区 -------->| 220103 宽城区 |
   |<---- LY-SHJ 松花江流域 ---->| LY-LH 辽河流域 |
"""

import csv

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon

from supervision.zoning.choices import PlanStatus
from tests.factories import (
    DivisionFactory,
    OverlayFactory,
    PlanFactory,
    UnitFactory,
    square,
)

U_P, U_K, U_G = "ZH22010210001", "ZH22010220001", "ZH22010330001"
PT_RED_LINE = (125.304, 43.804)
PT_PRIORITY = (125.308, 43.808)
PT_KEY = (125.315, 43.805)
PT_GENERAL = (125.325, 43.805)
PT_OUTSIDE = (126.5, 44.5)

HEADER = [
    "层级",
    "范围编码",
    "维度",
    "条款编号",
    "条款内容",
    "管控类型",
    "行业代码",
    "适用",
]


def rect(x0, y0, x1, y1) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=settings.STORAGE_SRID)


def build_plan(status=PlanStatus.DRAFT):
    """The plan as a draft (its access list still to import), or already in the given status."""
    plan = PlanFactory(status=PlanStatus.DRAFT)
    nanguan = DivisionFactory(adcode="220102", name="南关区")
    kuancheng = DivisionFactory(adcode="220103", name="宽城区")
    UnitFactory(
        plan=plan,
        division=nanguan,
        code=U_P,
        name="南关区优先保护单元",
        unit_class="priority",
        geom=square(125.30, 43.80),
    )
    UnitFactory(
        plan=plan,
        division=nanguan,
        code=U_K,
        name="南关区重点管控单元",
        unit_class="key",
        geom=square(125.31, 43.80),
    )
    UnitFactory(
        plan=plan,
        division=kuancheng,
        code=U_G,
        name="宽城区一般管控单元",
        unit_class="general",
        geom=square(125.32, 43.80),
    )
    OverlayFactory(
        plan=plan,
        code="HX-0001",
        kind="red_line",
        name="生态保护红线",
        geom=square(125.302, 43.802, 0.004),
    )
    OverlayFactory(
        plan=plan,
        code="LY-SHJ",
        kind="basin",
        name="松花江流域",
        geom=rect(125.30, 43.80, 125.32, 43.81),
    )
    OverlayFactory(
        plan=plan,
        code="LY-LH",
        kind="basin",
        name="辽河流域",
        geom=rect(125.32, 43.80, 125.33, 43.81),
    )
    if status != PlanStatus.DRAFT:
        type(plan).objects.filter(pk=plan.pk).update(status=status)
        plan.refresh_from_db()
    return plan


def write_csv(path, rows, header=HEADER, encoding="utf-8-sig"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def row(
    level,
    scope,
    number,
    action="禁止",
    codes="",
    applies="全部",
    dimension="空间布局约束",
    text=None,
):
    return [
        level,
        scope,
        dimension,
        number,
        text or f"条款{number}",
        action,
        codes,
        applies,
    ]
