"""The default indicators as SQL: one aggregate query per indicator for all divisions at once.

Each indicator names the set behind its denominator (a queryset of leads or cases) and
the condition that puts a row in its numerator. `indicator_aggregate` turns that into
`SELECT division_id, COUNT(*), COUNT(*) FILTER (WHERE …) … GROUP BY division_id`; the
drill-down uses the same two querysets, so a number and the list behind it can never
be defined twice. Nothing here loops over cases in Python.

Time: `start`/`end` are the period's half-open instant range [local midnight of the
first day, local midnight after the last day) — see periods.Period.bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from supervision.cases.selectors_assessment import case_status_at, cases_all, leads_all
from supervision.zoning.choices import OverlayKind, UnitClass
from supervision.zoning.models import Overlay

from .choices import IndicatorCode, Subject

# Case / lead statuses, as the cases app names them.
LEAD_CONCLUDED = ("dismissed", "merged", "confirmed")
CASE_ACCEPTED = "accepted"
CASE_RECTIFYING = ("rectification_ordered", "returned")

REPEAT_LOOKBACK = timedelta(days=365)
DEFAULT_THRESHOLD_HA = 10.0
M2_PER_HA = 10_000


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime  # exclusive
    # "As of": the end, or now for a period under way (deadlines still ahead count neither way).
    asof: datetime | None = None
    # The period's code ("2025", "2025-Q3", "2025-07"): bottom-line statuses are kept per year and quarter.
    period_code: str = ""
    # The plan whose bottom lines count (None: every plan's).
    plan_id: int | None = None

    @property
    def until(self) -> datetime:
        return min(self.end, self.asof) if self.asof else self.end


@dataclass(frozen=True)
class Raw:
    """One indicator's measured numbers for one division, before weighting."""

    numerator: Decimal
    denominator: Decimal
    value: Decimal | None  # None: not applicable
    # The rows behind each side, from the same query as the numbers (None: a constant side).
    numerator_ids: list | None = None
    denominator_ids: list | None = None


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    subject: str
    denominator_subject: str
    # (window, params) -> the denominator queryset (all divisions) and the numerator condition.
    base: Callable[[Window, dict], QuerySet]
    numerator_q: Callable[[Window, dict], Q]
    # value = n/d, or 1 − n/d for the "control" indicators.
    complement: bool = False
    # "count": n/d of rows; "area": 1 − min(1, weighted hectares ÷ threshold) over the base rows.
    kind: str = "count"
    # Where a base row names its division (a bottom-line status names it through its target).
    division_field: str = "division_id"
    # Value when the denominator is 0: None = not applicable (weight shared out).
    empty_value: Decimal | None = None
    definition: str = ""


def _ratio(n: int, d: int, *, complement: bool, empty: Decimal | None) -> Decimal | None:
    if d == 0:
        return empty
    r = Decimal(n) / Decimal(d)
    return Decimal(1) - r if complement else r


# --- lead deadlines -----------------------------------------------------------------------
# A division answers for a lead from the moment it is raised to it: a lead not dispatched
# within ASSESSMENT_LEAD_RESPONSE_DAYS calendar days of being raised is late on that day,
# whatever happens later; one dispatched in time is held to the deadline set at dispatch.


def _leads_with_due() -> QuerySet:
    days = timedelta(days=settings.ASSESSMENT_LEAD_RESPONSE_DAYS)
    return leads_all().annotate(
        raised_due=ExpressionWrapper(F("created_at") + days, output_field=DateTimeField()),
        due=Case(
            When(
                dispatched_at__isnull=False,
                verification_due_at__isnull=False,
                dispatched_at__lte=F("created_at") + days,
                then=F("verification_due_at"),
            ),
            default=F("created_at") + days,
            output_field=DateTimeField(),
        ),
    )


# --- the default indicators --------------------------------------------------------------


def _verification_base(w: Window, p: dict) -> QuerySet:
    # Every lead raised to the division whose deadline fell in the period (and has passed).
    return _leads_with_due().filter(due__gte=w.start, due__lt=w.until)


def _verification_num(w: Window, p: dict) -> Q:
    return Q(status__in=LEAD_CONCLUDED, concluded_at__isnull=False, concluded_at__lte=F("due"))


def _lead_backlog_base(w: Window, p: dict) -> QuerySet:
    # Raised before the end and not concluded by then (a conclusion is final).
    return (
        _leads_with_due()
        .filter(created_at__lt=w.until)
        .filter(Q(concluded_at__isnull=True) | Q(concluded_at__gte=w.until))
    )


