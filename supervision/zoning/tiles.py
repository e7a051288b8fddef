"""Mapbox vector tiles made by PostGIS (ST_AsMVT) for units, overlays, leads and targets.

Geometry is simplified for the zoom before it is projected (tolerance about one screen pixel),
attributes are trimmed to what a map style and a click need, and leads are clustered on a
grid below CLUSTER_BELOW_ZOOM (one point per cell, with a `count`). Leads and targets are
limited by the same scoping selectors as the API (`leads_for`, `targets_for`), written into
the statement as a subquery.

Units and overlays change only through imports, which move the plan's `content_version` on;
their ETag is that version, so a revalidation is answered (304) without touching PostGIS, and
their tile bytes are cached under a key holding the version (old entries simply age out).

Low zooms draw precomputed shapes (`TileShape`, built once per content version by
`tile_shapes_build`): in web mercator, simplified to a pixel of the band's deepest zoom, and
for the units of the first band dissolved by district and class. Simplifying and projecting
45,000 detailed units on every request is what made a national zoom-5 tile take most of a
second; the bands make it a read of a few hundred indexed, already-small shapes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from supervision.errors import NotFound, ServiceError

from .models import TileShape, ZoningPlan

TILE_EXTENT = 4096
TILE_BUFFER = 64
MAX_ZOOM = 22
CLUSTER_BELOW_ZOOM = 12
# Cells per tile side when clustering: 8 × 8 cells, i.e. 32 px cells on a 256 px tile.
CLUSTER_CELLS = 8
WEB_MERCATOR_SRID = 3857
# Half the width of the web-mercator world, in metres.
MERCATOR_HALF = 20037508.342789244
# Units get their codes, then names, from these zooms on: further out a unit is a few pixels,
# labels are unreadable, and 45,000 unique codes would be most of a national tile's bytes
# (a click asks the server for the unit at the point instead).
UNIT_CODES_FROM_ZOOM = 8
UNIT_NAMES_FROM_ZOOM = 9
CACHE_SECONDS = 24 * 3600

# Bands of precomputed shapes: (deepest zoom of the band, how units are dissolved). Band 0 serves
# zooms 0-5 with one shape per district in the colour of the class covering most of it (a unit is
# a pixel or less there: a national plan would otherwise be 45,000 specks a tile, half a megabyte);
# band 1 zoom 6, dissolved by district and class; bands 2 and 3 zooms 7-8 and 9-10, one shape per
# unit. Deeper tiles simplify live (a tile there holds few units, drawn in detail).
DISSOLVE_DISTRICT = "district"
DISSOLVE_CLASS = "class"
TILE_BANDS: tuple[tuple[int, str | None], ...] = ((5, DISSOLVE_DISTRICT), (6, DISSOLVE_CLASS), (8, None), (10, None))

LAYERS_PLAN = ("units", "overlays")
LAYERS_SCOPED = ("leads", "targets")
LAYERS = LAYERS_PLAN + LAYERS_SCOPED


class TileError(ServiceError):
    """A tile request that cannot be answered (bad coordinates, missing plan)."""


@dataclass(frozen=True)
class TileAddress:
    layer: str
    z: int
    x: int
    y: int


def tile_address(*, layer: str, z: int, x: int, y: int) -> TileAddress:
    if layer not in LAYERS:
        raise NotFound(
            _("No tile layer %(layer)s (layers: %(layers)s).") % {"layer": layer, "layers": ", ".join(LAYERS)},
            code="tile_layer_not_found",
        )
    if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise TileError(
            _("Tile %(z)s/%(x)s/%(y)s does not exist (zoom 0-%(max)s, x and y below 2^zoom).")
            % {"z": z, "x": x, "y": y, "max": MAX_ZOOM},
            code="invalid_tile",
        )
    return TileAddress(layer, z, x, y)


def _tolerance_degrees(z: int) -> float:
    """About one pixel of a 256 px tile at zoom z, in degrees of longitude."""
    return 360.0 / (2**z * 256)


def _bounds_sql() -> str:
    # The tile envelope with its buffer, in web mercator and in storage coordinates.
    return (
        "WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env, "
        f"ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {TILE_BUFFER / TILE_EXTENT}), "
        f"{int(settings.STORAGE_SRID)}) AS box) "
    )


def _mvt_geom(expr: str) -> str:
    return f"ST_AsMVTGeom(ST_Transform({expr}, {WEB_MERCATOR_SRID}), b.env, {TILE_EXTENT}, {TILE_BUFFER}, true)"


def _run(sql: str, params: dict) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def _pixel_m(z: int) -> float:
    """One pixel of a 256 px tile at zoom z, in web-mercator metres."""
    return 2 * MERCATOR_HALF / (256 * 2**z)


def tile_band(z: int) -> int | None:
    """The band of precomputed shapes that draws zoom z, or None (simplified live)."""
    for band, (deepest, _dissolve) in enumerate(TILE_BANDS):
        if z <= deepest:
            return band
    return None


def tile_shapes_build(*, plan: ZoningPlan) -> int:
    """(Re)build the plan's low-zoom shapes for its current content version; returns the rows written.

    Serialised per plan by an advisory lock, and a no-op when the version is already built, so
    concurrent first requests, the seed command and the task may all call it.
    """
    version = ZoningPlan.objects.values_list("content_version", flat=True).get(pk=plan.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('zoning_tileshape'), %s)", [plan.pk])
        if TileShape.objects.filter(plan=plan, content_version=version).exists():
            return 0
        cursor.execute("DELETE FROM zoning_tileshape WHERE plan_id = %s", [plan.pk])
        params = {"plan": plan.pk, "v": version}
        written = 0
        for band, (deepest, dissolve) in enumerate(TILE_BANDS):
            params |= {"band": band, "tol": _pixel_m(deepest), "grid": _pixel_m(deepest) / 4}
            # Fixed-precision unions (GEOS >= 3.9): robust where snapped neighbours touch.
            by_class = (
                "SELECT u.division_id, u.unit_class, sum(u.area_m2) AS area,"
                f"  ST_Union(ST_Transform(u.geom, {WEB_MERCATOR_SRID}), %(grid)s) AS g"
                " FROM zoning_controlunit u WHERE u.plan_id = %(plan)s GROUP BY u.division_id, u.unit_class"
            )
            if dissolve == DISSOLVE_CLASS:
                units = (
                    "SELECT c.unit_class, '' AS code, '' AS name, ST_SimplifyPreserveTopology(c.g, %(tol)s) AS g"
                    f" FROM ({by_class}) AS c"
                )
            elif dissolve == DISSOLVE_DISTRICT:
                units = (
                    "SELECT (array_agg(c.unit_class ORDER BY c.area DESC, c.unit_class))[1] AS unit_class,"
                    "  '' AS code, '' AS name, ST_SimplifyPreserveTopology(ST_Union(c.g, %(grid)s), %(tol)s) AS g"
                    f" FROM ({by_class}) AS c GROUP BY c.division_id"
                )
            else:
                units = (
                    "SELECT u.unit_class, u.code, u.name,"
                    f"  ST_SimplifyPreserveTopology(ST_Transform(u.geom, {WEB_MERCATOR_SRID}), %(tol)s) AS g"
                    " FROM zoning_controlunit u WHERE u.plan_id = %(plan)s"
                )
            overlays = (
                "SELECT o.code, o.name, o.kind,"
                f"  ST_SimplifyPreserveTopology(ST_Transform(o.geom, {WEB_MERCATOR_SRID}), %(tol)s) AS g"
                " FROM zoning_overlay o WHERE o.plan_id = %(plan)s"
            )
            cursor.execute(
                "INSERT INTO zoning_tileshape (plan_id, content_version, layer, band, unit_class, code, name, kind, geom)"
                " SELECT %(plan)s, %(v)s, 'units', %(band)s, s.unit_class, s.code, s.name, '', s.g"
                f" FROM ({units}) AS s WHERE NOT ST_IsEmpty(s.g)",
                params,
            )
            written += cursor.rowcount
            cursor.execute(
                "INSERT INTO zoning_tileshape (plan_id, content_version, layer, band, unit_class, code, name, kind, geom)"
                " SELECT %(plan)s, %(v)s, 'overlays', %(band)s, '', s.code, s.name, s.kind, s.g"
                f" FROM ({overlays}) AS s WHERE NOT ST_IsEmpty(s.g)",
                params,
            )
            written += cursor.rowcount
        # The district outlines every map draws for context: the union of each district's units,
        # generalised by DISTRICT_OUTLINE_TOLERANCE_M in the equal-area SRID.
        from .selectors import DISTRICT_OUTLINE_TOLERANCE_M

        cursor.execute(
            "INSERT INTO zoning_tileshape (plan_id, content_version, layer, band, unit_class, code, name, kind, geom)"
            " SELECT %(plan)s, %(v)s, 'districts', 0, '', d.adcode, d.name, '', s.g FROM ("
            "  SELECT u.division_id,"
            f"   ST_Transform(ST_SimplifyPreserveTopology(ST_Transform(ST_Union(u.geom), {int(settings.AREA_SRID)}),"
            f"    %(outline)s), {WEB_MERCATOR_SRID}) AS g"
            "  FROM zoning_controlunit u WHERE u.plan_id = %(plan)s GROUP BY u.division_id"
            " ) AS s JOIN zoning_administrativedivision d ON d.id = s.division_id WHERE NOT ST_IsEmpty(s.g)",
            params | {"outline": DISTRICT_OUTLINE_TOLERANCE_M},
        )
        written += cursor.rowcount
    cache.set(_shapes_key(plan.pk, version), True, CACHE_SECONDS)
    return written


def _shapes_key(plan_id: int, version: int) -> str:
    return f"tileshapes:{plan_id}:v{version}"


def tile_shapes_ensure(*, plan: ZoningPlan) -> None:
    """Build the plan's low-zoom shapes unless this content version is known to be built."""
    if not cache.get(_shapes_key(plan.pk, plan.content_version)):
        tile_shapes_build(plan=plan)


