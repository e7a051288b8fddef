"""Synthetic change layers and control units for the scan benchmarks.

A landcover change raster in EPSG:32651 (10 m pixels, 256x256 deflate tiles) with
about ``change_frac`` changed pixels: 90 % in clustered elliptical patches (classes
1-4, a few to a few hundred pixels each) and 10 % single-pixel speckle, written strip
by strip so generating a 20000² file needs little memory. Units are Voronoi cells of
random points clipped to the raster extent and densified (many vertices, like real
unit boundaries), classed priority/key/general in Changchun's proportions (75/73/9).
"""

from __future__ import annotations

import math

import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import MultiPoint, box, mapping

from supervision.remote_sensing.raster import UnitShape

CRS = "EPSG:32651"
PX = 10.0
X0, Y0 = 300_000.0, 4_900_000.0


def transform():
    return from_origin(X0, Y0, PX, PX)


def write_changes(path, size: int, *, seed: int = 1, change_frac: float = 0.02, compress: str = "deflate") -> None:
    rng = np.random.default_rng(seed)
    mean_blob = math.pi * ((25**3 - 3**3) / (3 * 22)) * 0.75  # E[pi r^2 q], r ~ U(3, 25), q ~ U(0.5, 1)
    n_blobs = int(size * size * change_frac * 0.9 / mean_blob)
    rows = rng.uniform(0, size, n_blobs)
    cols = rng.uniform(0, size, n_blobs)
    radii = rng.uniform(3, 25, n_blobs)
    ratio = rng.uniform(0.5, 1.0, n_blobs)
    angle = rng.uniform(0, math.pi, n_blobs)
    classes = rng.integers(1, 5, n_blobs).astype(np.uint8)
    order = np.argsort(rows)
    rows, cols, radii, ratio, angle, classes = (a[order] for a in (rows, cols, radii, ratio, angle, classes))
    strip = 2048
    profile = dict(
        driver="GTiff",
        width=size,
        height=size,
        count=1,
        dtype="uint8",
        crs=CRS,
        transform=transform(),
        nodata=255,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress=compress,
    )
    with rasterio.open(path, "w", **profile) as ds:
        for r0 in range(0, size, strip):
            h = min(strip, size - r0)
            out = np.zeros((h, size), np.uint8)
            lo = np.searchsorted(rows, r0 - 26)
            hi = np.searchsorted(rows, r0 + h + 26)
            for i in range(lo, hi):
                r = radii[i]
                rr0, rr1 = int(rows[i] - r), int(rows[i] + r) + 1
                cc0, cc1 = int(cols[i] - r), int(cols[i] + r) + 1
                a0, a1 = max(rr0, r0), min(rr1, r0 + h)
                b0, b1 = max(cc0, 0), min(cc1, size)
                if a0 >= a1 or b0 >= b1:
                    continue
                yy, xx = np.mgrid[a0:a1, b0:b1]
                dy, dx = yy + 0.5 - rows[i], xx + 0.5 - cols[i]
                ca, sa = math.cos(angle[i]), math.sin(angle[i])
                u, v = dx * ca + dy * sa, -dx * sa + dy * ca
                inside = (u / r) ** 2 + (v / (r * ratio[i])) ** 2 <= 1.0
                out[a0 - r0 : a1 - r0, b0:b1][inside] = classes[i]
            srng = np.random.default_rng((seed, r0))
            n_speckle = srng.binomial(h * size, change_frac * 0.1)
            flat = out.reshape(-1)
            flat[srng.integers(0, h * size, n_speckle)] = srng.integers(1, 5, n_speckle).astype(np.uint8)
            ds.write(out, 1, window=rasterio.windows.Window(0, r0, size, h))


def make_units(size: int, n: int, *, seed: int = 2, segment_m: float = 100.0) -> list[UnitShape]:
    rng = np.random.default_rng(seed)
    extent = box(X0, Y0 - size * PX, X0 + size * PX, Y0)
    pts = np.column_stack([rng.uniform(X0, X0 + size * PX, n), rng.uniform(Y0 - size * PX, Y0, n)])
    cells = shapely.voronoi_polygons(MultiPoint(pts), extend_to=extent)
    polys = [g.intersection(extent) for g in cells.geoms]
    polys = [shapely.segmentize(p, segment_m) for p in polys if not p.is_empty]
    kinds = rng.choice(["priority", "key", "general"], size=len(polys), p=[75 / 157, 73 / 157, 9 / 157])
    return [UnitShape(i + 1, str(k), mapping(p)) for i, (p, k) in enumerate(zip(polys, kinds, strict=False))]
