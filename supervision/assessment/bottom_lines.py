"""Tracking a plan's bottom-line targets and resource caps: status per year and quarter, and warnings.

For a year Y, each target line (范围编码, 指标, 点位或断面) is held to its current stage: the
target with the earliest target year ≥ Y (the last stage once all are past). Its status for
Y and for each quarter of Y that has begun is computed from the ambient readings (through
`remote_sensing.selectors_assessment`) or, for caps, from the imported annual statistics:

- PM2.5 annual mean: the mean of the district's daily means (stations averaged per day), met
  when ≤ the target. Valid only with daily values on at least 324/365 of the days measured
  (HJ 663-2013 asks 324 daily values a year); else insufficient data.
- Good-air-day ratio: days whose every measured pollutant is within its GB 3095-2012 grade II
  daily limit (IAQI ≤ 100; O3 as its max 8-hour mean) ÷ valid days (a PM2.5 value), in %,
  met when ≥ the target; the same completeness rule.
- Water class at assessment sections: each section's class from its parameters' period means
  (GB 3838-2002, the worst parameter), the worst section counting; met when ≤ the target class.
  Valid only when every section was sampled in at least ¾ of the months measured.
- Water use, energy use, construction land (caps): the district's statistic for the year, met
  when ≤ the cap; no statistic, insufficient data. Caps are annual: no quarter status.

A period under way is measured up to yesterday. A status row is upserted on (target, period);
when it changes to off track, the responsible division's users and the assessment office
(考核人员) get one in-app notification for that change (keyed by the change count).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases.choices import NotificationKind, Role
from supervision.cases.services.notifications import NotificationSpec, notify
from supervision.errors import ServiceError
from supervision.remote_sensing import selectors_assessment as monitoring
from supervision.zoning.choices import BOTTOM_LINE_LOWER_IS_BETTER, RESOURCE_CAPS, BottomLineIndicator
from supervision.zoning.models import BottomLineTarget, ResourceStatistic, ZoningPlan

from .choices import PeriodKind, TrackingStatus
from .models import BottomLineStatus

AIR_VALID_DAYS_PER_YEAR = 324  # HJ 663-2013: at least 324 daily means in a year
WATER_VALID_MONTH_SHARE = 0.75
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}


@dataclass(frozen=True)
class TrackPeriod:
    kind: str
    code: str
    start: date
    end: date
    until: date  # last day measured


@dataclass(frozen=True)
class Measure:
    status: str
    value: Decimal | None
    details: dict


@dataclass
class TrackReport:
    plan: str
    year: int
    statuses: list[BottomLineStatus] = field(default_factory=list)
    changed: int = 0
    warned: int = 0

    def counts(self) -> dict[str, int]:
        return dict(Counter(s.status for s in self.statuses))


def track_periods(*, year: int, today: date) -> list[TrackPeriod]:
    """The year and its quarters that have begun (at least one whole day measured)."""
    yesterday = today - timedelta(days=1)
    out = []
    spans = [(PeriodKind.YEAR, str(year), date(year, 1, 1), date(year, 12, 31))]
    for q in range(1, 5):
        start = date(year, 3 * q - 2, 1)
        end = (date(year, 3 * q + 1, 1) if q < 4 else date(year + 1, 1, 1)) - timedelta(days=1)
        spans.append((PeriodKind.QUARTER, f"{year}-Q{q}", start, end))
    for kind, code, start, end in spans:
        if start <= yesterday:
            out.append(TrackPeriod(kind, code, start, end, min(end, yesterday)))
    return out


def targets_in_force(*, plan: ZoningPlan, year: int) -> list[BottomLineTarget]:
    """Each target line's stage for the year: the earliest target year ≥ year, else the last stage."""
    lines: dict[tuple, list[BottomLineTarget]] = {}
    for t in BottomLineTarget.objects.filter(plan=plan).select_related("division", "unit").order_by("target_year"):
        lines.setdefault((t.scope_code, t.indicator, t.station_code), []).append(t)
    out = []
    for stages in lines.values():
        ahead = [t for t in stages if t.target_year >= year]
        out.append(ahead[0] if ahead else stages[-1])
    return sorted(out, key=lambda t: (t.scope_code, t.indicator, t.station_code))


def _met(indicator: str, value: Decimal, target: Decimal) -> bool:
    return value <= target if indicator in BOTTOM_LINE_LOWER_IS_BETTER else value >= target


def _status(indicator: str, value: Decimal, target: Decimal) -> str:
    return TrackingStatus.MET if _met(indicator, value, target) else TrackingStatus.OFF_TRACK


