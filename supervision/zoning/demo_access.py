"""The demo access list (生态环境准入清单) for whatever plan the demo built.

Changchun's list is "1+2+11+157": one city-wide list, two basin lists (松花江流域,
辽河流域), eleven district lists and one list per unit. This writes that structure from
the plan's own rows: the city-wide clauses in all four dimensions, clauses for every
basin and red-line overlay, for every division that has units and for every unit keyed
to its class (priority units prohibit new industrial projects, key units restrict the
listed heavy industries, general units follow the city-wide list).

The wording follows published municipal lists; the clauses are illustrative, not the
plan's text. The list goes through the importer's checks (scopes, industry codes, never
looser) and replaces the plan's whole list, so running it twice leaves identical rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .access_io import AccessRow
from .access_rules import Clause
from .choices import (
    AccessAction,
    AccessLevel,
    AppliesTo,
    Dimension,
    OverlayKind,
    UnitClass,
)
from .models import ControlUnit, Overlay, ZoningPlan
from .selectors import divisions_of_plan
from .services import access_list_load

D = Dimension
A = AccessAction
T = AppliesTo

# (number suffix, dimension, action, industry codes, applies to, text)
CITY = [
    (
        "01",
        D.SPATIAL_LAYOUT,
        A.PROHIBIT,
        "C31;C301;C304;C321",
        T.ALL,
        "全市禁止新建、扩建钢铁、水泥熟料、平板玻璃、电解铝等产能严重过剩行业新增产能项目（产能置换项目除外）。",
    ),
    (
        "02",
        D.SPATIAL_LAYOUT,
        A.RESTRICT,
        "C26",
        T.NEW,
        "新建化工项目原则上应进入依法合规设立、环境保护基础设施齐全的化工园区。",
    ),
    (
        "03",
        D.POLLUTANT_DISCHARGE,
        A.REQUIRE,
        "",
        T.ALL,
        "新建、改建、扩建项目实行主要污染物排放等量或倍量削减替代；重点行业执行大气污染物特别排放限值。",
    ),
    (
        "04",
        D.POLLUTANT_DISCHARGE,
        A.REQUIRE,
        "D441",
        T.ALL,
        "燃煤发电机组全面实现超低排放，城市建成区内不再新建每小时35蒸吨以下燃煤锅炉。",
    ),
    (
        "05",
        D.ENVIRONMENTAL_RISK,
        A.REQUIRE,
        "C25;C26;C27",
        T.ALL,
        "石化、化工、医药等涉及有毒有害物质的企业应开展土壤和地下水污染隐患排查，制定突发环境事件应急预案并备案。",
    ),
    (
        "06",
        D.ENVIRONMENTAL_RISK,
        A.REQUIRE,
        "",
        T.ALL,
        "未达到土壤污染风险管控、修复目标的建设用地地块，禁止开工建设任何与风险管控、修复无关的项目。",
    ),
    (
        "07",
        D.RESOURCE_EFFICIENCY,
        A.REQUIRE,
        "",
        T.ALL,
        "严格落实用水总量和强度双控，新建项目单位产品取水量、能耗应达到国内先进水平。",
    ),
    (
        "08",
        D.RESOURCE_EFFICIENCY,
        A.RESTRICT,
        "D441",
        T.NEW,
        "严格限制新建燃煤发电项目，新建耗煤项目实行煤炭消费减量替代。",
    ),
]

BASIN = [
    (
        "01",
        D.SPATIAL_LAYOUT,
        A.RESTRICT,
        "C221;C171;C191",
        T.NEW,
        "{name}干流及主要支流沿岸严格限制新建化学制浆、印染、制革等高耗水、重污染项目。",
    ),
    (
        "02",
        D.POLLUTANT_DISCHARGE,
        A.REQUIRE,
        "",
        T.ALL,
        "{name}内城镇污水处理厂出水执行一级A标准，新建涉水项目实行主要水污染物排放减量替代。",
    ),
    (
        "03",
        D.ENVIRONMENTAL_RISK,
        A.REQUIRE,
        "C25;C26",
        T.ALL,
        "{name}干流沿岸石化、化工企业应建设事故应急池，落实“单元—厂区—园区”三级防控，防止突发水污染事件。",
    ),
    (
        "04",
        D.RESOURCE_EFFICIENCY,
        A.REQUIRE,
        "",
        T.ALL,
        "{name}内严格控制地下水开采，保障河流生态流量。",
    ),
]
# The Liao headwaters (东辽河源头区) are stricter than the Songhua: paper and tanning are prohibited.
LIAO = (
    "05",
    D.SPATIAL_LAYOUT,
    A.PROHIBIT,
    "C221;C191",
    T.NEW,
    "{name}（东辽河源头区）禁止新建化学制浆造纸、制革项目。",
)

RED_LINE = (
    "01",
    D.SPATIAL_LAYOUT,
    A.PROHIBIT,
    "",
    T.ALL,
    "{name}：生态保护红线内，自然保护地核心保护区原则上禁止人为活动；其他区域严格禁止开发性、生产性建设活动，"
    "仅允许对生态功能不造成破坏的有限人为活动。",
)

URBAN = [  # divisions named …区
    (
        "01",
        D.SPATIAL_LAYOUT,
        A.PROHIBIT,
        "C251;C252;C261;C301;C304",
        T.NEW,
        "{name}城市建成区内禁止新建石油炼制、炼焦、基础化学原料制造、水泥和平板玻璃等重污染项目。",
    ),
    (
        "02",
        D.POLLUTANT_DISCHARGE,
        A.REQUIRE,
        "D443",
        T.ALL,
        "{name}建成区集中供热全覆盖，现有燃煤锅炉按期完成超低排放改造或清洁能源替代。",
    ),
    (
        "03",
        D.ENVIRONMENTAL_RISK,
        A.REQUIRE,
        "C26;C27",
        T.ALL,
        "{name}涉及危险化学品生产、储存的企业与居民区保持安全防护距离，逐步搬迁改造。",
    ),
]
COUNTY = [  # divisions named …县 / …市
    (
        "01",
        D.SPATIAL_LAYOUT,
        A.RESTRICT,
        "A03",
        T.NEW,
        "{name}畜禽养殖禁养区内禁止新建规模化畜禽养殖场，限养区内新建养殖场须配套粪污处理和资源化利用设施。",
    ),
    (
        "02",
        D.POLLUTANT_DISCHARGE,
        A.REQUIRE,
        "A01;A03",
        T.ALL,
        "{name}推进化肥农药减量增效，规模化畜禽养殖场粪污综合利用率达到90%以上。",
    ),
    (
        "03",
        D.ENVIRONMENTAL_RISK,
        A.REQUIRE,
        "",
        T.ALL,
        "{name}加强集中式饮用水水源保护区环境风险防控，保护区内禁止设置排污口。",
    ),
    (
        "04",
        D.RESOURCE_EFFICIENCY,
        A.REQUIRE,
        "C13;C14",
        T.ALL,
        "{name}农副食品加工、食品制造企业单位产品取水量达到行业先进水平。",
    ),
]

UNIT = {
    UnitClass.PRIORITY: [
        (
            "01",
            D.SPATIAL_LAYOUT,
            A.PROHIBIT,
            "B;C;D",
            T.NEW,
            "{name}属优先保护单元，禁止新建工业项目及其他可能损害生态功能的开发建设活动，现有工业企业逐步退出。",
        ),
        (
            "02",
            D.RESOURCE_EFFICIENCY,
            A.REQUIRE,
            "",
            T.ALL,
            "{name}严格控制开发强度，林地、湿地、水域面积不减少，生态功能不降低。",
        ),
    ],
    UnitClass.KEY: [
        (
            "01",
            D.SPATIAL_LAYOUT,
            A.RESTRICT,
            "C25;C26;C30;C31;C32",
            T.NEW,
            "{name}属重点管控单元，限制新建石化、化工、建材、钢铁、有色冶炼等重污染项目，确需建设的应进入合规园区"
            "并实施污染物倍量削减替代。",
        ),
        (
            "02",
            D.POLLUTANT_DISCHARGE,
            A.REQUIRE,
            "",
            T.ALL,
            "{name}工业企业污染物稳定达标排放，园区配套建设集中污水处理设施并稳定运行。",
        ),
        (
            "03",
            D.SPATIAL_LAYOUT,
            A.ALLOW,
            "C36;C37",
            T.ALL,
            "{name}鼓励发展汽车及零部件、轨道交通装备等先进制造业，允许建设符合园区规划和规划环评要求的相关项目。",
        ),
    ],
    UnitClass.GENERAL: [
        (
            "01",
            D.SPATIAL_LAYOUT,
            A.REQUIRE,
            "",
            T.ALL,
            "{name}属一般管控单元，执行全市生态环境准入清单总体管控要求。",
        ),
    ],
}


def _clauses(level: str, scope: str, prefix: str, name: str, templates) -> list[Clause]:
    return [
        Clause(
            level=level,
            scope_code=scope,
            dimension=dimension,
            number=f"{prefix}-{suffix}",
            text=text.format(name=name),
            action=action,
            industry_codes=tuple(c for c in codes.split(";") if c),
            applies_to=applies,
        )
        for suffix, dimension, action, codes, applies, text in templates
    ]


def access_demo_clauses(plan: ZoningPlan) -> list[Clause]:
    """The demo list for this plan, in the order the layers are read: plan, overlays, divisions, units."""
    clauses = _clauses(AccessLevel.PLAN, plan.code, "QS", plan.name, CITY)
    for overlay in Overlay.objects.filter(plan=plan).order_by("kind", "code"):
        if overlay.kind == OverlayKind.BASIN:
            templates = [*BASIN, LIAO] if "辽河" in overlay.name else BASIN
        elif overlay.kind == OverlayKind.RED_LINE:
            templates = [RED_LINE]
        else:
            continue
        clauses += _clauses(AccessLevel.OVERLAY, overlay.code, overlay.code, overlay.name, templates)
    for division in divisions_of_plan(plan=plan):
        templates = URBAN if division.name.endswith("区") else COUNTY
        clauses += _clauses(
            AccessLevel.DIVISION,
            division.adcode,
            division.adcode,
            division.name,
            templates,
        )
    for unit in ControlUnit.objects.filter(plan=plan).order_by("code"):
        clauses += _clauses(AccessLevel.UNIT, unit.code, unit.code, unit.name, UNIT[unit.unit_class])
    return clauses


def access_demo_load(plan: ZoningPlan) -> list[str]:
    """Replace the plan's access list with the demo list; returns the lines to print."""
    clauses = access_demo_clauses(plan)
    rows = [AccessRow(i + 1, replace(c, position=i + 1)) for i, c in enumerate(clauses)]
    report = access_list_load(plan=plan, rows=rows, replace_all=True, source="demo access list")
    scopes = Counter(c.level for c in clauses)
    per_level = {level: len({c.scope_code for c in clauses if c.level == level}) for level in AccessLevel.values}
    basins = Overlay.objects.filter(plan=plan, kind=OverlayKind.BASIN).count()
    structure = f"1+{basins}+{per_level[AccessLevel.DIVISION]}+{per_level[AccessLevel.UNIT]}"
    return [
        f"zoning: access list {structure} for {plan.code}: {report.created} clauses — 总体 {scopes[AccessLevel.PLAN]}, "
        f"区域 {scopes[AccessLevel.OVERLAY]} ({per_level[AccessLevel.OVERLAY]} overlays), "
        f"区县 {scopes[AccessLevel.DIVISION]} ({per_level[AccessLevel.DIVISION]} divisions), "
        f"单元 {scopes[AccessLevel.UNIT]} ({per_level[AccessLevel.UNIT]} units)"
    ]
