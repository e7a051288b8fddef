"""Queries that read zoning data: the Annex 1 summary and spatial look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.gis.db.models.functions import Area, Intersection, Length, Transform
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db.models import Count, Q, Sum

from .choices import UnitClass
from .models import AdministrativeDivision, ControlUnit, Overlay, ZoningPlan

SUMMARY_COLUMNS = [
    "district",
    "adcode",
    "priority_units",
    "priority_area_pct",
    "key_units",
    "key_area_pct",
    "general_units",
    "general_area_pct",
    "area_km2",
]
CITY_ROW_NAME = "全市"


def _pct(part: float, whole: float) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(repr(part)) * 100 / Decimal(repr(whole))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _row(name: str, adcode: str, by_class: dict[str, tuple[int, float]]) -> dict:
    total = sum(area for _, area in by_class.values())
    row: dict = {"district": name, "adcode": adcode}
    for unit_class in UnitClass.values:
        count, area = by_class.get(unit_class, (0, 0.0))
        row[f"{unit_class}_units"] = count
        row[f"{unit_class}_area_pct"] = _pct(area, total)
    row["area_km2"] = (Decimal(repr(total)) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return row


def zoning_summary(*, plan: ZoningPlan) -> list[dict]:
    """Annex 1 computed from geometry: one row per district (by adcode), then 全市.

    Counts and areas are aggregated in SQL; shares are rounded half-up to 2 decimals.
    """
    rows = (
        ControlUnit.objects.filter(plan=plan)
        .values("division__adcode", "division__name", "unit_class")
        .annotate(n=Count("id"), area=Sum("area_m2"))
        .order_by("division__adcode")
    )
    per_division: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}
    city: dict[str, tuple[int, float]] = {}
    for r in rows:
        key = (r["division__adcode"], r["division__name"])
        per_division.setdefault(key, {})[r["unit_class"]] = (r["n"], r["area"] or 0.0)
        n, area = city.get(r["unit_class"], (0, 0.0))
        city[r["unit_class"]] = (n + r["n"], area + (r["area"] or 0.0))
    out = [_row(name, adcode, by_class) for (adcode, name), by_class in sorted(per_division.items())]
    out.append(_row(CITY_ROW_NAME, plan.region_adcode, city))
    return out


@dataclass(frozen=True)
class UnitOverlap:
    unit: ControlUnit
    overlap_m2: float
    overlap_m: float
    share: float


@dataclass(frozen=True)
class OverlayOverlap:
    overlay: Overlay
    overlap_m2: float


@dataclass(frozen=True)
class LookupResult:
    geometry_type: str
    site_area_m2: float
    site_length_m: float
    units: list[UnitOverlap]
    overlays: list[OverlayOverlap]


def point_in_storage(*, lon: float, lat: float, srid: int | None = None) -> Point:
    point = Point(lon, lat, srid=srid or settings.API_SRID)
    if point.srid != settings.STORAGE_SRID:
        point.transform(settings.STORAGE_SRID)
    return point


def units_at_point(*, plan: ZoningPlan, point: Point):
    """Units containing the point; a point on a shared boundary belongs to both."""
    return ControlUnit.objects.filter(plan=plan, geom__intersects=point).select_related("division").order_by("code")


def geometry_lookup(*, plan: ZoningPlan, geometry: GEOSGeometry) -> LookupResult:
    """Every unit and overlay a site touches, with the overlap in m² (and m for lines) and its share.

    Share is the part of the site inside the unit: by area for polygons, by length for
    lines; a point shares itself equally among the units it touches (it can only touch
    several when it lies on a shared boundary).
    """
    if geometry.srid != settings.STORAGE_SRID:
        geometry = geometry.transform(settings.STORAGE_SRID, clone=True)
    dim = geometry.dims
    overlap_geom = Transform(Intersection("geom", geometry), settings.AREA_SRID)
    units = ControlUnit.objects.filter(plan=plan, geom__intersects=geometry).select_related("division").order_by("code")
    if dim == 2:
        units = units.annotate(overlap=Area(overlap_geom))
    elif dim == 1:
        units = units.annotate(overlap=Length(overlap_geom))
    units = list(units)
    site_area = site_length = 0.0
    geometry_area = geometry.transform(settings.AREA_SRID, clone=True)
    if dim == 2:
        site_area = geometry_area.area
    elif dim == 1:
        site_length = geometry_area.length
    results = []
    for unit in units:
        value = _measure(getattr(unit, "overlap", 0.0))
        if dim == 2:
            results.append(UnitOverlap(unit, value, 0.0, value / site_area if site_area else 0.0))
        elif dim == 1:
            results.append(UnitOverlap(unit, 0.0, value, value / site_length if site_length else 0.0))
        else:
            results.append(UnitOverlap(unit, 0.0, 0.0, 1.0 / len(units)))
    overlays = [
        OverlayOverlap(o, _measure(o.overlap) if dim == 2 else 0.0)
        for o in Overlay.objects.filter(plan=plan, geom__intersects=geometry)
        .annotate(overlap=Area(overlap_geom))
        .order_by("kind", "code")
    ]
    return LookupResult(geometry.geom_type, site_area, site_length, results, overlays)


def _measure(value) -> float:
    """Area/Distance measure objects or plain numbers → float in m² / m."""
    if value is None:
        return 0.0
    for attr in ("sq_m", "m"):
        if hasattr(value, attr):
            return float(getattr(value, attr))
    return float(value)


def plans_visible():
    return ZoningPlan.objects.annotate(unit_count=Count("units")).order_by("code")


def units_filtered(*, plan_code: str | None = None) -> "QuerySet[ControlUnit]":  # noqa: F821
    qs = ControlUnit.objects.select_related("plan", "division")
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    return qs


def divisions_of_plan(*, plan: ZoningPlan):
    return AdministrativeDivision.objects.filter(Q(units__plan=plan)).distinct().order_by("adcode")