def _lead_backlog_num(w: Window, p: dict) -> Q:
    return Q(due__lt=w.until)


def _rectification_base(w: Window, p: dict) -> QuerySet:
    return cases_all().filter(rectification_due_at__gte=w.start, rectification_due_at__lt=w.end)


def _rectification_num(w: Window, p: dict) -> Q:
    return Q(status=CASE_ACCEPTED, accepted_at__lte=F("rectification_due_at"))


def _opened_base(w: Window, p: dict) -> QuerySet:
    return cases_all().filter(opened_at__gte=w.start, opened_at__lt=w.end)


def _closure_num(w: Window, p: dict) -> Q:
    return Q(status=CASE_ACCEPTED, accepted_at__lt=w.end)


def _open_at_end_base(w: Window, p: dict) -> QuerySet:
    # Open at the end = opened before it and not accepted before it (acceptance is final).
    # The status at that instant comes from the case's events (the last one before it),
    # so a case whose rectification was submitted and awaits checking is not overdue.
    return (
        cases_all()
        .filter(opened_at__lt=w.end)
        .filter(Q(accepted_at__isnull=True) | Q(accepted_at__gte=w.end))
        .annotate(status_at_end=Coalesce(case_status_at(w.end), F("status")))
    )


def _overdue_num(w: Window, p: dict) -> Q:
    return Q(rectification_due_at__lt=w.end, status_at_end__in=CASE_RECTIFYING)


def _repeat_num(w: Window, p: dict) -> Q:
    earlier_accepted = cases_all().filter(
        unit_id=OuterRef("unit_id"),
        status=CASE_ACCEPTED,
        accepted_at__gte=OuterRef("opened_at") - REPEAT_LOOKBACK,
        accepted_at__lt=OuterRef("opened_at"),
    )
    return Q(unit__isnull=False) & Q(Exists(earlier_accepted))


def _repeat_offender_num(w: Window, p: dict) -> Q:
    # The same offender (统一社会信用代码) had a case opened in the 365 days before, wherever it was.
    earlier = cases_all().filter(
        target__credit_code=OuterRef("target__credit_code"),
        opened_at__gte=OuterRef("opened_at") - REPEAT_LOOKBACK,
        opened_at__lt=OuterRef("opened_at"),
    )
    return Q(target__isnull=False) & Q(Exists(earlier))


def suspected_weight(params: dict) -> float:
    """Weight of unconfirmed (suspected) remote-sensing change in the area indicators; 0 unless the scheme sets it."""
    return float((params or {}).get("suspected_weight", 0))


def _damage_base(w: Window, p: dict) -> QuerySet:
    # In a priority protection unit of the plan version the lead was raised under: confirmed
    # (属实) in the period, and — when the scheme weighs them — remote-sensing change still
    # unverified at the end (suspected, 疑似), counted with its own weight.
    q = Q(status="confirmed", concluded_at__gte=w.start, concluded_at__lt=w.end)
    if suspected_weight(p) > 0:
        q |= Q(source="remote_sensing", created_at__lt=w.until) & (
            Q(concluded_at__isnull=True) | Q(concluded_at__gte=w.until)
        )
    return leads_all().filter(q, unit__unit_class=UnitClass.PRIORITY)


def _red_line_base(w: Window, p: dict) -> QuerySet:
    # Remote-sensing change raised in the period that touches a red line of the lead's plan:
    # confirmed at full weight, still unverified at the suspected weight; dismissed or merged not at all.
    in_red_line = Overlay.objects.filter(
        plan_id=OuterRef("plan_id"), kind=OverlayKind.RED_LINE, geom__intersects=OuterRef("geom")
    )
    return (
        leads_all()
        .filter(source="remote_sensing", created_at__gte=w.start, created_at__lt=w.until)
        .exclude(status__in=("dismissed", "merged"))
        .filter(Exists(in_red_line))
    )


def _all_rows(w: Window, p: dict) -> Q:
    return Q()


def _bottom_line_base(w: Window, p: dict) -> QuerySet:
    # The division's tracked targets for the period (a month is judged by its quarter).
    from .models import BottomLineStatus

    code = w.period_code
    if len(code) == 7 and code[4] == "-" and code[5:].isdigit():  # a month: its quarter
        code = f"{code[:4]}-Q{(int(code[5:]) - 1) // 3 + 1}"
    # Insufficient data is the monitoring network's gap, not the district's result: it is left out
    # (and shown on the tracking pages); with no target measured the indicator is not applicable.
    qs = BottomLineStatus.objects.filter(period_code=code, status__in=("met", "off_track"))
    return qs.filter(target__plan_id=w.plan_id) if w.plan_id else qs


