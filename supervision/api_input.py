"""Input checks shared by every API: geometry + srid, JSON depth, NUL bytes, size limits.

Malformed input is refused here, at the edge, with a 4xx naming the field, before it
reaches GEOS, PROJ or PostgreSQL (which answer a malformed value with an exception
that would otherwise become a 500).
"""

from __future__ import annotations

import datetime
import json
import math
from functools import lru_cache
from typing import Any

import django_filters
from django.conf import settings
from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from supervision.errors import ServiceError

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")

GEOJSON_GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "GeoJSON geometry (Point, LineString, Polygon or Multi*), coordinates in `srid`",
    "properties": {
        "type": {"type": "string", "enum": list(GEOMETRY_TYPES)},
        "coordinates": {"type": "array", "items": {}},
    },
    "required": ["type", "coordinates"],
}


class PayloadTooLarge(ServiceError):
    """A request (or one of its fields) beyond a configured limit."""

    status_code = 413


# --- Reference systems ---------------------------------------------------------------------


@lru_cache(maxsize=512)
def srid_problem(srid: int) -> str | None:
    """None when `srid` is a horizontal CRS PostGIS and PROJ both know, else why not."""
    from django.db import connection

    if not 0 < srid < 2**31:
        return _("%(srid)s is not a known EPSG coordinate reference system.") % {"srid": srid}
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", [srid])
        known = cursor.fetchone() is not None
    try:
        ref = SpatialReference(srid) if known else None
    except (GDALException, ValueError):
        ref = None
    if ref is None:
        return _("%(srid)s is not a known EPSG coordinate reference system.") % {"srid": srid}
    if not (ref.geographic or ref.projected):
        return _("EPSG:%(srid)s is not a horizontal coordinate reference system.") % {"srid": srid}
    return None


