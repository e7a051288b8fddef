"""OGC API – Features (Part 1 Core + GeoJSON, Part 2 CRS) over the plans' units and overlays.

Every plan gives two collections, `{plan}-units` and `{plan}-overlays`. The feature pages are
built by one written SQL statement each (GeoJSON geometry made by PostGIS, ordered by code),
so a GIS client reading a 45,000-unit plan page by page never makes Python parse a polygon.

CRS: CRS84 (lon/lat, the default) and CGCS2000 (EPSG:4490, the storage CRS). Part 2 says
coordinates follow the CRS's own axis order, and EPSG:4490 is latitude first, so in that CRS
coordinates (and a `bbox` given with `bbox-crs` EPSG:4490) are lat/lon. pygeoapi and GDAL's
OAPIF driver read them so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from supervision.errors import NotFound, ServiceError

from .models import ZoningPlan

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000_SRID = 4490
CGCS2000 = f"http://www.opengis.net/def/crs/EPSG/0/{CGCS2000_SRID}"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Decimal places of degrees in output coordinates: 1e-7° is about 1 cm.
COORDINATE_DIGITS = 7

KIND_UNITS = "units"
KIND_OVERLAYS = "overlays"


@dataclass(frozen=True)
class OutputCrs:
    uri: str
    srid: int
    lat_first: bool


# API_SRID is the lon/lat WGS 84 the rest of the API speaks; CRS84 is its lon/lat form.
SUPPORTED_CRS = {
    CRS84: OutputCrs(CRS84, settings.API_SRID, lat_first=False),
    CGCS2000: OutputCrs(CGCS2000, CGCS2000_SRID, lat_first=True),
}
CRS_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "[ogc:crs84]": CRS84,
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
    "epsg:4490": CGCS2000,
    "[epsg:4490]": CGCS2000,
    "http://www.opengis.net/def/crs/epsg/0/4490": CGCS2000,
}


class OgcError(ServiceError):
    """A bad OGC API request parameter."""


class OgcNotFound(NotFound):
    """An unknown collection or feature."""


def crs_parse(value: str | None, *, param: str) -> OutputCrs:
    if not value:
        return SUPPORTED_CRS[CRS84]
    uri = CRS_ALIASES.get(value.strip().lower())
    if uri is None:
        raise OgcError(
            _("%(param)s: unsupported CRS '%(value)s' (supported: %(supported)s).")
            % {"param": param, "value": value, "supported": ", ".join(SUPPORTED_CRS)},
            code="invalid_crs",
        )
    return SUPPORTED_CRS[uri]


def int_param(value: str | None, *, param: str, default: int, minimum: int, maximum: int | None = None) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise OgcError(
            _("%(param)s: '%(value)s' is not an integer in %(bounds)s.")
            % {"param": param, "value": value, "bounds": bounds},
            code="invalid_parameter",
        )
    return number


def bbox_parse(value: str | None, *, crs: OutputCrs) -> tuple[float, float, float, float] | None:
    """`bbox` as (min lon, min lat, max lon, max lat), read in the axis order of bbox-crs."""
    if not value:
        return None
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:  # a 3-D box: drop the heights
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise OgcError(
            _("bbox: '%(value)s' is not four comma-separated numbers.") % {"value": value}, code="invalid_bbox"
        )
    if crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    min_lon, min_lat, max_lon, max_lat = numbers
    if min_lat > max_lat or not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise OgcError(_("bbox: '%(value)s' has impossible latitudes.") % {"value": value}, code="invalid_bbox")
    return min_lon, min_lat, max_lon, max_lat


def collection_id(plan_code: str, kind: str) -> str:
    return f"{plan_code}-{kind}"


def collection_split(collection: str, *, plans) -> tuple[ZoningPlan, str]:
    """`{plan}-units` / `{plan}-overlays` → (plan, kind) among `plans` (what the reader may see), or 404."""
    for kind in (KIND_UNITS, KIND_OVERLAYS):
        suffix = f"-{kind}"
        if collection.endswith(suffix):
            plan = plans.filter(code=collection[: -len(suffix)]).first()
            if plan is not None:
                return plan, kind
    raise OgcNotFound(_("Collection %(id)s does not exist.") % {"id": collection}, code="collection_not_found")


def plan_extents(*, plan_ids: list[int]) -> dict[int, list[float]]:
    """Per plan of `plan_ids`, the CRS84 bounding box of its units (the box of the storage box, transformed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT plan_id, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (
                SELECT plan_id, ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, %s), %s) AS b
                FROM zoning_controlunit WHERE plan_id = ANY(%s) GROUP BY plan_id
            ) AS boxes
            """,
            [settings.STORAGE_SRID, settings.API_SRID, plan_ids],
        )
        return {row[0]: [round(v, COORDINATE_DIGITS) for v in row[1:]] for row in cursor.fetchall()}


_UNIT_COLUMNS = """
    u.code, json_build_object(
        'code', u.code, 'name', u.name, 'unit_class', u.unit_class,
        'adcode', d.adcode, 'division', d.name, 'area_m2', round(u.area_m2::numeric, 2)
    )::text