def _banded_tile(*, plan: ZoningPlan, address: TileAddress, band: int) -> bytes:
    """A units or overlays tile drawn from the precomputed shapes of a band."""
    if address.layer == "units":
        code = "s.code, " if address.z >= UNIT_CODES_FROM_ZOOM else ""
        name = "s.name, " if address.z >= UNIT_NAMES_FROM_ZOOM else ""
        columns = f"{code}s.unit_class AS class, {name}"
    else:
        columns = "s.code, s.kind, s.name, "
    sql = (
        "WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,"
        f" ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {TILE_BUFFER / TILE_EXTENT}) AS box) "
        f"SELECT ST_AsMVT(t.*, %(layer)s, {TILE_EXTENT}, 'geom') FROM ("
        f"  SELECT {columns}ST_AsMVTGeom(s.geom, b.env, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom"
        "   FROM zoning_tileshape s, b WHERE s.plan_id = %(plan)s AND s.layer = %(layer)s"
        "   AND s.band = %(band)s AND s.content_version = %(v)s AND s.geom && b.box"
        ") AS t WHERE t.geom IS NOT NULL"
    )
    params = {
        "z": address.z,
        "x": address.x,
        "y": address.y,
        "plan": plan.pk,
        "layer": address.layer,
        "band": band,
        "v": plan.content_version,
    }
    return _run(sql, params)


