"""Monitoring: stations, readings and gridded layers, and the two rules that raise leads.

* Exceedance (key control units): each day a station in a key unit fails its standard
  (GB 3095-2012 grade, daily / max-8h; GB 3838-2002 class objective) is a finding.
* Decline (general control units): a period's mean at a station in a general unit, or a
  grid's zonal mean over a general unit, worse than the SAME period a year before (同比)
  by at least the parameter's margin is a finding; both periods must be complete enough.
Findings of one station (or unit), parameter and rule within the episode gap are one
episode and so one lead (`ambient` source, 环境质量监测): new findings extend the open lead.
Every finding has a natural key, so running a day twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import cast

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases.choices import LEAD_OPEN_STATUSES, LeadSource
from supervision.cases.models import Lead, LeadDetection
from supervision.cases.services.leads import lead_episode_extend, lead_raise
from supervision.errors import ImportRefused, ServiceError
from supervision.zoning.choices import UnitClass
from supervision.zoning.models import ControlUnit, ZoningPlan
from supervision.zoning.selectors import plan_in_force_check, plans_in_force

from .. import standards
from ..choices import Averaging, Medium
from ..geo import storage_to_crs
from ..models import GridLayer, MonitoringReading, MonitoringStation, ScanRuleSet, UnitZonalStat
from ..selectors import stations_in_units
from .layers import file_sha256

_MEDIUM_ALIASES = {
    "air": Medium.AIR,
    "空气": Medium.AIR,
    "环境空气": Medium.AIR,
    "water": Medium.WATER,
    "surface_water": Medium.WATER,
    "地表水": Medium.WATER,
    "水": Medium.WATER,
}
_STATION_COLUMNS = {
    "code": ("code", "站点编码", "编码"),
    "name": ("name", "站点名称", "名称"),
    "medium": ("medium", "要素", "类型"),
    "lon": ("lon", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "target_grade": ("target_grade", "目标", "目标级别", "水质目标"),
}
_READING_COLUMNS = {
    "station": ("station", "station_code", "站点编码"),
    "parameter": ("parameter", "指标"),
    "date": ("date", "observed_on", "日期"),
    "value": ("value", "数值", "浓度"),
    "averaging": ("averaging", "统计方式"),
    "unit": ("unit", "单位"),
    "hours": ("hours", "valid_hours", "有效小时数"),
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0


# ------------------------------------------------------------------ CSV helpers


def _read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused(
            _("%(path)s: not UTF-8 or GB18030 text.") % {"path": path},
            problems=[_("%(path)s: cannot decode the file") % {"path": path}],
        )
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    return header, rows


def _columns(
    header: list[str], spec: dict[str, tuple[str, ...]], required: tuple[str, ...], path: str
) -> dict[str, str]:
    lower = {h.lower(): h for h in header}
    found = {}
    for key, names in spec.items():
        for n in names:
            if n.lower() in lower:
                found[key] = lower[n.lower()]
                break
    missing = [k for k in required if k not in found]
    if missing:
        raise ImportRefused(
            _("%(path)s: refused, missing column(s); nothing was written.") % {"path": path},
            problems=[
                _("header: missing column '%(k)s' (one of %(value)s)") % {"k": k, "value": ", ".join(spec[k])}
                for k in missing
            ],
        )
    return found


def _float(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


# ------------------------------------------------------------------ imports


def stations_import(*, path: str, srid: int | None = None) -> ImportReport:
    """Upsert stations (by code) from CSV: code, name, medium (air|water), lon, lat[, target_grade].

    The whole file is refused, nothing written, on any bad row.
    """
    header, rows = _read_csv(path)
    cols = _columns(header, _STATION_COLUMNS, ("code", "name", "medium", "lon", "lat"), path)
    srid = srid or settings.STORAGE_SRID
    problems: list[str] = []
    seen: set[str] = set()
    parsed = []
    for i, row in enumerate(rows, start=2):
        code = row.get(cols["code"], "")
        if not code:
            problems.append(f"row {i}, column {cols['code']}: empty station code")
            continue
        if code in seen:
            problems.append(f"row {i}, column {cols['code']}: station '{code}' appears twice")
        seen.add(code)
        medium = _MEDIUM_ALIASES.get(row.get(cols["medium"], "").lower())
        if medium is None:
            problems.append(f"row {i}, column {cols['medium']}: '{row.get(cols['medium'])}' is not air or water")
        lon, lat = _float(row.get(cols["lon"], "")), _float(row.get(cols["lat"], ""))
        if lon is None or lat is None:
            problems.append(f"row {i}, column {cols['lon']}/{cols['lat']}: not a coordinate pair")
            continue
        grade = (row.get(cols.get("target_grade", ""), "") or ("II" if medium == Medium.AIR else "III")).upper()
        if grade not in ("I", "II", "III", "IV", "V") or (medium == Medium.AIR and grade not in ("I", "II")):
            problems.append(
                f"row {i}, column {cols.get('target_grade', 'target_grade')}: '{grade}' is not a valid target"
            )
        point = Point(lon, lat, srid=srid)
        if srid != settings.STORAGE_SRID:
            point.transform(settings.STORAGE_SRID)
        parsed.append((code, row.get(cols["name"], "") or code, medium, point, grade))
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(value)s problem(s); nothing was written.") % {"path": path, "value": len(problems)},
            problems=problems,
        )
    report = ImportReport()
    with transaction.atomic():
        for code, name, medium, point, grade in parsed:
            __, created = MonitoringStation.objects.update_or_create(
                code=code,
                defaults={"name": name, "medium": cast(str, medium), "location": point, "target_grade": grade},
            )
            report.created += created
            report.updated += not created
    return report


def _default_averaging(medium: str, parameter: str) -> str:
    if medium == Medium.WATER:
        return Averaging.SAMPLE
    return standards.DEFAULT_AIR_AVERAGING.get(parameter, Averaging.DAY)


def readings_import(*, path: str) -> ImportReport:
    """Upsert readings from CSV: station, parameter, date, value[, averaging, unit, hours].

    Every reading is checked before anything is written; the whole file is refused (one
    problem per row and column) on an unknown station or parameter, a bad date, an unknown
    unit or one of the wrong medium, a negative or physically impossible value
    (`standards.PLAUSIBLE_MAX`), or valid hours outside 0-24. Values in another known unit
    are converted to the parameter's canonical unit (µg/m³, CO mg/m³; water mg/L); an empty
    unit means the canonical one. `hours` is the number of valid hourly values behind a
    daily value (HJ 663-2013); evaluation ignores a 24 h value with fewer than 20.
    """
    header, rows = _read_csv(path)
    cols = _columns(header, _READING_COLUMNS, ("station", "parameter", "date", "value"), path)
    stations = {s.code: s for s in MonitoringStation.objects.all()}
    problems: list[str] = []
    parsed: dict[tuple, tuple] = {}
    unit_col, hours_col = cols.get("unit", "unit"), cols.get("hours", "hours")
    for i, row in enumerate(rows, start=2):
        station = stations.get(row.get(cols["station"], ""))
        if station is None:
            problems.append(f"row {i}, column {cols['station']}: unknown station '{row.get(cols['station'])}'")
            continue
        try:
            parameter = standards._canonical_parameter(row.get(cols["parameter"], ""), station.medium)
        except standards.StandardsError as exc:
            problems.append(f"row {i}, column {cols['parameter']}: {exc}")
            continue
        try:
            day = date.fromisoformat(row.get(cols["date"], ""))
        except ValueError:
            problems.append(f"row {i}, column {cols['date']}: '{row.get(cols['date'])}' is not a date (YYYY-MM-DD)")
            continue
        raw = _float(row.get(cols["value"], ""))
        if raw is None:
            problems.append(f"row {i}, column {cols['value']}: '{row.get(cols['value'])}' is not a number")
            continue
        try:
            value, unit = standards.reading_normalise(parameter, station.medium, raw, row.get(unit_col, ""))
        except standards.UnitError as exc:
            problems.append(f"row {i}, column {unit_col}: {exc}")
            continue
        except standards.StandardsError as exc:
            problems.append(f"row {i}, column {cols['value']}: {exc}")
            continue
        hours = None
        if row.get(hours_col, ""):
            text = row[hours_col]
            if not text.isdigit() or not 0 <= int(text) <= 24:
                problems.append(f"row {i}, column {hours_col}: '{text}' is not a number of hours from 0 to 24")
                continue
            hours = int(text)
        averaging = row.get(cols.get("averaging", ""), "") or _default_averaging(station.medium, parameter)
        if averaging not in Averaging.values:
            problems.append(f"row {i}, column {cols['averaging']}: '{averaging}' is not one of {Averaging.values}")
            continue
        key = (station.pk, parameter, day, averaging)
        if key in parsed:
            problems.append(f"row {i}: {station.code} {parameter} {day} {averaging} appears twice")
        parsed[key] = (station, parameter, day, averaging, value, unit, hours)
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(count)d problem(s); nothing was written.")
            % {"path": os.path.basename(path), "count": len(problems)},
            problems=problems,
            code="readings_refused",
        )
    report = ImportReport()
    with transaction.atomic():
        for station, parameter, day, averaging, value, unit, hours in parsed.values():
            _obj, created = MonitoringReading.objects.update_or_create(
                station=station,
                parameter=parameter,
                observed_on=day,
                averaging=averaging,
                defaults={"value": value, "unit": unit, "hours": hours},
            )
            report.created += created
            report.updated += not created
    return report


def _zonal_mean(ds, geometry: dict) -> tuple[float | None, int]:
    """Mean of the valid pixels whose centres lie in `geometry` (raster CRS); reads the unit's bbox only."""
    import rasterio.features
    from rasterio.windows import Window
    from shapely.geometry import shape

    minx, miny, maxx, maxy = shape(geometry).bounds
    inv = ~ds.transform
    cols, rows = zip(*(inv * (x, y) for x in (minx, maxx) for y in (miny, maxy)), strict=False)
    col0, row0 = max(0, math.floor(min(cols))), max(0, math.floor(min(rows)))
    col1, row1 = min(ds.width, math.ceil(max(cols))), min(ds.height, math.ceil(max(rows)))
    if col1 <= col0 or row1 <= row0:
        return None, 0
    win = Window(col0, row0, col1 - col0, row1 - row0)
    data = ds.read(1, window=win, masked=True)
    inside = rasterio.features.rasterize(
        [(geometry, 1)], out_shape=data.shape, transform=ds.window_transform(win), fill=0, dtype="uint8"
    ).astype(bool)
    values = np.ma.filled(data.astype("float64"), np.nan)
    sel = values[inside & ~np.ma.getmaskarray(data)]
    sel = sel[np.isfinite(sel)]
    if not sel.size:
        return None, 0
    return float(sel.mean()), int(sel.size)