def _bottom_line_num(w: Window, p: dict) -> Q:
    return Q(status="met")


DEFINITIONS: dict[str, IndicatorDef] = {
    d.code: d
    for d in (
        IndicatorDef(
            IndicatorCode.VERIFICATION_TIMELINESS,
            Subject.LEAD,
            Subject.LEAD,
            _verification_base,
            _verification_num,
            definition="核查期限在本期内（且已届满）的线索中按期办结（不属实、合并或属实）的比例；线索自交办之日起计："
            "未在交办后规定天数内派发的，以该日为期限（未派发、未核查的线索计为未按期）",
        ),
        IndicatorDef(
            IndicatorCode.RECTIFICATION_TIMELINESS,
            Subject.CASE,
            Subject.CASE,
            _rectification_base,
            _rectification_num,
            definition="整改期限在本期内且在期限前验收销号的案件数 ÷ 整改期限在本期内的案件数",
        ),
        IndicatorDef(
            IndicatorCode.CLOSURE_RATE,
            Subject.CASE,
            Subject.CASE,
            _opened_base,
            _closure_num,
            definition="本期立案且期末前验收销号的案件数 ÷ 本期立案的案件数",
        ),
        IndicatorDef(
            IndicatorCode.OVERDUE_BACKLOG,
            Subject.CASE,
            Subject.CASE,
            _open_at_end_base,
            _overdue_num,
            complement=True,
            empty_value=Decimal(1),
            definition="1 − 期末逾期未办结案件数 ÷ 期末未办结案件数（无未办结案件时为 1）",
        ),
        IndicatorDef(
            IndicatorCode.REPEAT_VIOLATIONS,
            Subject.CASE,
            Subject.CASE,
            _opened_base,
            _repeat_num,
            complement=True,
            definition="1 − 本期立案且所在单元此前 365 天内已有验收销号案件的案件数 ÷ 本期立案的案件数",
        ),
        IndicatorDef(
            IndicatorCode.PRIORITY_UNIT_DAMAGE,
            Subject.LEAD,
            Subject.NONE,
            _damage_base,
            _all_rows,
            kind="area",
            definition="1 − min(1, (本期优先保护单元内属实线索面积 + 疑似权重 × 期末仍未核实的遥感变化面积)（公顷）"
            "÷ 阈值（默认 10 公顷）)",
        ),
        IndicatorDef(
            IndicatorCode.LEAD_BACKLOG,
            Subject.LEAD,
            Subject.LEAD,
            _lead_backlog_base,
            _lead_backlog_num,
            complement=True,
            empty_value=Decimal(1),
            definition="1 − 期末已过核查期限仍未办结的线索数 ÷ 期末未办结的线索数（含未派发；无未办结线索时为 1）",
        ),
        IndicatorDef(
            IndicatorCode.REPEAT_OFFENDERS,
            Subject.CASE,
            Subject.CASE,
            _opened_base,
            _repeat_offender_num,
            complement=True,
            definition="1 − 本期立案且同一违法主体（统一社会信用代码）此前 365 天内已被立案的案件数 ÷ 本期立案的案件数",
        ),
        IndicatorDef(
            IndicatorCode.RED_LINE_INTEGRITY,
            Subject.LEAD,
            Subject.NONE,
            _red_line_base,
            _all_rows,
            kind="area",
            definition="1 − min(1, (本期涉及生态保护红线的遥感变化：属实面积 + 疑似权重 × 未核实面积)（公顷）÷ 阈值)",
        ),
        IndicatorDef(
            IndicatorCode.BOTTOM_LINE_ATTAINMENT,
            Subject.BOTTOM_LINE,
            Subject.BOTTOM_LINE,
            _bottom_line_base,
            _bottom_line_num,
            division_field="target__division_id",
            definition="本期达标的底线目标数 ÷ 本期有有效数据的底线目标数（数据不足的不计入；月度按所在季度）",
        ),
    )
}


def threshold_ha(params: dict) -> float:
    return float((params or {}).get("threshold_ha", DEFAULT_THRESHOLD_HA))