def _coords(address: TileAddress, *, public: bool = False) -> dict:
    tol = _tolerance_degrees(address.z)
    if public:
        # What the public sees is generalised to PUBLIC_GEOMETRY_TOLERANCE_M whatever the zoom
        # (metres to degrees at the equator: an upper bound of the degrees it takes elsewhere).
        tol = max(tol, float(settings.PUBLIC_GEOMETRY_TOLERANCE_M) / 111_320.0)
    return {"z": address.z, "x": address.x, "y": address.y, "tol": tol}


def units_tile(*, plan: ZoningPlan, address: TileAddress, public: bool = False) -> bytes:
    code = "u.code, " if address.z >= UNIT_CODES_FROM_ZOOM else ""
    name = "u.name, " if address.z >= UNIT_NAMES_FROM_ZOOM else ""
    sql = _bounds_sql() + (
        f"SELECT ST_AsMVT(t.*, 'units', {TILE_EXTENT}, 'geom') FROM ("
        f"  SELECT {code}u.unit_class AS class, {name}"
        f"    {_mvt_geom('ST_Simplify(u.geom, %(tol)s, true)')} AS geom"
        "   FROM zoning_controlunit u, b WHERE u.plan_id = %(plan)s AND u.geom && b.box"
        ") AS t WHERE t.geom IS NOT NULL"
    )
    return _run(sql, {**_coords(address, public=public), "plan": plan.pk})