def grid_import(*, plan: ZoningPlan, path: str, parameter: str, period_start: date, period_end: date) -> GridLayer:
    """Register a gridded monitoring raster and store its zonal mean over every unit of the plan.

    Unit geometries are reprojected into the raster's CRS (the raster is never warped).
    Re-importing the same period replaces its figures.
    """
    import rasterio

    parameter = standards._canonical_parameter(parameter, "air") if parameter else parameter
    if period_end < period_start:
        raise ServiceError(
            _("period end %(period_end)s is before its start %(period_start)s.")
            % {"period_end": period_end, "period_start": period_start}
        )
    if not os.path.isfile(path):
        raise ServiceError(_("Raster file '%(path)s' does not exist.") % {"path": path})
    try:
        ds_ctx = rasterio.open(path)
    except rasterio.errors.RasterioError as exc:
        raise ServiceError(
            _("Raster file '%(path)s' cannot be opened (%(exc)s).") % {"path": path, "exc": exc}
        ) from None
    digest = file_sha256(path)
    with ds_ctx as ds:
        if ds.crs is None:
            raise ServiceError(_("Raster file '%(path)s' has no coordinate reference system.") % {"path": path})
        crs_wkt = ds.crs.to_wkt()
        stats = []
        for unit in ControlUnit.objects.filter(plan=plan).order_by("code"):
            mean, n = _zonal_mean(ds, storage_to_crs(unit.geom, crs_wkt))
            stats.append((unit, mean, n))
    with transaction.atomic():
        grid, __ = GridLayer.objects.update_or_create(
            plan=plan,
            parameter=parameter,
            period_start=period_start,
            period_end=period_end,
            defaults={"name": os.path.basename(path), "path": os.path.abspath(path), "checksum": digest},
        )
        UnitZonalStat.objects.filter(grid=grid).delete()
        UnitZonalStat.objects.bulk_create(
            UnitZonalStat(grid=grid, unit=unit, mean=mean, valid_pixels=n) for unit, mean, n in stats
        )
    return grid