def _weighted_area(params: dict):
    """Hectare-weighting of an area row: confirmed counts fully, anything else at the suspected weight."""
    area = Coalesce("area_m2", Value(0.0), output_field=FloatField())
    return Sum(
        Case(
            When(status="confirmed", then=area),
            default=area * Value(suspected_weight(params)),
            output_field=FloatField(),
        )
    )


def indicator_aggregate(
    code: str, *, division_ids: Iterable[int], window: Window, params: dict | None = None
) -> dict[int, Raw]:
    """One GROUP BY query: the numbers of every division and the ids behind them (divisions with no rows included).

    The ids come from the same query as the counts, so a drill-down list (drafts included)
    is exactly the rows its cell counted.
    """
    params = params or {}
    d = DEFINITIONS[code]
    ids = list(division_ids)
    if connection.vendor != "postgresql":
        return _aggregate_portable(d, ids=ids, window=window, params=params)
    base = d.base(window, params).annotate(_div=F(d.division_field)).filter(_div__in=ids).values("_div").order_by()
    out = {}
    if d.kind == "area":
        rows = base.annotate(area=_weighted_area(params), row_ids=ArrayAgg("id", order_by="id"))
        found = {r["_div"]: r for r in rows}
        limit_d = Decimal(str(threshold_ha(params)))
        for div in ids:
            r = found.get(div, {"area": 0.0, "row_ids": []})
            ha = Decimal(str(round((r["area"] or 0.0) / M2_PER_HA, 4)))
            out[div] = Raw(ha, limit_d, Decimal(1) - min(Decimal(1), ha / limit_d), r["row_ids"] or [], None)
        return out
    numerator = d.numerator_q(window, params)
    rows = base.annotate(
        den=Count("id"),
        num=Count("id", filter=numerator),
        den_ids=ArrayAgg("id", order_by="id"),
        num_ids=ArrayAgg("id", filter=numerator, order_by="id", default=Value([])),
    )
    found = {r["_div"]: r for r in rows}
    for div in ids:
        r = found.get(div)
        n, den = (r["num"], r["den"]) if r else (0, 0)
        out[div] = Raw(
            Decimal(n),
            Decimal(den),
            _ratio(n, den, complement=d.complement, empty=d.empty_value),
            sorted(r["num_ids"] or []) if r else [],
            sorted(r["den_ids"] or []) if r else [],
        )
    return out


def _aggregate_portable(d, *, ids: list[int], window: Window, params: dict) -> dict[int, Raw]:
    """`indicator_aggregate` without ArrayAgg (the embedded SpatiaLite demo): the same numbers and ids.

    One query for the rows (division, id, in the numerator or not, weighted area), grouped here.
    """
    rows = d.base(window, params).annotate(_div=F(d.division_field)).filter(_div__in=ids)
    out: dict[int, Raw] = {}
    if d.kind == "area":
        area = Coalesce("area_m2", Value(0.0), output_field=FloatField())
        weighted = Case(
            When(status="confirmed", then=area),
            default=area * Value(suspected_weight(params)),
            output_field=FloatField(),
        )
        areas: dict[int, float] = {}
        row_ids: dict[int, list[int]] = {}
        for div, pk, a in rows.annotate(_w=weighted).values_list("_div", "id", "_w").order_by("id"):
            areas[div] = areas.get(div, 0.0) + (a or 0.0)
            row_ids.setdefault(div, []).append(pk)
        limit_d = Decimal(str(threshold_ha(params)))
        for div in ids:
            ha = Decimal(str(round(areas.get(div, 0.0) / M2_PER_HA, 4)))
            out[div] = Raw(ha, limit_d, Decimal(1) - min(Decimal(1), ha / limit_d), row_ids.get(div, []), None)
        return out
    flag = Case(When(d.numerator_q(window, params), then=Value(1)), default=Value(0), output_field=IntegerField())
    num_ids: dict[int, list[int]] = {}
    den_ids: dict[int, list[int]] = {}
    for div, pk, in_num in rows.annotate(_num=flag).values_list("_div", "id", "_num").order_by("id"):
        den_ids.setdefault(div, []).append(pk)
        if in_num:
            num_ids.setdefault(div, []).append(pk)
    for div in ids:
        n, den = len(num_ids.get(div, [])), len(den_ids.get(div, []))
        out[div] = Raw(
            Decimal(n),
            Decimal(den),
            _ratio(n, den, complement=d.complement, empty=d.empty_value),
            num_ids.get(div, []),
            den_ids.get(div, []),
        )
    return out
