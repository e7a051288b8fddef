"""Bottom-line targets (环境质量底线) and resource-use caps (资源利用上线) of a plan, and the statistics caps are
measured against: importing them from CSV/XLSX, whole file or nothing.

Targets file, columns exactly: 范围编码 (a district adcode of the plan, the plan's region adcode, or a unit code),
指标 (code or Chinese name), 目标年份, 目标值, 单位, and optionally 点位或断面 (a station or assessment section code).
Statistics file (`import_statistics`), columns exactly: 范围编码 (district adcode), 指标 (a cap), 年份, 统计值, 单位.
Values are converted to the indicator's canonical unit (choices.BOTTOM_LINE_UNITS); an unknown unit, indicator,
scope or a value out of range refuses the whole file with row and column, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from supervision.errors import ImportRefused, NotFound, ServiceError
from supervision.tables import TableError, table_read

from .choices import (
    BOTTOM_LINE_UNIT_ALIASES,
    BOTTOM_LINE_UNITS,
    RESOURCE_CAPS,
    BottomLineIndicator,
    PlanStatus,
)
from .models import AdministrativeDivision, BottomLineTarget, ControlUnit, ResourceStatistic, ZoningPlan
from .selectors import divisions_of_plan

TARGET_COLUMNS = ("范围编码", "指标", "目标年份", "目标值", "单位")
TARGET_OPTIONAL = ("点位或断面",)
STATISTIC_COLUMNS = ("范围编码", "指标", "年份", "统计值", "单位")
ROMAN_CLASSES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5}
YEAR_RANGE = (2000, 2100)


@dataclass(frozen=True)
class BottomLineImportReport:
    plan: str
    created: int
    updated: int
    replaced: int


@dataclass(frozen=True)
class StatisticsImportReport:
    created: int
    updated: int


def indicator_parse(text: str) -> str | None:
    """An indicator code from its code or its Chinese name; None if unknown."""
    t = (text or "").strip()
    if t in BottomLineIndicator.values:
        return t
    # Files carry the Chinese names whatever the reader's language: compare with the msgids.
    with translation.override(None):
        for value, label in BottomLineIndicator.choices:
            if t == str(label):
                return value
    return None


def _columns(header: list[str], required: tuple[str, ...], optional: tuple[str, ...], path: str) -> dict[str, int]:
    names = [h.strip() for h in header]
    problems = [_("header: column %(col)s is missing") % {"col": c} for c in required if c not in names]
    problems += [
        _("header: unknown column %(col)s (allowed: %(allowed)s)")
        % {"col": n, "allowed": ", ".join(required + optional)}
        for n in names
        if n and n not in required + optional
    ]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    problems += [_("header: column %(col)s appears twice") % {"col": n} for n in dupes]
    if problems:
        raise ImportRefused(
            _("%(path)s: refused; nothing was written.") % {"path": path}, problems=problems, code="bad_header"
        )
    return {n: names.index(n) for n in required + optional if n in names}


def _value(
    *, indicator: str, raw: str, unit_text: str, row: int, value_col: str, problems: list[str]
) -> Decimal | None:
    """The value in the indicator's canonical unit, or None after adding a problem."""
    canonical = BOTTOM_LINE_UNITS[indicator]
    unit = (unit_text or "").strip()
    alias = BOTTOM_LINE_UNIT_ALIASES.get(unit) or BOTTOM_LINE_UNIT_ALIASES.get(unit.lower())
    if alias is None or alias[0] != canonical:
        problems.append(
            _("row %(row)s, column 单位: unit '%(unit)s' is not known for %(ind)s (use %(canonical)s)")
            % {"row": row, "unit": unit, "ind": indicator, "canonical": canonical}
        )
        return None
    text = (raw or "").strip()
    if indicator == BottomLineIndicator.WATER_SECTION_CLASS:
        key = text.removesuffix("类").strip().upper()
        if key in ROMAN_CLASSES:
            return Decimal(ROMAN_CLASSES[key])
    try:
        value = Decimal(text) * Decimal(str(alias[1]))
    except InvalidOperation:
        problems.append(
            _("row %(row)s, column %(col)s: '%(value)s' is not a number")
            % {"row": row, "col": value_col, "value": text}
        )
        return None
    if not value.is_finite() or value < 0:
        problems.append(
            _("row %(row)s, column %(col)s: %(value)s must be zero or more")
            % {"row": row, "col": value_col, "value": text}
        )
        return None
    if indicator == BottomLineIndicator.GOOD_AIR_DAY_RATIO and value > 100:
        problems.append(
            _("row %(row)s, column %(col)s: a ratio of %(value)s%% is above 100%%")
            % {"row": row, "col": value_col, "value": text}
        )
        return None
    if indicator == BottomLineIndicator.WATER_SECTION_CLASS and (value != value.to_integral() or not 1 <= value <= 5):
        problems.append(
            _("row %(row)s, column %(col)s: water class '%(value)s' must be I–V (or 1–5)")
            % {"row": row, "col": value_col, "value": text}
        )
        return None
    return value.quantize(Decimal("0.0001"))