# ------------------------------------------------------------------ evaluation
#
# A run looks at one period (the window) and turns what it sees into findings: an
# exceedance day of a station, or a window whose mean is clearly worse than the same window
# a year before (a station's, or a grid's zonal mean over a unit). Each finding has a
# natural key (a re-run finds it recorded and changes nothing) and belongs to an episode
# (station or unit, parameter, rule). Findings within `gap` days of each other are one
# episode: the first raises a lead, the next ones are added to that lead while it is open.
# A finding after the gap, or after the lead was concluded, starts a new episode and lead.


@dataclass
class _Finding:
    rule: str  # "exceedance" | "decline"
    episode: str  # the episode's natural key (station or unit, parameter, averaging)
    key: str  # this finding's natural key (one LeadDetection)
    start: date  # the days the finding covers: an exceedance day, or a compared window
    end: date
    record: dict  # what the lead's evidence keeps of this finding
    unit: ControlUnit
    geom: GEOSGeometry
    context: dict  # fixed facts of the episode (station, limits, basis, margin ...)


@dataclass
class _Episode:
    lead_id: int | None
    is_open: bool
    first: date
    last: date
    evidence: dict
    new: list[_Finding] = field(default_factory=list)


@dataclass
class EvaluationReport:
    """What one run found and did; `comparisons` says per station why a decline was or was not judged."""

    plan: str
    period: tuple[date, date]  # the exceedance window
    decline_period: tuple[date, date] | None = None  # the decline window ...
    previous_period: tuple[date, date] | None = None  # ... and the same days a year before
    dry_run: bool = False
    exceedance_leads: int = 0  # leads raised or extended by exceedance findings in this run
    decline_leads: int = 0  # the same for decline findings
    created: int = 0
    extended: int = 0
    required_valid_days: int = 0
    notes: list[str] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _required_days(period_days: int) -> int:
    """HJ 663-2013 style completeness of a period: 27 valid days per 30, scaled (at least 1)."""
    return max(1, math.ceil(period_days * settings.MONITORING_MIN_VALID_DAYS_PER_30 / 30))


