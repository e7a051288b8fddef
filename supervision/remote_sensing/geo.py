"""Moving geometry between the database (STORAGE_SRID, GEOS) and a raster's CRS (shapely).

Vectors go to the raster's CRS, never the raster to the vectors' (STYLE.md "Rasters").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def _storage_crs() -> str:
    return f"EPSG:{settings.STORAGE_SRID}"


def _apply(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def storage_to_crs(geom: GEOSGeometry, crs_wkt: str) -> dict[str, Any]:
    """A stored geometry as a GeoJSON mapping in the raster CRS given as WKT."""
    if geom.srid != settings.STORAGE_SRID:
        geom = geom.transform(settings.STORAGE_SRID, clone=True)
    shp = shapely.from_wkb(bytes(geom.wkb))
    return mapping(_apply(shp, _transformer(_storage_crs(), crs_wkt)))


def shapes_to_storage_wkb(geoms: list[Any], crs_wkt: str) -> list[str]:
    """Shapely geometries (or GeoJSON mappings) in the raster CRS as hex EWKB in STORAGE_SRID.

    Hex EWKB is what PostGIS reads as geometry text (COPY, `::geometry`) and GEOS parses.
    One reprojection call for all coordinates and vectorised validity repair
    (`shapely.make_valid` where a ring self-touches).
    """
    if not geoms:
        return []
    arr = np.array([g if isinstance(g, shapely.Geometry) else shape(g) for g in geoms], dtype=object)
    arr = _apply(arr, _transformer(crs_wkt, _storage_crs()))
    bad = ~shapely.is_valid(arr)
    if bad.any():
        arr[bad] = shapely.make_valid(arr[bad])
    return list(shapely.to_wkb(shapely.set_srid(arr, settings.STORAGE_SRID), hex=True, include_srid=True))


def bounds_to_storage(bounds: tuple[float, float, float, float], crs_wkt: str) -> tuple[float, float, float, float]:
    """A bbox in the raster CRS as a bbox in STORAGE_SRID (edges densified, so it contains the box)."""
    return tuple(_transformer(crs_wkt, _storage_crs()).transform_bounds(*bounds, densify_pts=21))  # type: ignore[return-value]


def bounds_storage_to_crs(bounds: tuple[float, float, float, float], crs: str) -> tuple[float, float, float, float]:
    return tuple(_transformer(_storage_crs(), crs).transform_bounds(*bounds, densify_pts=21))  # type: ignore[return-value]