@lru_cache(maxsize=512)
def srid_area_of_use(srid: int) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) in degrees where the CRS is valid, or None when unknown."""
    import pyproj

    try:
        area = pyproj.CRS.from_epsg(srid).area_of_use
    except pyproj.exceptions.CRSError:
        return None
    if area is None:
        return None
    return (area.west, area.south, area.east, area.north)


# --- GeoJSON geometry -----------------------------------------------------------------------


def _positions(coords: Any, depth: int, field: str) -> int:
    """Count the positions in a GeoJSON coordinates array, refusing any that is not 2-D/3-D numbers."""
    if not isinstance(coords, list):
        raise serializers.ValidationError(_("Not a valid GeoJSON geometry: coordinates must be arrays of numbers."))
    if depth == 0:
        if len(coords) not in (2, 3) or not all(
            isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in coords
        ):
            raise serializers.ValidationError(
                _("Not a valid GeoJSON geometry: every position must be 2 or 3 finite numbers (x, y[, z]).")
            )
        return 1
    return sum(_positions(c, depth - 1, field) for c in coords)


POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def geojson_parse(data: Any, *, field: str = "geometry") -> GEOSGeometry:
    """A GEOS geometry from a GeoJSON geometry object (or its text), within the vertex limit.

    Raises serializers.ValidationError (400) for anything malformed and PayloadTooLarge
    (413) past GEOMETRY_MAX_VERTICES; the SRID is left for `geometry_to_storage`.
    """
    if isinstance(data, str):
        if len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise PayloadTooLarge(
                _("%(field)s is too large.") % {"field": field}, code="too_large", problems=[f"{field}: too large"]
            )
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise serializers.ValidationError(_("Not a valid GeoJSON geometry: unreadable JSON.")) from None
    if not isinstance(data, dict):
        raise serializers.ValidationError(_("Not a valid GeoJSON geometry: expected a GeoJSON geometry object."))
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in POSITION_DEPTH:
        raise serializers.ValidationError(
            _("Not a valid GeoJSON geometry: type must be one of %(types)s.") % {"types": ", ".join(GEOMETRY_TYPES)}
        )
    count = _positions(data.get("coordinates"), POSITION_DEPTH[kind], field)
    limit = settings.GEOMETRY_MAX_VERTICES
    if count > limit:
        message = _("%(field)s has %(count)s vertices; at most %(limit)s are accepted.") % {
            "field": field,
            "count": count,
            "limit": limit,
        }
        raise PayloadTooLarge(message, code="too_many_vertices", problems=[f"{field}: {message}"])
    try:
        geom = GEOSGeometry(json.dumps({"type": kind, "coordinates": data["coordinates"]}))
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise serializers.ValidationError(
            _("Not a valid GeoJSON geometry: %(reason)s") % {"reason": str(exc) or "unreadable"}
        ) from None
    if geom.empty:
        raise serializers.ValidationError(_("Not a valid GeoJSON geometry: empty geometry"))
    if not geom.valid:
        raise serializers.ValidationError(_("Not a valid GeoJSON geometry: %(reason)s") % {"reason": geom.valid_reason})
    return geom


def geometry_to_storage(geom: GEOSGeometry, *, srid: int, field: str = "geometry") -> GEOSGeometry:
    """Declare `srid`, refuse impossible places, return a copy in STORAGE_SRID within the extent limit.

    Raises serializers.ValidationError keyed by field name (`srid` or `field`).
    """
    from supervision.zoning.selectors import geometry_transformed

    problem = srid_problem(srid)
    if problem:
        raise serializers.ValidationError({"srid": problem})
    geom = geom.clone()
    geom.srid = srid
    ref = SpatialReference(srid)
    if ref.geographic:
        xmin, ymin, xmax, ymax = geom.extent
        if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
            raise serializers.ValidationError(
                {field: _("longitude must lie within ±180 and latitude within ±90 degrees.")}
            )
    try:
        stored = geometry_transformed(geom, settings.STORAGE_SRID)
    except (GDALException, GEOSException) as exc:
        raise serializers.ValidationError(
            {field: _("cannot be transformed from EPSG:%(srid)s (%(reason)s).") % {"srid": srid, "reason": exc}}
        ) from None
    xmin, ymin, xmax, ymax = stored.extent
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or not (
        -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90
    ):
        raise serializers.ValidationError(
            {field: _("the coordinates are not a place on Earth in EPSG:%(srid)s.") % {"srid": srid}}
        )
    area = srid_area_of_use(srid)
    # A small margin: areas of use are rounded to a tenth of a degree or so.
    if area is not None and ref.projected:
        west, south, east, north = area
        margin = 1.0
        if xmin < west - margin or xmax > east + margin or ymin < south - margin or ymax > north + margin:
            raise serializers.ValidationError(
                {field: _("lies outside the area of use of EPSG:%(srid)s.") % {"srid": srid}}
            )
    limit = settings.GEOMETRY_MAX_EXTENT_DEGREES
    if xmax - xmin > limit or ymax - ymin > limit:
        raise serializers.ValidationError(
            {field: _("spans more than %(limit)s degrees; split it or draw it smaller.") % {"limit": limit}}
        )
    return stored


@extend_schema_field(GEOJSON_GEOMETRY_SCHEMA)
class GeoJSONGeometryField(serializers.Field):
    """A GeoJSON geometry object (or its JSON text), bounded; the SRID is applied by GeometrySridMixin."""

    def to_internal_value(self, data):
        return geojson_parse(data, field=self.field_name or "geometry")

    def to_representation(self, value):
        return json.loads(value.geojson)


class SridField(serializers.IntegerField):
    """The EPSG code of a geometry's coordinates: a horizontal CRS known to PostGIS."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", settings.API_SRID)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        kwargs.setdefault("help_text", "EPSG code of the coordinates (a horizontal CRS; default 4326)")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = srid_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class GeometrySridMixin:
    """Moves the geometry fields named in `geometry_fields` to storage using the `srid` field."""

    geometry_fields: tuple[str, ...] = ("geometry",)

    def validate(self, attrs):
        attrs = super().validate(attrs)  # type: ignore[misc]
        for name in self.geometry_fields:
            if attrs.get(name) is not None:
                attrs[name] = geometry_to_storage(attrs[name], srid=attrs["srid"], field=name)
        return attrs