def _valid(averaging: str, hours: int | None) -> bool:
    """A daily value counts only when enough hourly values stand behind it (HJ 663-2013)."""
    if hours is None:
        return True
    need = standards.MIN_VALID_HOURS.get(averaging)
    return need is None or hours >= need


def _air_limit(parameter: str, grade: str, averaging: str) -> standards.Limit | None:
    try:
        return standards.air_limit(parameter, grade, averaging)
    except standards.StandardsError:
        return None


def _limit_of(station: MonitoringStation, parameter: str, averaging: str) -> standards.Limit | None:
    if station.medium == Medium.AIR:
        return _air_limit(parameter, station.target_grade, averaging)
    try:
        return next(lim for lim in standards.water_limits(parameter) if lim.grade == station.target_grade)
    except (standards.StandardsError, StopIteration):
        return None


def _fails(station: MonitoringStation, parameter: str, value: float, lim: standards.Limit) -> bool:
    if station.medium == Medium.AIR:
        return value > lim.limit
    return standards.water_class(parameter, value) > standards.ROMAN[station.target_grade]


def _worse_pct(parameter: str, medium: str, previous: float, current: float) -> float | None:
    """How much worse the current mean is, in percent of the previous (negative: better)."""
    if previous <= 0:
        return None
    higher_is_better = medium == Medium.WATER and parameter in standards.HIGHER_IS_BETTER
    change = (previous - current) if higher_is_better else (current - previous)
    return change / previous * 100.0