def _year(raw: str, *, row: int, col: str, problems: list[str]) -> int | None:
    text = (raw or "").strip()
    if not text.isdigit() or not YEAR_RANGE[0] <= int(text) <= YEAR_RANGE[1]:
        problems.append(
            _("row %(row)s, column %(col)s: '%(value)s' is not a year between %(lo)s and %(hi)s")
            % {"row": row, "col": col, "value": text, "lo": YEAR_RANGE[0], "hi": YEAR_RANGE[1]}
        )
        return None
    return int(text)


def plan_for_bottom_lines(*, plan_code: str) -> ZoningPlan:
    plan = ZoningPlan.objects.filter(code=plan_code).first()
    if plan is None:
        raise NotFound(_("No zoning plan '%(code)s'.") % {"code": plan_code}, code="not_found")
    if plan.status == PlanStatus.SUPERSEDED:
        raise ServiceError(
            _("Plan %(code)s is superseded; import bottom lines into the plan in force.") % {"code": plan_code},
            code="plan_superseded",
        )
    return plan


def bottom_lines_import(
    *, path: str, plan_code: str, replace: bool = False, illustrative: bool = False, source: str = ""
) -> BottomLineImportReport:
    """Import a plan's bottom-line targets, or refuse the whole file (row and column named), writing nothing.

    Rows are upserted on (plan, 范围编码, 指标, 点位或断面, 目标年份); with `replace` the plan's
    existing targets are deleted first, in the same transaction.
    """
    plan = plan_for_bottom_lines(plan_code=plan_code)
    try:
        header, rows = table_read(path)
    except TableError as exc:
        raise ImportRefused(
            _("%(path)s: refused; nothing was written.") % {"path": path}, problems=[str(exc)], code="bad_file"
        ) from None
    cols = _columns(header, TARGET_COLUMNS, TARGET_OPTIONAL, path)
    divisions = {d.adcode: d for d in divisions_of_plan(plan=plan)}
    region = AdministrativeDivision.objects.filter(adcode=plan.region_adcode).first()
    if region is not None:
        divisions.setdefault(region.adcode, region)
    units = {u.code: u for u in ControlUnit.objects.filter(plan=plan).select_related("division")}
    problems: list[str] = []
    parsed: dict[tuple, dict] = {}
    if not rows:
        problems.append(_("the file has a header but no rows"))
    for i, cells in enumerate(rows, start=2):
        cells = cells + [""] * (len(header) - len(cells))

        def cell(name: str, _cells=cells) -> str:
            return _cells[cols[name]].strip() if name in cols else ""

        scope = cell("范围编码")
        division, unit = divisions.get(scope), None
        if division is None and scope in units:
            unit = units[scope]
            division = unit.division
        if division is None:
            problems.append(
                _(
                    "row %(row)s, column 范围编码: '%(scope)s' is neither a district adcode nor a unit code of plan %(plan)s"
                )
                % {"row": i, "scope": scope, "plan": plan.code}
            )
        indicator = indicator_parse(cell("指标"))
        if indicator is None:
            problems.append(
                _("row %(row)s, column 指标: unknown indicator '%(value)s' (known: %(known)s)")
                % {"row": i, "value": cell("指标"), "known": ", ".join(BottomLineIndicator.values)}
            )
            continue
        if unit is not None and indicator in RESOURCE_CAPS:
            problems.append(
                _("row %(row)s, column 范围编码: the cap %(ind)s is set per district, not per unit (%(scope)s)")
                % {"row": i, "ind": indicator, "scope": scope}
            )
        year = _year(cell("目标年份"), row=i, col="目标年份", problems=problems)
        value = _value(
            indicator=indicator,
            raw=cell("目标值"),
            unit_text=cell("单位"),
            row=i,
            value_col="目标值",
            problems=problems,
        )
        station = cell("点位或断面")
        key = (scope, indicator, station, year)
        if key in parsed:
            problems.append(
                _("row %(row)s: the same target (范围编码, 指标, 点位或断面, 目标年份) as row %(first)s")
                % {"row": i, "first": parsed[key]["row"]}
            )
            continue
        if division is None or year is None or value is None:
            continue
        parsed[key] = {
            "row": i,
            "division": division,
            "unit": unit,
            "indicator": indicator,
            "year": year,
            "value": value,
            "station": station,
        }
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(n)s problem(s); nothing was written.") % {"path": path, "n": len(problems)},
            problems=problems,
            code="import_refused",
        )
    created = updated = replaced = 0
    with transaction.atomic():
        if replace:
            replaced, _detail = BottomLineTarget.objects.filter(plan=plan).delete()
        for (scope, indicator, station, year), p in parsed.items():
            _obj, was_created = BottomLineTarget.objects.update_or_create(
                plan=plan,
                scope_code=scope,
                indicator=indicator,
                station_code=station,
                target_year=year,
                defaults={
                    "division": p["division"],
                    "unit": p["unit"],
                    "target_value": p["value"],
                    "unit_label": BOTTOM_LINE_UNITS[indicator],
                    "illustrative": illustrative,
                    "source": source[:200],
                },
            )
            created += was_created
            updated += not was_created
    return BottomLineImportReport(plan=plan.code, created=created, updated=updated, replaced=replaced)