"""
_UNIT_FROM = "zoning_controlunit u JOIN zoning_administrativedivision d ON d.id = u.division_id"
_OVERLAY_COLUMNS = """
    u.code, json_build_object(
        'code', u.code, 'name', u.name, 'kind', u.kind, 'area_m2', round(u.area_m2::numeric, 2)
    )::text
"""
_OVERLAY_FROM = "zoning_overlay u"


def _geometry_sql(crs: OutputCrs) -> str:
    geom = "u.geom" if crs.srid == settings.STORAGE_SRID else f"ST_Transform(u.geom, {int(crs.srid)})"
    if crs.lat_first:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {COORDINATE_DIGITS})"


def _where(plan: ZoningPlan, bbox) -> tuple[str, list]:
    sql, params = "u.plan_id = %s", [plan.pk]
    if bbox is not None:
        sql += " AND ST_Intersects(u.geom, ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, %s), %s))"
        params += [*bbox, settings.API_SRID, settings.STORAGE_SRID]
    return sql, params


def _feature(code: str, properties: str, geometry: str) -> dict:
    return {"type": "Feature", "id": code, "geometry": json.loads(geometry), "properties": json.loads(properties)}


def features_page(
    *, plan: ZoningPlan, kind: str, crs: OutputCrs, bbox=None, limit: int, offset: int
) -> tuple[list[dict], int]:
    """One page of features ordered by code, and the number matched by the filters."""
    columns, table = (_UNIT_COLUMNS, _UNIT_FROM) if kind == KIND_UNITS else (_OVERLAY_COLUMNS, _OVERLAY_FROM)
    where, params = _where(plan, bbox)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}", params)  # noqa: S608 - fixed fragments
        matched = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT {columns}, {_geometry_sql(crs)} FROM {table} WHERE {where} "  # noqa: S608
            "ORDER BY u.code LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        features = [_feature(*row) for row in cursor.fetchall()]
    return features, matched


def feature_one(*, plan: ZoningPlan, kind: str, crs: OutputCrs, code: str) -> dict:
    columns, table = (_UNIT_COLUMNS, _UNIT_FROM) if kind == KIND_UNITS else (_OVERLAY_COLUMNS, _OVERLAY_FROM)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, {_geometry_sql(crs)} FROM {table} WHERE u.plan_id = %s AND u.code = %s",  # noqa: S608
            [plan.pk, code],
        )
        row = cursor.fetchone()
    if row is None:
        raise OgcNotFound(
            _("Feature %(id)s does not exist in %(collection)s.")
            % {"id": code, "collection": collection_id(plan.code, kind)},
            code="feature_not_found",
        )
    return _feature(*row)