def _readings(station_ids: list[int], ranges: list[tuple[date, date]]) -> dict[int, dict[tuple, list[tuple]]]:
    """station → (parameter, averaging) → [(day, value, hours)] over the ranges, in one query."""
    if not station_ids:
        return {}
    q = Q()
    for a, b in ranges:
        q |= Q(observed_on__range=(a, b))
    out: dict[int, dict[tuple, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    rows = (
        MonitoringReading.objects.filter(q, station_id__in=station_ids)
        .order_by("observed_on")
        .values_list("station_id", "parameter", "averaging", "observed_on", "value", "hours")
    )
    for sid, parameter, averaging, day, value, hours in rows:
        out[sid][(parameter, averaging)].append((day, value, hours))
    return out


def _exceedance_findings(plan: ZoningPlan, start: date, end: date, report: EvaluationReport) -> list[_Finding]:
    pairs = stations_in_units(plan=plan, unit_class=UnitClass.KEY)
    series = _readings([s.pk for s, _u in pairs], [(start, end)])
    findings: list[_Finding] = []
    invalid = 0
    for station, unit in pairs:
        for (parameter, averaging), values in sorted(series.get(station.pk, {}).items()):
            lim = _limit_of(station, parameter, averaging)
            if lim is None:
                continue
            episode = f"mon:exceedance:station:{station.code}:{parameter}:{averaging}"
            context = {
                "station": station.code,
                "station_name": station.name,
                "medium": station.medium,
                "parameter": parameter,
                "standard": lim.standard,
                "grade": lim.grade,
                "limit": lim.limit,
                "unit": lim.unit,
                "averaging": lim.averaging,
                "higher_is_better": lim.higher_is_better,
                "unit_code": unit.code,
            }
            for day, value, hours in values:
                if not _valid(averaging, hours):
                    invalid += 1
                    continue
                if _fails(station, parameter, value, lim):
                    findings.append(
                        _Finding(
                            rule="exceedance",
                            episode=episode,
                            key=f"{episode}:{day.isoformat()}",
                            start=day,
                            end=day,
                            record={"date": day.isoformat(), "value": value},
                            unit=unit,
                            geom=station.location,
                            context=context,
                        )
                    )
    if invalid:
        report.notes.append(
            _("%(count)d daily value(s) in key units ignored: too few valid hours (HJ 663-2013).") % {"count": invalid}
        )
    return findings


def _margin(rules, parameter: str, override: float | None) -> float:
    if override is not None:
        return override
    return float((rules.decline_margins or {}).get(parameter, rules.decline_margin_pct))


def _station_decline_findings(
    plan: ZoningPlan, periods, rules, margin_override: float | None, report: EvaluationReport
) -> list[_Finding]:
    (start, end), (pstart, pend) = periods
    pairs = stations_in_units(plan=plan, unit_class=UnitClass.GENERAL)
    series = _readings([s.pk for s, _u in pairs], [(start, end), (pstart, pend)])
    need_air = report.required_valid_days
    findings: list[_Finding] = []
    for station, unit in pairs:
        need = need_air if station.medium == Medium.AIR else 1  # water: at least one sample each period
        for (parameter, averaging), values in sorted(series.get(station.pk, {}).items()):
            cur = [v for d, v, h in values if start <= d <= end and _valid(averaging, h)]
            prev = [v for d, v, h in values if pstart <= d <= pend and _valid(averaging, h)]
            if not cur:
                continue
            row = {
                "station": station.code,
                "unit_code": unit.code,
                "parameter": parameter,
                "averaging": averaging,
                "valid_days": len(cur),
                "previous_valid_days": len(prev),
                "required_valid_days": need,
            }
            report.comparisons.append(row)
            if not prev:
                row["outcome"] = "no_last_year"
                report.notes.append(
                    _(
                        "%(station)s %(parameter)s: no decline judged, no data for the same period last year (%(from)s..%(to)s)."
                    )
                    % {"station": station.code, "parameter": parameter, "from": pstart, "to": pend}
                )
                continue
            if len(cur) < need or len(prev) < need:
                row["outcome"] = "incomplete"
                report.notes.append(
                    _(
                        "%(station)s %(parameter)s: no decline judged, too few valid values "
                        "(this period %(cur)d, last year %(prev)d, %(need)d required in each)."
                    )
                    % {
                        "station": station.code,
                        "parameter": parameter,
                        "cur": len(cur),
                        "prev": len(prev),
                        "need": need,
                    }
                )
                continue
            mean, previous = sum(cur) / len(cur), sum(prev) / len(prev)
            margin = _margin(rules, parameter, margin_override)
            worse = _worse_pct(parameter, station.medium, previous, mean)
            row.update(
                mean=round(mean, 4),
                previous_mean=round(previous, 4),
                worse_pct=None if worse is None else round(worse, 2),
                margin_pct=margin,
            )
            row["outcome"] = "decline" if worse is not None and worse >= margin else "no_decline"
            if worse is None or row["outcome"] != "decline":
                continue
            episode = f"mon:decline:station:{station.code}:{parameter}:{averaging}"
            findings.append(
                _Finding(
                    rule="decline",
                    episode=episode,
                    key=f"{episode}:{start.isoformat()}:{end.isoformat()}",
                    start=start,
                    end=end,
                    record={
                        "period": [start.isoformat(), end.isoformat()],
                        "previous_period": [pstart.isoformat(), pend.isoformat()],
                        "mean": round(mean, 4),
                        "previous_mean": round(previous, 4),
                        "samples": len(cur),
                        "previous_samples": len(prev),
                        "worse_pct": round(worse, 2),
                    },
                    unit=unit,
                    geom=station.location,
                    context={
                        "basis": f"站点 {station.code} ",
                        "station": station.code,
                        "station_name": station.name,
                        "parameter": parameter,
                        "medium": station.medium,
                        "margin_pct": margin,
                        "unit_code": unit.code,
                    },
                )
            )
    return findings


def _grid_decline_findings(
    plan: ZoningPlan, start: date, end: date, rules, margin_override: float | None, report: EvaluationReport
) -> list[_Finding]:
    findings: list[_Finding] = []
    current = GridLayer.objects.filter(plan=plan, period_end__range=(start, end)).order_by("parameter", "period_end")
    for grid in current:
        ps, pe = _year_before(grid.period_start), _year_before(grid.period_end)
        previous = GridLayer.objects.filter(plan=plan, parameter=grid.parameter, period_start=ps, period_end=pe).first()
        if previous is None:
            report.notes.append(
                _("%(parameter)s grid %(from)s..%(to)s: no decline judged, no grid for the same period last year.")
                % {"parameter": grid.parameter, "from": grid.period_start, "to": grid.period_end}
            )
            continue
        margin = _margin(rules, grid.parameter, margin_override)
        before = {s.unit_id: s for s in previous.stats.filter(mean__isnull=False, valid_pixels__gt=0)}
        stats = grid.stats.filter(
            mean__isnull=False, valid_pixels__gt=0, unit__unit_class=UnitClass.GENERAL
        ).select_related("unit", "unit__division")
        for stat in stats:
            prev = before.get(stat.unit_id)
            if prev is None or prev.mean is None or stat.mean is None:  # filtered out above; for the type checker
                continue
            worse = _worse_pct(grid.parameter, Medium.AIR, prev.mean, stat.mean)
            if worse is None or worse < margin:
                continue
            episode = f"mon:decline:grid:{stat.unit.code}:{grid.parameter}"
            findings.append(
                _Finding(
                    rule="decline",
                    episode=episode,
                    key=f"{episode}:{grid.period_start.isoformat()}:{grid.period_end.isoformat()}",
                    start=grid.period_start,
                    end=grid.period_end,
                    record={
                        "period": [grid.period_start.isoformat(), grid.period_end.isoformat()],
                        "previous_period": [ps.isoformat(), pe.isoformat()],
                        "mean": round(stat.mean, 4),
                        "previous_mean": round(prev.mean, 4),
                        "samples": stat.valid_pixels,
                        "previous_samples": prev.valid_pixels,
                        "worse_pct": round(worse, 2),
                        "grid_layer": grid.pk,
                        "previous_grid_layer": previous.pk,
                    },
                    unit=stat.unit,
                    geom=stat.unit.geom,
                    context={
                        "basis": "网格（面均值）",
                        "parameter": grid.parameter,
                        "medium": Medium.AIR,
                        "margin_pct": margin,
                        "unit_code": stat.unit.code,
                    },
                )
            )
    return findings


def _evidence(finding: _Finding, episode: _Episode) -> dict:
    """The lead's evidence after this episode's findings: the fixed context plus every finding so far."""
    ctx = finding.context
    if finding.rule == "exceedance":
        days = {d["date"]: d for d in episode.evidence.get("exceedances", [])}
        days.update({f.record["date"]: f.record for f in episode.new})
        rows = [days[k] for k in sorted(days)]
        values = [d["value"] for d in rows]
        worst = min(values) if ctx["higher_is_better"] else max(values)
        extra = {"exceedances": rows, "days": len(rows), "worst": worst}
    else:
        found = {tuple(d["period"]): d for d in episode.evidence.get("findings", [])}
        found.update({tuple(f.record["period"]): f.record for f in episode.new})
        rows = [found[k] for k in sorted(found)]
        worst_row = max(rows, key=lambda r: r["worse_pct"])
        extra = {
            "comparison": "year_on_year",
            "findings": rows,
            "days": (episode.last - episode.first).days + 1,
            # The worst comparison of the episode stands for it (title and reason).
            **{k: worst_row[k] for k in ("previous_period", "mean", "previous_mean", "samples", "previous_samples")},
            "worse_pct": worst_row["worse_pct"],
            "worst": worst_row["worse_pct"],
        }
    return {
        "rule": finding.rule,
        "episode": finding.episode,
        **ctx,
        "period": [episode.first.isoformat(), episode.last.isoformat()],
        "first_day": episode.first.isoformat(),
        "last_day": episode.last.isoformat(),
        **extra,
    }


def _title_reason(finding: _Finding, ev: dict, unit: ControlUnit) -> tuple[str, str]:
    p, first, last = ev["parameter"], ev["first_day"], ev["last_day"]
    if finding.rule == "exceedance":
        title = f"{ev['station_name']} {p} 超标 {ev['days']} 天（{first}至{last}）"
        reason = (
            f"重点管控单元 {unit.code} 内环境质量监测站点 {ev['station']} 的 {p} 在 {first} 至 {last} 的超标过程中有 "
            f"{ev['days']} 天超过 {ev['standard']} {ev['grade']} 类/级限值 {ev['limit']} {ev['unit']}，"
            f"最差 {ev['worst']} {ev['unit']}。"
        )
        return title, reason
    verb = "下降" if p in standards.HIGHER_IS_BETTER and ev["medium"] == Medium.WATER else "上升"
    worst = max(ev["findings"], key=lambda r: r["worse_pct"])
    title = f"{unit.name} {p} 同比{verb} {worst['worse_pct']:.1f}%（{first}至{last}）"
    reason = (
        f"一般管控单元 {unit.code} 的 {p} {ev['basis']}均值 {worst['mean']:.3g}（{worst['period'][0]}至"
        f"{worst['period'][1]}）比去年同期 {worst['previous_mean']:.3g}（{worst['previous_period'][0]}至"
        f"{worst['previous_period'][1]}）差 {worst['worse_pct']:.1f}%，超过判定幅度 {ev['margin_pct']:g}%，"
        f"环境质量同比明显下降（本过程 {len(ev['findings'])} 次判定）。"
    )
    return title, reason


def _detected_at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59)))


