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

from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from supervision.cases.selectors_assessment import case_status_at, cases_all, leads_all
from supervision.zoning.choices import UnitClass

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


@dataclass(frozen=True)
class Raw:
    """One indicator's measured numbers for one division, before weighting."""

    numerator: Decimal
    denominator: Decimal
    value: Decimal | None  # None: not applicable


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
    # Value when the denominator is 0: None = not applicable (weight shared out).
    empty_value: Decimal | None = None
    definition: str = ""


def _ratio(n: int, d: int, *, complement: bool, empty: Decimal | None) -> Decimal | None:
    if d == 0:
        return empty
    r = Decimal(n) / Decimal(d)
    return Decimal(1) - r if complement else r


# --- the six default indicators --------------------------------------------------------


def _verification_base(w: Window, p: dict) -> QuerySet:
    return leads_all().filter(
        dispatched_at__isnull=False, verification_due_at__gte=w.start, verification_due_at__lt=w.end
    )


def _verification_num(w: Window, p: dict) -> Q:
    return Q(status__in=LEAD_CONCLUDED, concluded_at__isnull=False, concluded_at__lte=F("verification_due_at"))


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


def _damage_base(w: Window, p: dict) -> QuerySet:
    # Confirmed (属实) in the period, in a priority protection unit of the plan version the lead was raised under.
    return leads_all().filter(
        status="confirmed", concluded_at__gte=w.start, concluded_at__lt=w.end, unit__unit_class=UnitClass.PRIORITY
    )


def _damage_num(w: Window, p: dict) -> Q:
    return Q()


DEFINITIONS: dict[str, IndicatorDef] = {
    d.code: d
    for d in (
        IndicatorDef(
            IndicatorCode.VERIFICATION_TIMELINESS,
            Subject.LEAD,
            Subject.LEAD,
            _verification_base,
            _verification_num,
            definition="核查期限在本期内且在期限前办结（不属实、合并或属实）的派发线索数 ÷ 核查期限在本期内的派发线索数",
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
            _damage_num,
            definition="1 − min(1, 本期优先保护单元内属实线索面积（公顷）÷ 阈值（默认 10 公顷）)",
        ),
    )
}


def threshold_ha(params: dict) -> float:
    return float((params or {}).get("threshold_ha", DEFAULT_THRESHOLD_HA))


def indicator_aggregate(
    code: str, *, division_ids: Iterable[int], window: Window, params: dict | None = None
) -> dict[int, Raw]:
    """One GROUP BY query: the indicator's numbers for every division (divisions with no rows included)."""
    params = params or {}
    d = DEFINITIONS[code]
    ids = list(division_ids)
    base = d.base(window, params).filter(division_id__in=ids)
    if code == IndicatorCode.PRIORITY_UNIT_DAMAGE:
        limit = threshold_ha(params)
        rows = (
            base.values("division_id")
            .annotate(area=Sum(Coalesce("area_m2", Value(0.0), output_field=FloatField())))
            .order_by()
        )
        areas = {r["division_id"]: r["area"] or 0.0 for r in rows}
        out = {}
        for div in ids:
            ha = Decimal(str(round(areas.get(div, 0.0) / M2_PER_HA, 4)))
            limit_d = Decimal(str(limit))
            out[div] = Raw(ha, limit_d, Decimal(1) - min(Decimal(1), ha / limit_d))
        return out
    rows = (
        base.values("division_id")
        .annotate(den=Count("id"), num=Count("id", filter=d.numerator_q(window, params)))
        .order_by()
    )
    counts = {r["division_id"]: (r["num"], r["den"]) for r in rows}
    out = {}
    for div in ids:
        n, den = counts.get(div, (0, 0))
        out[div] = Raw(Decimal(n), Decimal(den), _ratio(n, den, complement=d.complement, empty=d.empty_value))
    return out


def indicator_rows(code: str, *, division_id: int, window: Window, params: dict | None, side: str) -> QuerySet | None:
    """The leads or cases behind one side (numerator | denominator) of an indicator, live; None for a constant."""
    params = params or {}
    d = DEFINITIONS[code]
    base = d.base(window, params).filter(division_id=division_id)
    if side == "denominator":
        return None if d.denominator_subject == Subject.NONE else base
    return base.filter(d.numerator_q(window, params))