def statistics_import(*, path: str, source: str = "") -> StatisticsImportReport:
    """Import annual resource-use statistics per district (upsert on district, indicator, year), or refuse all."""
    try:
        header, rows = table_read(path)
    except TableError as exc:
        raise ImportRefused(
            _("%(path)s: refused; nothing was written.") % {"path": path}, problems=[str(exc)], code="bad_file"
        ) from None
    cols = _columns(header, STATISTIC_COLUMNS, (), path)
    divisions = {d.adcode: d for d in AdministrativeDivision.objects.all()}
    problems: list[str] = []
    parsed: dict[tuple, dict] = {}
    if not rows:
        problems.append(_("the file has a header but no rows"))
    for i, cells in enumerate(rows, start=2):
        cells = cells + [""] * (len(header) - len(cells))
        scope, ind_text = cells[cols["范围编码"]].strip(), cells[cols["指标"]].strip()
        division = divisions.get(scope)
        if division is None:
            problems.append(
                _("row %(row)s, column 范围编码: '%(scope)s' is not a known district adcode")
                % {"row": i, "scope": scope}
            )
        indicator = indicator_parse(ind_text)
        if indicator not in RESOURCE_CAPS:
            problems.append(
                _(
                    "row %(row)s, column 指标: '%(value)s' is not a resource cap (water_use, energy_use, construction_land)"
                )
                % {"row": i, "value": ind_text}
            )
            continue
        year = _year(cells[cols["年份"]], row=i, col="年份", problems=problems)
        value = _value(
            indicator=indicator,
            raw=cells[cols["统计值"]],
            unit_text=cells[cols["单位"]],
            row=i,
            value_col="统计值",
            problems=problems,
        )
        key = (scope, indicator, year)
        if key in parsed:
            problems.append(
                _("row %(row)s: the same statistic (范围编码, 指标, 年份) as row %(first)s")
                % {"row": i, "first": parsed[key]["row"]}
            )
            continue
        if division is None or year is None or value is None:
            continue
        parsed[key] = {"row": i, "division": division, "value": value}
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(n)s problem(s); nothing was written.") % {"path": path, "n": len(problems)},
            problems=problems,
            code="import_refused",
        )
    created = updated = 0
    with transaction.atomic():
        for (_scope, indicator, year), p in parsed.items():
            _obj, was_created = ResourceStatistic.objects.update_or_create(
                division=p["division"],
                indicator=indicator,
                year=year,
                defaults={"value": p["value"], "unit_label": BOTTOM_LINE_UNITS[indicator], "source": source[:200]},
            )
            created += was_created
            updated += not was_created
    return StatisticsImportReport(created=created, updated=updated)