def measure(*, target: BottomLineTarget, period: TrackPeriod) -> Measure:
    """The target's status over the period, with the numbers behind it."""
    ind = target.indicator
    tv = target.target_value
    if ind in RESOURCE_CAPS:
        stat = ResourceStatistic.objects.filter(
            division_id=target.division_id, indicator=ind, year=period.start.year
        ).first()
        if stat is None:
            return Measure(TrackingStatus.INSUFFICIENT, None, {"note": "no statistic imported for the year"})
        return Measure(_status(ind, stat.value, tv), stat.value, {"source": stat.source, "year": stat.year})
    scope = {
        "division_id": target.division_id,
        "start": period.start,
        "end": period.until,
        "unit_geom": target.unit.geom if target.unit_id else None,
        "station_code": target.station_code,
    }
    days_measured = (period.until - period.start).days + 1
    if ind in (BottomLineIndicator.PM25_ANNUAL_MEAN, BottomLineIndicator.GOOD_AIR_DAY_RATIO):
        stations, days = monitoring.air_daily_means(**scope)
        valid = {d: v for d, v in days.items() if "PM2.5" in v}
        required = math.ceil(days_measured * AIR_VALID_DAYS_PER_YEAR / 365)
        details = {
            "stations": stations,
            "days_measured": days_measured,
            "valid_days": len(valid),
            "required_days": required,
        }
        if not stations or len(valid) < required:
            details["note"] = "too few valid daily values (HJ 663-2013: 324 of 365)"
            return Measure(TrackingStatus.INSUFFICIENT, None, details)
        if ind == BottomLineIndicator.PM25_ANNUAL_MEAN:
            mean = sum(v["PM2.5"] for v in valid.values()) / len(valid)
            value = Decimal(str(round(mean, 1)))
        else:
            good = sum(1 for v in valid.values() if monitoring.air_day_is_good(v))
            details["good_days"] = good
            value = Decimal(str(round(100 * good / len(valid), 1)))
        return Measure(_status(ind, value, tv), value, details)
    # Water class at assessment sections.
    sections = monitoring.water_section_classes(**scope)
    months = (period.until.year - period.start.year) * 12 + period.until.month - period.start.month + 1
    required = max(1, math.ceil(months * WATER_VALID_MONTH_SHARE))
    details = {
        "sections": {code: ROMAN[s["class"]] for code, s in sorted(sections.items())},
        "months_measured": months,
        "required_months": required,
        "months_sampled": {code: len(s["months"]) for code, s in sorted(sections.items())},
    }
    if not sections or any(len(s["months"]) < required for s in sections.values()):
        details["note"] = "a section was sampled in too few months"
        return Measure(TrackingStatus.INSUFFICIENT, None, details)
    worst = max(s["class"] for s in sections.values())
    value = Decimal(worst)
    return Measure(_status(ind, value, tv), value, details)


def _recipients(division_id: int) -> list[int]:
    """The responsible division's users and the assessment office (考核人员), active ones."""
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(profile__division_id=division_id) | Q(groups__name=Role.ASSESSOR))
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )


def _warn(status: BottomLineStatus, *, now) -> int:
    t = status.target
    unit = t.unit_label
    fmt = ROMAN.get(int(status.measured_value), "") if t.indicator == "water_section_class" else None
    measured = fmt or f"{status.measured_value} {unit}"
    target = ROMAN.get(int(t.target_value), "") if fmt else f"{t.target_value} {unit}"
    subject = _("Bottom line off track: %(division)s %(indicator)s %(period)s") % {
        "division": t.division.name,
        "indicator": t.get_indicator_display(),
        "period": status.period_code,
    }
    body = _(
        "%(scope)s %(indicator)s %(period)s (measured up to %(until)s): %(measured)s against the %(year)s target "
        "%(target)s."
    ) % {
        "scope": t.scope_code + (f" {t.station_code}" if t.station_code else ""),
        "indicator": t.get_indicator_display(),
        "period": status.period_code,
        "until": status.measured_until.isoformat(),
        "measured": measured,
        "year": t.target_year,
        "target": target,
    }
    specs = [
        NotificationSpec(
            recipient_id=uid,
            kind=NotificationKind.BOTTOM_LINE,
            key=f"bottom_line:{status.pk}:{status.changes}",
            subject=subject,
            body=body,
        )
        for uid in _recipients(t.division_id)
    ]
    return notify(specs=specs, now=now)


def bottom_lines_track(
    *, plan: ZoningPlan, year: int | None = None, today: date | None = None, warn: bool = True
) -> TrackReport:
    """Compute (or recompute) every target's status for the year and its quarters; warn on a change to off track.

    Safe to run twice: statuses are upserted on (target, period) and a warning's key holds
    the status-change count, so a re-run with the same data changes and sends nothing.
    """
    today = today or timezone.localdate()
    year = year or today.year
    if year > today.year:
        raise ServiceError(
            _("Year %(year)s has not begun; bottom lines are tracked up to yesterday.") % {"year": year},
            code="future_year",
        )
    targets = targets_in_force(plan=plan, year=year)
    if not targets:
        raise ServiceError(
            _("Plan %(plan)s has no bottom-line targets; import them with import_bottom_lines.") % {"plan": plan.code},
            code="no_targets",
        )
    periods = track_periods(year=year, today=today)
    report = TrackReport(plan=plan.code, year=year)
    now = timezone.now()
    for target in targets:  # tens of targets × 5 periods, a few queries each
        for period in periods:
            if target.indicator in RESOURCE_CAPS and period.kind != PeriodKind.YEAR:
                continue
            m = measure(target=target, period=period)
            with transaction.atomic():
                row = (
                    BottomLineStatus.objects.select_for_update().filter(target=target, period_code=period.code).first()
                )
                changed = row is None or row.status != m.status
                if row is None:
                    row = BottomLineStatus(target=target, period_code=period.code, changes=0, changed_at=now)
                row.period_kind, row.period_start, row.period_end = period.kind, period.start, period.end
                row.measured_until, row.status, row.measured_value = period.until, m.status, m.value
                row.target_value, row.details, row.computed_at = target.target_value, m.details, now
                if changed:
                    row.changes += 1
                    row.changed_at = now
                    report.changed += 1
                row.save()
                row.target = target
                if changed and warn and m.status == TrackingStatus.OFF_TRACK:
                    report.warned += _warn(row, now=now)
            report.statuses.append(row)
    return report