# --- Strings and numbers --------------------------------------------------------------------

# PostgreSQL integer column bounds, for fields stored in one.
INT32_MAX = 2**31 - 1


# --- JSON bodies ----------------------------------------------------------------------------


def _json_problem(value: Any, depth: int, path: str) -> str | None:
    if depth > settings.API_JSON_MAX_DEPTH:
        return _("%(path)s: nested deeper than %(limit)s levels.") % {
            "path": path or "body",
            "limit": settings.API_JSON_MAX_DEPTH,
        }
    if isinstance(value, str):
        return _("%(path)s: contains a NUL character.") % {"path": path or "body"} if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return _("%(path)s: a key contains a NUL character.") % {"path": path or "body"}
            problem = _json_problem(item, depth + 1, f"{path}.{key}" if path else key)
            if problem:
                return problem
    elif isinstance(value, list):
        if value and all(isinstance(v, int | float) for v in value):
            return None  # a coordinate pair or a list of ids: nothing nested, no strings
        for i, item in enumerate(value):
            problem = _json_problem(item, depth + 1, f"{path}[{i}]")
            if problem:
                return problem
    return None


def body_too_large(request) -> str | None:
    """Why the request's body is refused for its size (by Content-Length), or None: the one rule.

    Multipart uploads have their own, larger limit (API_UPLOAD_MAX_BYTES); every other body
    DATA_UPLOAD_MAX_MEMORY_SIZE. The middleware (`config.api_limits`) asks it at the door of /api/,
    `BoundedJSONParser` wherever a DRF view reads a body.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    multipart = request.content_type == "multipart/form-data"
    limit = settings.API_UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or length <= limit:
        return None
    return _("The request body is %(size)s bytes; at most %(limit)s are accepted.") % {"size": length, "limit": limit}


class BoundedJSONParser(JSONParser):
    """JSON bodies within DATA_UPLOAD_MAX_MEMORY_SIZE, API_JSON_MAX_DEPTH deep, without NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        too_large = body_too_large(request) if request is not None else None
        if too_large is not None:
            raise PayloadTooLarge(too_large, code="request_too_large")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        problem = _json_problem(data, 0, "")
        if problem:
            raise ServiceError(problem, code="invalid", problems=[problem])
        return data


# --- Date-times -----------------------------------------------------------------------------

# PostgreSQL refuses UTC offsets beyond ±15:59; real ones lie within -12:00..+14:00.
MAX_UTC_OFFSET_HOURS = 14


def datetime_problem(value) -> str | None:
    offset = value.utcoffset() if isinstance(value, datetime.datetime) else None
    if offset is not None and abs(offset.total_seconds()) > MAX_UTC_OFFSET_HOURS * 3600:
        return _("the UTC offset must lie within ±%(hours)s:00.") % {"hours": MAX_UTC_OFFSET_HOURS}
    return None


class BoundedDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time whose UTC offset is one the database (and the Earth) has."""

    def to_internal_value(self, value):
        problem = datetime_problem(value) if not isinstance(value, str) else None
        if problem:
            raise serializers.ValidationError(problem)
        # Parse before Django converts it to the current time zone, which hides the offset.
        if isinstance(value, str):
            from django.utils.dateparse import parse_datetime

            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            problem = datetime_problem(parsed)
            if problem:
                raise serializers.ValidationError(problem)
        return super().to_internal_value(value)


# --- Filters ----------------------------------------------------------------------------------


class _BoundedIsoDateTimeFormField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        problem = datetime_problem(parsed)
        if problem:
            raise DjangoValidationError(problem, code="invalid")
        return parsed


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time filter refusing UTC offsets the database cannot store (400, not 500)."""

    field_class = _BoundedIsoDateTimeFormField