def overlays_tile(*, plan: ZoningPlan, address: TileAddress, public: bool = False) -> bytes:
    sql = _bounds_sql() + (
        f"SELECT ST_AsMVT(t.*, 'overlays', {TILE_EXTENT}, 'geom') FROM ("
        "  SELECT o.code, o.kind, o.name,"
        f"    {_mvt_geom('ST_Simplify(o.geom, %(tol)s, true)')} AS geom"
        "   FROM zoning_overlay o, b WHERE o.plan_id = %(plan)s AND o.geom && b.box"
        ") AS t WHERE t.geom IS NOT NULL"
    )
    return _run(sql, {**_coords(address, public=public), "plan": plan.pk})


def _scope_subquery(queryset) -> tuple[str, dict]:
    """The ids of a scoped queryset as SQL with named parameters (%(s0)s …)."""
    sql, params = queryset.order_by().values("id").query.sql_with_params()
    names = {f"s{i}": value for i, value in enumerate(params)}
    return sql % tuple(f"%({name})s" for name in names), names


def leads_tile(*, leads, address: TileAddress) -> bytes:
    """The leads of a queryset (already scoped by `cases.selectors.leads_for` and filtered) in a tile.

    Below CLUSTER_BELOW_ZOOM one point per grid cell with its `count` and smallest `id`;
    from there single leads with `id`, `status`, `source` and `count` 1.
    """
    scope, params = _scope_subquery(leads)
    params |= _coords(address)
    if address.z < CLUSTER_BELOW_ZOOM:
        params["cell"] = 2 * MERCATOR_HALF / 2**address.z / CLUSTER_CELLS
        sql = _bounds_sql() + (
            f"SELECT ST_AsMVT(t.*, 'leads', {TILE_EXTENT}, 'geom') FROM ("
            "  SELECT count(*) AS count, min(s.id) AS id,"
            f"    ST_AsMVTGeom(ST_Centroid(ST_Collect(s.p)), b.env, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom"
            "   FROM (SELECT l.id,"
            f"          ST_Transform(ST_PointOnSurface(l.geom), {WEB_MERCATOR_SRID}) AS p"
            f"         FROM cases_lead l, b WHERE l.geom && b.box AND l.id IN ({scope})) AS s, b"
            "   GROUP BY ST_SnapToGrid(s.p, %(cell)s), b.env"
            ") AS t WHERE t.geom IS NOT NULL"
        )
    else:
        # A point per lead (on its surface): the map draws a marker; the patch itself is on the lead's page.
        sql = _bounds_sql() + (
            f"SELECT ST_AsMVT(t.*, 'leads', {TILE_EXTENT}, 'geom') FROM ("
            "  SELECT l.id, l.status, l.source, 1 AS count,"
            f"    {_mvt_geom('ST_PointOnSurface(l.geom)')} AS geom"
            f"   FROM cases_lead l, b WHERE l.geom && b.box AND l.id IN ({scope})"
            ") AS t WHERE t.geom IS NOT NULL"
        )
    return _run(sql, params)


def targets_tile(*, targets, address: TileAddress) -> bytes:
    """The enforcement targets of a queryset (scoped by `cases.selectors.targets_for`) in a tile."""
    scope, params = _scope_subquery(targets)
    params |= _coords(address)
    sql = _bounds_sql() + (
        f"SELECT ST_AsMVT(t.*, 'targets', {TILE_EXTENT}, 'geom') FROM ("
        "  SELECT e.id, e.name, e.permit_class,"
        f"    {_mvt_geom('e.location')} AS geom"
        f"   FROM cases_enforcementtarget e, b WHERE e.location && b.box AND e.id IN ({scope})"
        ") AS t WHERE t.geom IS NOT NULL"
    )
    return _run(sql, params)