def _episodes_apply(
    *, plan: ZoningPlan, findings: list[_Finding], gaps: dict[str, int], write: bool, report: EvaluationReport
) -> None:
    """Group the new findings into episodes and raise or extend one lead per episode."""
    known = set(
        LeadDetection.objects.filter(source_key__in=[f.key for f in findings]).values_list("source_key", flat=True)
    )
    new = [f for f in findings if f.key not in known]
    if not new:
        return
    by_episode: dict[str, list[_Finding]] = defaultdict(list)
    for f in new:
        by_episode[f.episode].append(f)
    latest: dict[str, Lead] = {}
    for lead in Lead.objects.filter(
        plan=plan, source=LeadSource.AMBIENT, evidence__episode__in=list(by_episode)
    ).order_by("id"):
        latest[lead.evidence["episode"]] = lead
    for name in sorted(by_episode):
        last_lead = latest.get(name)
        current: _Episode | None = None
        if last_lead is not None and last_lead.evidence.get("first_day"):
            current = _Episode(
                lead_id=last_lead.pk,
                is_open=last_lead.status in LEAD_OPEN_STATUSES,
                first=date.fromisoformat(last_lead.evidence["first_day"]),
                last=date.fromisoformat(last_lead.evidence["last_day"]),
                evidence=last_lead.evidence,
            )
        touched: list[_Episode] = []
        gap = gaps[by_episode[name][0].context["medium"]]
        for f in sorted(by_episode[name], key=lambda f: (f.start, f.end)):
            joins = (
                current is not None
                and current.is_open
                and (f.start - current.last).days <= gap + 1
                and (current.first - f.end).days <= gap + 1
            )
            if current is None or not joins:
                current = _Episode(lead_id=None, is_open=True, first=f.start, last=f.end, evidence={})
            current.first, current.last = min(current.first, f.start), max(current.last, f.end)
            current.new.append(f)
            if not any(t is current for t in touched):
                touched.append(current)
        for ep in touched:
            _episode_write(plan=plan, episode=ep, write=write, report=report)


