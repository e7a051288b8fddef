"""Queries that read change layers, monitoring data and the leads the scans raised."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance, Transform
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from supervision.cases.models import EnforcementTarget, Lead
from supervision.errors import NotFound
from supervision.zoning.models import ControlUnit, ZoningPlan
from supervision.zoning.selectors import plan_bounds_lonlat  # noqa: F401  (the one rule, used by layers)

from .models import ChangeLayer, MonitoringStation


def layer_get(*, layer_id: int) -> ChangeLayer:
    try:
        return ChangeLayer.objects.select_related("plan").get(pk=layer_id)
    except ChangeLayer.DoesNotExist:
        raise NotFound(_("No change layer #%(id)s.") % {"id": layer_id}, code="not_found") from None


def layers_list(*, plan_code: str | None = None) -> QuerySet[ChangeLayer]:
    qs = ChangeLayer.objects.select_related("plan")
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    return qs


def _storage_is_geographic() -> bool:
    from django.contrib.gis.gdal import SpatialReference

    return SpatialReference(settings.STORAGE_SRID).geographic


def units_in_bbox(*, plan: ZoningPlan, bbox: tuple[float, float, float, float], unit_classes: list[str]) -> QuerySet:
    """Units of these classes whose box meets a bbox given in STORAGE_SRID (rows without the outline).

    Box against box (the index alone): a unit that only comes near is filtered again by the scan.
    """
    box = Polygon.from_bbox(bbox)
    box.srid = settings.STORAGE_SRID
    return ControlUnit.objects.filter(plan=plan, unit_class__in=unit_classes, geom__bboverlaps=box).only(
        "id", "plan_id", "unit_class", "code", "name", "division_id"
    )


def targets_nearest(
    *,
    geoms: list[GEOSGeometry | str],
    max_distance_m: float,
    within: tuple[float, float, float, float] | None = None,
) -> list[tuple[int, str, str, float] | None]:
    """`target_nearest` for many geometries in ONE query: (id, name, credit code, metres) or None each.

    A geometry is a GEOS geometry or hex EWKB in STORAGE_SRID (a scan's shapely output).
    `within` (a STORAGE_SRID box holding every geometry) first asks whether any target
    lies within `max_distance_m` of the box at all (one index probe), and skips the
    per-geometry search when none does.
    A LATERAL subquery per geometry: the bbox pre-filter of `target_nearest`, the spatial
    index's KNN order (`<->`) for the first candidates, then the same distance in metres
    (ST_DistanceSphere on a geographic STORAGE_SRID) and id to choose, as one lead at a time would.
    """
    if not geoms:
        return []
    from django.db import connection

    if connection.vendor != "postgresql":
        out: list[tuple[int, str, str, float] | None] = []
        for g in geoms:
            hit = target_nearest(geom=GEOSGeometry(g) if isinstance(g, str) else g, max_distance_m=max_distance_m)
            out.append((hit[0].pk, hit[0].name, hit[0].credit_code, hit[1]) if hit else None)
        return out
    geographic = _storage_is_geographic()
    if within is not None and not _targets_near_box(within, max_distance_m, geographic):
        return [None] * len(geoms)
    ewkbs = [
        g
        if isinstance(g, str)
        else (g if g.srid == settings.STORAGE_SRID else g.transform(settings.STORAGE_SRID, clone=True)).hexewkb.decode()
        for g in geoms
    ]
    if geographic:
        # degrees of latitude, and of longitude at the geometry's latitude farthest from
        # the equator (computed in SQL: reading extents through GEOS costs more than the query)
        dlat = float(max_distance_m / 111_000.0 * 1.05)
        expand = (
            f"ST_Expand(g.geom, {dlat!r} / GREATEST(COS(RADIANS(GREATEST(ABS(ST_YMin(g.geom)), "
            f"ABS(ST_YMax(g.geom))))), 0.05), {dlat!r})"
        )
    else:
        expand = f"ST_Expand(g.geom, {float(max_distance_m)!r})"
    distance = "ST_DistanceSphere(t.location, s.geom)" if geographic else "ST_Distance(t.location, s.geom)"
    table = EnforcementTarget._meta.db_table
    with connection.cursor() as cur:
        cur.cursor.execute(  # %b: arrays sent binary; the text format would scan every hex geometry for quoting
            f"""WITH g AS (
                    SELECT u.i, u.ewkb::geometry AS geom
                    FROM unnest(%b::int[], %b::text[]) AS u(i, ewkb)
                ), s AS (SELECT g.i, g.geom, {expand} AS box FROM g)
                SELECT s.i, n.id, n.name, n.credit_code, n.d
                FROM s CROSS JOIN LATERAL (
                    SELECT c.id, c.name, c.credit_code, c.d FROM (
                        SELECT t.id, t.name, t.credit_code, {distance} AS d
                        FROM {table} AS t
                        WHERE t.location && s.box
                        ORDER BY t.location <-> s.geom
                        LIMIT 20
                    ) AS c
                    ORDER BY c.d, c.id
                    LIMIT 1
                ) AS n
                WHERE n.d <= %s""",
            [list(range(len(geoms))), ewkbs, max_distance_m],
        )
        found = {i: (tid, name, code, float(d)) for i, tid, name, code, d in cur.fetchall()}
    return [found.get(i) for i in range(len(geoms))]


def _targets_near_box(box: tuple[float, float, float, float], max_distance_m: float, geographic: bool) -> bool:
    """Whether any enforcement target lies in the box grown by `max_distance_m` (a superset, never less)."""
    x0, y0, x1, y1 = box
    if geographic:  # degrees: of latitude, and of longitude at the box's latitude farthest from the equator
        dlat = max_distance_m / 111_000.0 * 1.05
        dlon = dlat / max(math.cos(math.radians(min(89.0, max(abs(y0), abs(y1)) + dlat))), 0.05)
    else:
        dlat = dlon = max_distance_m
    grown = Polygon.from_bbox((x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat))
    grown.srid = settings.STORAGE_SRID
    return EnforcementTarget.objects.filter(location__bboverlaps=grown).exists()


def target_nearest(*, geom: GEOSGeometry, max_distance_m: float) -> tuple[EnforcementTarget, float] | None:
    """The enforcement target whose location is nearest to `geom`, if within max_distance_m metres.

    A bbox pre-filter (spatial index) and then the distance in metres in SQL: on a
    geographic STORAGE_SRID Django uses ST_DistanceSphere (PostGIS) or the geodesic
    ST_Distance (SpatiaLite); both agree well below a metre at 200 m.
    """
    if geom.srid != settings.STORAGE_SRID:
        geom = geom.transform(settings.STORAGE_SRID, clone=True)
    minx, miny, maxx, maxy = geom.extent
    if _storage_is_geographic():
        dlat = max_distance_m / 111_000.0 * 1.05
        dlon = dlat / max(math.cos(math.radians(max(abs(miny), abs(maxy)))), 0.05)
    else:
        dlat = dlon = max_distance_m
    box = Polygon.from_bbox((minx - dlon, miny - dlat, maxx + dlon, maxy + dlat))
    box.srid = settings.STORAGE_SRID
    candidates = (
        EnforcementTarget.objects.filter(location__intersects=box)
        .annotate(distance=Distance("location", geom))
        .order_by("distance", "id")
    )
    for target in candidates[:20]:
        d: Any = target.distance  # a Distance (PostGIS) or plain metres
        metres = float(getattr(d, "m", d) or 0.0)
        if metres <= max_distance_m:
            return target, metres
        break
    return None


def leads_filtered(
    *,
    plan_code: str | None = None,
    unit_code: str | None = None,
    change_class: int | None = None,
    source: str | None = None,
    status: str | None = None,
    bbox: GEOSGeometry | None = None,
) -> QuerySet[Lead]:
    """Leads with their unit and plan, geometry also in API_SRID (`geom_api`)."""
    qs = Lead.objects.select_related("plan", "unit", "division").annotate(geom_api=Transform("geom", settings.API_SRID))
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    if unit_code:
        qs = qs.filter(unit__code=unit_code)
    if change_class is not None:
        qs = qs.filter(change_class=change_class)
    if source:
        qs = qs.filter(source=source)
    if status:
        qs = qs.filter(status=status)
    if bbox is not None:
        qs = qs.filter(geom__intersects=bbox)
    return qs.order_by("-detected_at", "-id")


def stations_in_units(*, plan: ZoningPlan, unit_class: str) -> list[tuple[MonitoringStation, ControlUnit]]:
    """Each station lying in a unit of this class, with that unit (first by code on a shared edge).

    Two queries whatever the number of stations: the unit is a correlated subquery.
    """
    unit_ids = ControlUnit.objects.filter(
        plan=plan, unit_class=unit_class, geom__intersects=OuterRef("location")
    ).order_by("code")
    stations = list(
        MonitoringStation.objects.annotate(unit_id=Subquery(unit_ids.values("pk")[:1]))
        .filter(unit_id__isnull=False)
        .order_by("code")
    )
    units = ControlUnit.objects.select_related("division").in_bulk({s.unit_id for s in stations})
    return [(s, units[s.unit_id]) for s in stations]
