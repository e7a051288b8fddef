"""Small scenes for scan tests: units drawn in the raster's own pixel grid, stored in CGCS2000.

A scene is a raster grid (CRS, origin, pixel size). Units are rectangles of pixel rows
and columns, transformed to STORAGE_SRID for the database, so a patch planted at
pixels (r0, c0)-(r1, c1) lies in a known unit whatever the raster CRS is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from pyproj import Transformer
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.ops import transform as shapely_transform

from tests.factories import PlanFactory, UnitFactory

# Near 南关区, Changchun.
LON0, LAT0 = 125.30, 43.85


@dataclass
class Scene:
    crs: str
    transform: Affine
    width: int
    height: int

    def pixel_box(self, r0: int, c0: int, r1: int, c1: int) -> ShapelyPolygon:
        t = self.transform
        corners = [t * (c, r) for c, r in ((c0, r0), (c1, r0), (c1, r1), (c0, r1))]
        return ShapelyPolygon(corners)

    def to_storage(self, geom) -> MultiPolygon:
        tr = Transformer.from_crs(self.crs, f"EPSG:{settings.STORAGE_SRID}", always_xy=True)
        g = shapely_transform(tr.transform, geom.segmentize(self._seg()))
        out = GEOSGeometry(g.wkt, srid=settings.STORAGE_SRID)
        return out if out.geom_type == "MultiPolygon" else MultiPolygon(out, srid=settings.STORAGE_SRID)

    def _seg(self) -> float:
        return abs(self.transform.a) * 10

    def write(self, path, data: np.ndarray, *, nodata=None, dtype=None, crs="same", blocksize=64) -> str:
        profile = {
            "driver": "GTiff",
            "width": self.width,
            "height": self.height,
            "count": 1,
            "dtype": dtype or data.dtype,
            "transform": self.transform,
            "tiled": True,
            "blockxsize": blocksize,
            "blockysize": blocksize,
            "compress": "deflate",
        }
        if crs is not None:
            profile["crs"] = self.crs if crs == "same" else crs
        if nodata is not None:
            profile["nodata"] = nodata
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data.astype(profile["dtype"]), 1)
        return str(path)


def scene_for(crs: str, *, size: int = 600, pixel: float | None = None) -> Scene:
    """A size x size grid whose top-left corner is at (LON0, LAT0 + a bit) in `crs`."""
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0 = tr.transform(LON0, LAT0)
    if pixel is None:
        pixel = 10.0 if not crs.endswith(("4326", "4490")) else 0.0001
    return Scene(crs, Affine(pixel, 0, x0, 0, -pixel, y0), size, size)


@pytest.fixture
def plan(db):
    return PlanFactory(code="rs-test")


def three_units(plan, scene: Scene, *, prefix: str = "ZH22010"):
    """Three columns of the scene: priority (cols 0-200), key (200-400), general (400-600)."""
    h = scene.height
    w3 = scene.width // 3
    units = {}
    for i, (cls, digit) in enumerate((("priority", 1), ("key", 2), ("general", 3))):
        box = scene.pixel_box(0, i * w3, h, (i + 1) * w3)
        units[cls] = UnitFactory(
            plan=plan, code=f"{prefix}2{digit}{i + 1:04d}", unit_class=cls, geom=scene.to_storage(box)
        )
    return units


def plant(data: np.ndarray, r0: int, c0: int, size: int, value: int) -> None:
    data[r0 : r0 + size, c0 : c0 + size] = value


@pytest.fixture
def small_windows(settings):
    settings.SCAN_WINDOW_SIZE = 256
    return 256


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHANGE_LAYER_DIR = str(tmp_path / "layers")
    return tmp_path