def _episode_write(*, plan: ZoningPlan, episode: _Episode, write: bool, report: EvaluationReport) -> None:
    first = episode.new[0]
    unit = first.unit
    evidence = _evidence(first, episode)
    title, reason = _title_reason(first, evidence, unit)
    action = {
        "action": "extend" if episode.lead_id else "raise",
        "rule": first.rule,
        "episode": first.episode,
        "lead": episode.lead_id,
        "findings": len(episode.new),
        "period": evidence["period"],
        "title": title[:200],
    }
    report.actions.append(action)
    if first.rule == "exceedance":
        report.exceedance_leads += 1
    else:
        report.decline_leads += 1
    detections = [(f.key, _detected_at(f.end), f.record) for f in episode.new]
    if episode.lead_id is not None:
        if write and lead_episode_extend(
            lead_id=episode.lead_id, detections=detections, title=title, reason=reason, evidence=evidence
        ):
            report.extended += 1
        elif not write:
            report.extended += 1
        return
    report.created += 1
    if not write:
        return
    result = lead_raise(
        source=LeadSource.AMBIENT,
        source_key=detections[0][0],
        plan=plan,
        unit=unit,
        geom=first.geom,
        title=title[:200],
        reason=reason,
        evidence=evidence,
        detected_at=detections[0][1],
    )
    action["lead"] = result.lead.pk
    if len(detections) > 1:
        lead_episode_extend(
            lead_id=result.lead.pk, detections=detections[1:], title=title, reason=reason, evidence=evidence
        )