def plan_tile_etag(*, plan: ZoningPlan, layer: str, public: bool = False) -> str:
    """The ETag of every tile of a plan layer: it changes with the plan's content version."""
    return f'"{layer}-{plan.pk}-v{plan.content_version}{"-public" if public else ""}"'


def _tile_key(*, plan: ZoningPlan, address: TileAddress, public: bool) -> str:
    variant = "public" if public else "full"
    return f"tile:{address.layer}:{plan.pk}:v{plan.content_version}:{variant}:{address.z}/{address.x}/{address.y}"


def plan_tile(*, plan: ZoningPlan, address: TileAddress, public: bool = False) -> bytes:
    """A units or overlays tile, from the cache when this content version was drawn before.

    `public`: the generalised geometry anonymous readers get (PUBLIC_GEOMETRY_TOLERANCE_M).
    """
    key = _tile_key(plan=plan, address=address, public=public)
    content = cache.get(key)
    if content is None:
        band = tile_band(address.z)
        # Mercator metres are ground metres / cos(latitude): halved, they bound the ground up to 60° N.
        if band is not None and (not public or _pixel_m(TILE_BANDS[band][0]) / 2 >= _public_tolerance_m()):
            # Band shapes are generalised to at least a pixel of the band's deepest zoom, which at
            # these zooms is coarser than what the public may see: the same shapes serve both.
            tile_shapes_ensure(plan=plan)
            content = _banded_tile(plan=plan, address=address, band=band)
        else:
            draw = units_tile if address.layer == "units" else overlays_tile
            content = draw(plan=plan, address=address, public=public)
        cache.set(key, content, CACHE_SECONDS)
    return content


def _public_tolerance_m() -> float:
    return float(settings.PUBLIC_GEOMETRY_TOLERANCE_M)


def content_etag(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match holds this ETag (weak or strong, in a list, or *)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


@dataclass(frozen=True)
class SeedReport:
    tiles: int
    empty: int
    seconds: float


SEED_MAX_ZOOM = 12


def tiles_over_bounds(*, bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """The (x, y) of every zoom-z tile meeting a lon/lat box."""
    import math

    n = 2**z
    minx, miny, maxx, maxy = bounds

    def tx(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180) / 360 * n)))

    def ty(lat: float) -> int:
        lat = max(-85.0511, min(85.0511, lat))
        return min(n - 1, max(0, int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)))

    return [(x, y) for x in range(tx(minx), tx(maxx) + 1) for y in range(ty(maxy), ty(miny) + 1)]


def tiles_seed(*, plan: ZoningPlan, max_zoom: int = 8, public: bool = False) -> SeedReport:
    """Draw a plan's units and overlays tiles from zoom 0 to max_zoom over its extent into the tile cache.

    The low-zoom shapes are built first if they are not; tiles already cached are drawn again (the
    cache entry is refreshed). `public`: the variant anonymous readers get (PUBLIC_ZONING).
    """
    import time

    from .selectors import plan_bounds_lonlat

    if not 0 <= max_zoom <= SEED_MAX_ZOOM:
        raise TileError(
            _("max zoom: %(zoom)s is not between 0 and %(max)s.") % {"zoom": max_zoom, "max": SEED_MAX_ZOOM},
            code="invalid_seed_zoom",
        )
    started = time.perf_counter()
    bounds = plan_bounds_lonlat(plan=plan)
    tiles = empty = 0
    if bounds is not None:
        tile_shapes_build(plan=plan)
        for z in range(max_zoom + 1):
            for x, y in tiles_over_bounds(bounds=bounds, z=z):
                for layer in LAYERS_PLAN:
                    address = TileAddress(layer, z, x, y)
                    cache.delete(_tile_key(plan=plan, address=address, public=public))
                    content = plan_tile(plan=plan, address=address, public=public)
                    tiles += 1
                    empty += not content
    return SeedReport(tiles=tiles, empty=empty, seconds=time.perf_counter() - started)
