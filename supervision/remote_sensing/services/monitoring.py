"""Monitoring: stations, readings and gridded layers, and the two rules that raise leads.

* Exceedance (key control units): a station in a key unit whose readings in the period
  fail its standard (GB 3095-2012 grade, daily / max-8h; GB 3838-2002 class objective)
  raises one lead per station, parameter and period, listing the days and values.
* Decline (general control units): the period mean of a station in a general unit, or
  the zonal mean of a gridded layer over a general unit, worse than the previous
  period's by at least the plan's margin (percent) raises one lead per unit/station,
  parameter and period, with both means as evidence.
Both upsert on natural keys through `lead_raise`, so running the job twice adds nothing.
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

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases.choices import LeadSource
from supervision.cases.services.leads import lead_raise
from supervision.errors import ImportRefused, ServiceError
from supervision.zoning.choices import PlanStatus, UnitClass
from supervision.zoning.models import ControlUnit, ZoningPlan

from .. import standards
from ..choices import Averaging, Medium
from ..geo import storage_to_crs
from ..models import GridLayer, MonitoringReading, MonitoringStation, UnitZonalStat
from ..selectors import stations_in_units
from .layers import file_sha256, scan_rules_get

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
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0


@dataclass
class EvaluationReport:
    plan: str
    period: tuple[date, date]
    exceedance_leads: int = 0
    decline_leads: int = 0
    created: int = 0
    notes: list[str] = field(default_factory=list)


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
                code=code, defaults={"name": name, "medium": medium, "location": point, "target_grade": grade}
            )
            report.created += created
            report.updated += not created
    return report


def _default_averaging(medium: str, parameter: str) -> str:
    if medium == Medium.WATER:
        return Averaging.SAMPLE
    return standards.DEFAULT_AIR_AVERAGING.get(parameter, Averaging.DAY)


def readings_import(*, path: str) -> ImportReport:
    """Upsert readings from CSV: station, parameter, date, value[, averaging, unit].

    Parameters are checked against the shipped standards; the whole file is refused on
    any unknown station, parameter, bad date or value.
    """
    header, rows = _read_csv(path)
    cols = _columns(header, _READING_COLUMNS, ("station", "parameter", "date", "value"), path)
    stations = {s.code: s for s in MonitoringStation.objects.all()}
    problems: list[str] = []
    parsed: dict[tuple, tuple] = {}
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
        value = _float(row.get(cols["value"], ""))
        if value is None or value < 0:
            problems.append(f"row {i}, column {cols['value']}: '{row.get(cols['value'])}' is not a non-negative number")
            continue
        averaging = row.get(cols.get("averaging", ""), "") or _default_averaging(station.medium, parameter)
        if averaging not in Averaging.values:
            problems.append(f"row {i}, column {cols['averaging']}: '{averaging}' is not one of {Averaging.values}")
            continue
        key = (station.pk, parameter, day, averaging)
        if key in parsed:
            problems.append(f"row {i}: {station.code} {parameter} {day} {averaging} appears twice")
        parsed[key] = (station, parameter, day, averaging, value, row.get(cols.get("unit", ""), ""))
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(value)s problem(s); nothing was written.") % {"path": path, "value": len(problems)},
            problems=problems,
        )
    report = ImportReport()
    with transaction.atomic():
        for station, parameter, day, averaging, value, unit in parsed.values():
            __, created = MonitoringReading.objects.update_or_create(
                station=station,
                parameter=parameter,
                observed_on=day,
                averaging=averaging,
                defaults={"value": value, "unit": unit},
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


def _air_limit(parameter: str, grade: str, averaging: str) -> standards.Limit | None:
    try:
        return standards.air_limit(parameter, grade, averaging)
    except standards.StandardsError:
        return None


def _worse_pct(parameter: str, medium: str, previous: float, current: float) -> float | None:
    """How much worse the current mean is, in percent of the previous (negative: better)."""
    if previous <= 0:
        return None
    higher_is_better = medium == Medium.WATER and parameter in standards.HIGHER_IS_BETTER
    change = (previous - current) if higher_is_better else (current - previous)
    return change / previous * 100.0


def _exceedances(plan: ZoningPlan, start: date, end: date, report: EvaluationReport) -> None:
    for station, unit in stations_in_units(plan=plan, unit_class=UnitClass.KEY):
        readings = MonitoringReading.objects.filter(station=station, observed_on__range=(start, end)).order_by(
            "parameter", "observed_on"
        )
        failing: dict[str, list] = defaultdict(list)
        limits: dict[str, dict] = {}
        for r in readings:
            if station.medium == Medium.AIR:
                lim = _air_limit(r.parameter, station.target_grade, r.averaging)
                if lim is None or r.value <= lim.limit:
                    continue
                limits[r.parameter] = {
                    "standard": lim.standard,
                    "grade": lim.grade,
                    "limit": lim.limit,
                    "unit": lim.unit,
                    "averaging": lim.averaging,
                }
            else:
                try:
                    klass = standards.water_class(r.parameter, r.value)
                except standards.StandardsError:
                    continue
                if klass <= standards.ROMAN[station.target_grade]:
                    continue
                lims = standards.water_limits(r.parameter)
                target = next(lim for lim in lims if lim.grade == station.target_grade)
                limits[r.parameter] = {
                    "standard": target.standard,
                    "grade": target.grade,
                    "limit": target.limit,
                    "unit": target.unit,
                    "averaging": target.averaging,
                    "higher_is_better": target.higher_is_better,
                }
            failing[r.parameter].append({"date": r.observed_on.isoformat(), "value": r.value})
        for parameter, days in failing.items():
            lim = limits[parameter]
            worst = max(d["value"] for d in days) if not lim.get("higher_is_better") else min(d["value"] for d in days)
            result = lead_raise(
                source=LeadSource.MONITORING,
                source_key=f"mon:exceed:{station.code}:{parameter}:{start}:{end}",
                plan=plan,
                unit=unit,
                geom=station.location,
                title=f"{station.name} {parameter} 超标 {len(days)} 天（{start}至{end}）"[:200],
                reason=(
                    f"重点管控单元 {unit.code} 内监测站点 {station.code} 的 {parameter} 在 {start} 至 {end} 间有 "
                    f"{len(days)} 天超过 {lim['standard']} {lim['grade']} 类/级限值 {lim['limit']} {lim['unit']}，"
                    f"最差 {worst} {lim['unit']}。"
                ),
                evidence={
                    "rule": "exceedance",
                    "station": station.code,
                    "station_name": station.name,
                    "medium": station.medium,
                    "parameter": parameter,
                    "period": [start.isoformat(), end.isoformat()],
                    **lim,
                    "exceedances": days,
                    "worst": worst,
                    "unit_code": unit.code,
                },
                detected_at=timezone.make_aware(datetime.combine(end, time(23, 59))),
            )
            report.exceedance_leads += 1
            report.created += result.created


def _decline_lead(
    *,
    plan,
    unit,
    geom,
    key,
    basis: str,
    parameter: str,
    medium: str,
    current,
    previous,
    periods,
    margin_pct: float,
    report: EvaluationReport,
    extra: dict,
) -> None:
    (start, end), (pstart, pend) = periods
    worse = _worse_pct(parameter, medium, previous["mean"], current["mean"])
    if worse is None or worse < margin_pct:
        return
    result = lead_raise(
        source=LeadSource.MONITORING,
        source_key=key,
        plan=plan,
        unit=unit,
        geom=geom,
        title=f"{unit.name} {parameter} 均值较上期上升 {worse:.1f}%"[:200]
        if parameter not in standards.HIGHER_IS_BETTER
        else f"{unit.name} {parameter} 均值较上期下降 {worse:.1f}%"[:200],
        reason=(
            f"一般管控单元 {unit.code} 的 {parameter} {basis}均值 {current['mean']:.3g}（{start}至{end}）"
            f"比上期 {previous['mean']:.3g}（{pstart}至{pend}）差 {worse:.1f}%，超过判定幅度 {margin_pct:g}%，"
            f"环境质量明显下降。"
        ),
        evidence={
            "rule": "decline",
            "basis": basis,
            "parameter": parameter,
            "medium": medium,
            "period": [start.isoformat(), end.isoformat()],
            "previous_period": [pstart.isoformat(), pend.isoformat()],
            "mean": round(current["mean"], 4),
            "previous_mean": round(previous["mean"], 4),
            "samples": current["n"],
            "previous_samples": previous["n"],
            "worse_pct": round(worse, 2),
            "margin_pct": margin_pct,
            "unit_code": unit.code,
            **extra,
        },
        detected_at=timezone.make_aware(datetime.combine(end, time(23, 59))),
    )
    report.decline_leads += 1
    report.created += result.created


def _station_means(station, start: date, end: date) -> dict[str, dict]:
    rows = (
        MonitoringReading.objects.filter(station=station, observed_on__range=(start, end))
        .values("parameter")
        .annotate(mean=Avg("value"), n=Count("id"))
    )
    return {r["parameter"]: {"mean": r["mean"], "n": r["n"]} for r in rows}


def _declines(plan, periods, margin_pct: float, report: EvaluationReport) -> None:
    (start, end), (pstart, pend) = periods
    for station, unit in stations_in_units(plan=plan, unit_class=UnitClass.GENERAL):
        current, previous = _station_means(station, start, end), _station_means(station, pstart, pend)
        for parameter in sorted(set(current) & set(previous)):
            _decline_lead(
                plan=plan,
                unit=unit,
                geom=station.location,
                key=f"mon:decline:station:{station.code}:{parameter}:{start}:{end}",
                basis=f"站点 {station.code} ",
                parameter=parameter,
                medium=station.medium,
                current=current[parameter],
                previous=previous[parameter],
                periods=periods,
                margin_pct=margin_pct,
                report=report,
                extra={"station": station.code, "station_name": station.name},
            )
    # Gridded layers: the latest grid ending in this period against the one before it.
    for parameter in (
        GridLayer.objects.filter(plan=plan).order_by("parameter").values_list("parameter", flat=True).distinct()
    ):
        current_grid = (
            GridLayer.objects.filter(plan=plan, parameter=parameter, period_end__range=(start, end))
            .order_by("-period_end")
            .first()
        )
        if current_grid is None:
            continue
        previous_grid = (
            GridLayer.objects.filter(plan=plan, parameter=parameter, period_end__lt=current_grid.period_start)
            .order_by("-period_end")
            .first()
        )
        if previous_grid is None:
            report.notes.append(f"{parameter}: grid {current_grid} has no earlier grid to compare with")
            continue
        before = {s.unit_id: s for s in previous_grid.stats.filter(mean__isnull=False)}
        grid_periods = (
            (current_grid.period_start, current_grid.period_end),
            (previous_grid.period_start, previous_grid.period_end),
        )
        for stat in current_grid.stats.filter(mean__isnull=False, unit__unit_class=UnitClass.GENERAL).select_related(
            "unit", "unit__division"
        ):
            prev = before.get(stat.unit_id)
            if prev is None:
                continue
            _decline_lead(
                plan=plan,
                unit=stat.unit,
                geom=stat.unit.geom,
                key=f"mon:decline:grid:{stat.unit.code}:{parameter}:{current_grid.period_start}:{current_grid.period_end}",
                basis="网格（面均值）",
                parameter=parameter,
                medium=Medium.AIR,
                current={"mean": stat.mean, "n": stat.valid_pixels},
                previous={"mean": prev.mean, "n": prev.valid_pixels},
                periods=grid_periods,
                margin_pct=margin_pct,
                report=report,
                extra={"grid_layer": current_grid.pk, "previous_grid_layer": previous_grid.pk},
            )


def monitoring_evaluate(
    *, plan: ZoningPlan, period_end: date, period_days: int | None = None, margin_pct: float | None = None
) -> EvaluationReport:
    """Raise exceedance leads (key units) and decline leads (general units) for one period."""
    days = period_days or settings.MONITORING_PERIOD_DAYS
    if days < 1:
        raise ServiceError(_("period days must be at least 1, got %(days)s.") % {"days": days})
    margin = margin_pct if margin_pct is not None else scan_rules_get(plan=plan).decline_margin_pct
    start = period_end - timedelta(days=days - 1)
    pend = start - timedelta(days=1)
    pstart = pend - timedelta(days=days - 1)
    report = EvaluationReport(plan=plan.code, period=(start, period_end))
    with transaction.atomic():
        _exceedances(plan, start, period_end, report)
        _declines(plan, ((start, period_end), (pstart, pend)), margin, report)
    return report


def monitoring_evaluate_all(*, today: date | None = None) -> int:
    """The periodic job: the period ending yesterday, for every plan that is not superseded."""
    period_end = (today or timezone.localdate()) - timedelta(days=1)
    created = 0
    for plan in ZoningPlan.objects.exclude(status=PlanStatus.SUPERSEDED).filter(units__isnull=False).distinct():
        created += monitoring_evaluate(plan=plan, period_end=period_end).created
    return created