def monitoring_evaluate(
    *,
    plan: ZoningPlan,
    period_end: date,
    period_days: int | None = None,
    decline_period_days: int | None = None,
    margin_pct: float | None = None,
    dry_run: bool = False,
) -> EvaluationReport:
    """Exceedance episodes (stations in key units) and year-on-year declines (general units) up to `period_end`.

    Exceedances: every day of the `period_days` days ending on `period_end` (late data is
    caught up). Declines: the `decline_period_days` days ending on `period_end` (a season by
    default) against the same days a year before, only when both periods are complete
    enough (`MONITORING_MIN_VALID_DAYS_PER_30`); the report says per station when it could
    not compare. Only a plan in force raises leads; `dry_run=True` writes nothing and reports
    what would be raised (on any plan). Safe to re-run: a recorded finding changes nothing.
    """
    days = period_days or settings.MONITORING_PERIOD_DAYS
    decline_days = decline_period_days or settings.MONITORING_DECLINE_PERIOD_DAYS
    for n in (days, decline_days):
        if n < 1 or n > 366:
            raise ServiceError(_("A period must be 1 to 366 days long, not %(days)d.") % {"days": n}, code="bad_period")
    if margin_pct is not None and margin_pct < 0:
        raise ServiceError(_("The decline margin cannot be negative."), code="bad_margin")
    in_force = plan_in_force_check(plan=plan, purpose=_("Monitoring evaluation"), dry_run=dry_run)
    write = in_force and not dry_run
    rules = ScanRuleSet.objects.filter(plan=plan).first() or ScanRuleSet(plan=plan)
    # Daily air data: the plan's gap or the setting; water is sampled (monthly, or every ten
    # days), so two failing samples in a row are one episode whatever the days between.
    gaps: dict[str, int] = {
        Medium.AIR: rules.episode_gap_days
        if rules.episode_gap_days is not None
        else settings.MONITORING_EPISODE_GAP_DAYS,
        Medium.WATER: settings.MONITORING_WATER_EPISODE_GAP_DAYS,
    }
    start = period_end - timedelta(days=days - 1)
    decline = (period_end - timedelta(days=decline_days - 1), period_end)
    previous = (_year_before(decline[0]), _year_before(period_end))
    report = EvaluationReport(
        plan=plan.code,
        period=(start, period_end),
        decline_period=decline,
        previous_period=previous,
        dry_run=not write,
        required_valid_days=_required_days(decline_days),
    )
    findings = _exceedance_findings(plan, start, period_end, report)
    findings += _station_decline_findings(plan, (decline, previous), rules, margin_pct, report)
    findings += _grid_decline_findings(plan, start, period_end, rules, margin_pct, report)
    with transaction.atomic():
        _episodes_apply(plan=plan, findings=findings, gaps=gaps, write=write, report=report)
    return report


def monitoring_evaluate_all(*, today: date | None = None) -> int:
    """The periodic job: the period ending yesterday, for every plan in force; returns new leads."""
    period_end = (today or timezone.localdate()) - timedelta(days=1)
    created = 0
    for plan in plans_in_force().filter(units__isnull=False).distinct():
        created += monitoring_evaluate(plan=plan, period_end=period_end).created
    return created
