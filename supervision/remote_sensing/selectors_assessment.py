"""Read-only monitoring queries for the assessment app's bottom-line tracking (owned by assessment).

Kept here so `assessment` reads ambient readings through a selector, never by reaching into
`remote_sensing` models; nothing in `remote_sensing` imports this module. Stations are chosen
by station code (点位或断面), else by the unit's geometry, else by the district.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Avg, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from supervision.zoning.models import ControlUnit

from . import standards
from .choices import Averaging, Medium
from .models import MonitoringReading, MonitoringStation


def _stations(*, medium: str, division_id: int, unit_geom: GEOSGeometry | None, station_code: str) -> QuerySet:
    """A station belongs to a division by its division field or, when that is empty, by the units it lies in;
    a city's stations are its districts' too."""
    qs = MonitoringStation.objects.filter(medium=medium)
    if station_code:
        return qs.filter(code=station_code)
    if unit_geom is not None:
        return qs.filter(location__within=unit_geom)
    in_units = ControlUnit.objects.filter(
        Q(division_id=division_id) | Q(division__parent_id=division_id), geom__intersects=OuterRef("location")
    )
    return qs.filter(
        Q(division_id=division_id) | Q(division__parent_id=division_id) | (Q(division__isnull=True) & Exists(in_units))
    )


def _canonical(parameter: str, medium: str) -> str | None:
    try:
        return standards._canonical_parameter(parameter, medium)
    except standards.StandardsError:
        return None


def air_daily_means(
    *, division_id: int, start: date, end: date, unit_geom: GEOSGeometry | None = None, station_code: str = ""
) -> tuple[list[str], dict[date, dict[str, float]]]:
    """(station codes, {day: {parameter: mean over the stations}}) of air readings in [start, end].

    Daily means (24h) of every parameter, O3 as its daily maximum 8-hour mean; one GROUP BY query.
    """
    stations = _stations(medium=Medium.AIR, division_id=division_id, unit_geom=unit_geom, station_code=station_code)
    codes = list(stations.order_by("code").values_list("code", flat=True))
    rows = (
        MonitoringReading.objects.filter(
            station__in=stations,
            observed_on__gte=start,
            observed_on__lte=end,
            averaging__in=(Averaging.DAY, Averaging.MAX8H),
        )
        .values("observed_on", "parameter", "averaging")
        .annotate(mean=Avg("value"))
        .order_by()
    )
    days: dict[date, dict[str, float]] = defaultdict(dict)
    for r in rows:
        p = _canonical(r["parameter"], "air")
        if p is None:
            continue
        wanted = standards.DEFAULT_AIR_AVERAGING.get(p, Averaging.DAY)
        if r["averaging"] == wanted:
            days[r["observed_on"]][p] = r["mean"]
    return codes, dict(days)


def air_day_is_good(values: dict[str, float]) -> bool:
    """优良天: every pollutant measured that day within its GB 3095-2012 grade II daily limit (IAQI ≤ 100)."""
    for p, v in values.items():
        try:
            if v > standards.air_limit(p, "II").limit:
                return False
        except standards.StandardsError:
            continue
    return True


def water_section_classes(
    *, division_id: int, start: date, end: date, unit_geom: GEOSGeometry | None = None, station_code: str = ""
) -> dict[str, dict]:
    """{station code: {"class": 1–6, "months": set of months sampled, "samples": n}} over [start, end].

    The class of a section is the worst class over its parameters' period means (GB 3838-2002, 6 = 劣V).
    """
    stations = _stations(medium=Medium.WATER, division_id=division_id, unit_geom=unit_geom, station_code=station_code)
    readings = MonitoringReading.objects.filter(
        station__in=stations, observed_on__gte=start, observed_on__lte=end
    ).values_list("station__code", "parameter", "observed_on", "value")
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    months: dict[str, set] = defaultdict(set)
    for code, parameter, day, value in readings:  # samples: a few a month per section
        p = _canonical(parameter, "water")
        if p is None:
            continue
        sums[(code, p)].append(value)
        months[code].add((day.year, day.month))
    out: dict[str, dict] = {}
    for (code, p), values in sums.items():
        cls = standards.water_class(p, sum(values) / len(values))
        entry = out.setdefault(code, {"class": 1, "months": months[code], "samples": 0})
        entry["class"] = max(entry["class"], cls)
        entry["samples"] += len(values)
    return out


def stations_by_division(*, medium: str) -> list[tuple[str, str]]:
    """(station code, its division's adcode) of every station of a medium: its division field, else the
    division of a unit it lies in; stations in neither are left out."""
    in_unit = (
        ControlUnit.objects.filter(geom__intersects=OuterRef("location")).order_by("id").values("division__adcode")[:1]
    )
    rows = (
        MonitoringStation.objects.filter(medium=medium)
        .annotate(adcode=Coalesce("division__adcode", Subquery(in_unit)))
        .filter(adcode__isnull=False)
        .order_by("code")
        .values_list("code", "adcode")
    )
    return list(rows)
